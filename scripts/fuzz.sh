#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS seconds (default 10) and prints libFuzzer's
# executions per second. Installs cargo-fuzz from crates.io when missing. Uses the nightly
# toolchain when there is one; otherwise the stable one with RUSTC_BOOTSTRAP and no sanitizer.
# Corpora grow under fuzz/corpus (ignored by git), seeded from fuzz/seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-10}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (crates.io)"
    cargo install --quiet --locked cargo-fuzz
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    FUZZ=(cargo +nightly fuzz)
    SANITIZER=()
else
    export RUSTC_BOOTSTRAP=1
    FUZZ=(cargo fuzz)
    SANITIZER=(--sanitizer none)
fi
for target in mrz aamva; do
    mkdir -p "fuzz/corpus/$target"
    log="$(mktemp)"
    if ! "${FUZZ[@]}" run "${SANITIZER[@]}" --release "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: target $target failed (crash input under fuzz/artifacts/$target)" >&2
        exit 1
    fi
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
    echo "fuzz: $target: $runs executions in ${SECONDS_PER_TARGET}s ($((runs / SECONDS_PER_TARGET))/s), no crash"
    rm -f "$log"
done
