#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432 and print a URL the tests can use
# (a role allowed to create databases). Idempotent; installs Debian's postgresql if needed.
set -euo pipefail

url_ok() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "setup: installing postgresql" >&2
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

for url in "postgres://postgres@127.0.0.1:5432/test" "postgres://postgres:postgres@127.0.0.1:5432/test"; do
  if url_ok "$url"; then echo "$url"; exit 0; fi
done

# A fresh Debian cluster: password auth over TCP and no `test` database yet.
run_pg() { if [[ $(id -u) -eq 0 ]]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi; }
run_pg "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
run_pg "createdb test" >&2 2>/dev/null || true
url="postgres://postgres:postgres@127.0.0.1:5432/test"
url_ok "$url" || { echo "setup: cannot connect to PostgreSQL at $url" >&2; exit 1; }
echo "$url"
