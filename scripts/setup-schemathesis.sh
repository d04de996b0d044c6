#!/usr/bin/env bash
# The OpenAPI conformance test's tool: schemathesis from PyPI, pinned and hash-checked by
# scripts/requirements-schemathesis.txt, in a throwaway venv under the cache (made once, made
# again when the requirements change). Prints the path of its `schemathesis` executable.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
requirements="$here/requirements-schemathesis.txt"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/idgate/schemathesis-venv"
stamp="$venv/requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if [[ ! -x "$venv/bin/schemathesis" || ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  echo "setup: creating the schemathesis environment in $venv" >&2
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: -r "$requirements" >&2
  echo "$wanted" > "$stamp"
fi
echo "$venv/bin/schemathesis"
