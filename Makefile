# idgate: `make run` starts the service, `make test` runs every test. Both install what is
# missing first (Debian packages, ONNX Runtime, models), idempotently.

CARGO ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup run test bench lint calibrate fuzz browser-deps screenshots

setup:
	@bash scripts/setup-system.sh
	@python3 scripts/setup.py

run: setup
	$(CARGO) run --release --locked -- serve

# Tests build in the release profile (PostgreSQL is started and its URL handed over first): the same artefacts as `make run` and `make bench`,
# and the image/video loops run at full speed. IDGATE_REQUIRE_DATA=1: a test whose ../shared/data file or database is
# missing fails with one line naming it (a plain `cargo test` prints SKIP and goes on). schemathesis (PyPI, pinned,
# hash-checked) is installed in a throwaway venv and handed over for the OpenAPI conformance test.
test: setup browser-deps
	IDGATE_REQUIRE_DATA=1 IDGATE_REQUIRE_BROWSER=1 IDGATE_TEST_DATABASE_URL="$$(bash scripts/setup-postgres.sh)" \
	  IDGATE_SCHEMATHESIS="$$(bash scripts/setup-schemathesis.sh)" $(CARGO) test --release --locked --workspace
	bash scripts/fuzz.sh 10

# playwright-core from npm, pinned by tests/browser/package-lock.json (no browser download:
# it drives Debian's /usr/bin/chromium, installed by setup).
browser-deps:
	@bash scripts/setup-system.sh --browser
	@test -d tests/browser/node_modules/playwright-core || npm ci --silent --no-audit --no-fund --prefix tests/browser

# Refresh the README's screenshots of the candidate flow and the console (docs/screenshots).
screenshots: setup browser-deps
	IDGATE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(CARGO) test --release --locked --test api -- browser:: console::reviewers_and_auditors

bench: setup
	$(CARGO) bench --locked --bench face_pipeline
	$(CARGO) bench --locked --bench document
	$(CARGO) bench --locked --bench liveness
	$(CARGO) bench --locked --bench planarity
	$(CARGO) bench --locked --bench verify
	$(CARGO) bench --locked --bench face_search
	IDGATE_TEST_DATABASE_URL="$$(bash scripts/setup-postgres.sh)" $(CARGO) bench --locked --bench service

# The MRZ and AAMVA parsers under libFuzzer, FUZZ_SECONDS per target (make test runs 10 s).
FUZZ_SECONDS ?= 300
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

# The shipped threshold comes from this (see README, "Threshold").
calibrate: setup
	$(CARGO) run --release --locked -- calibrate --dir ../shared/data/faces_hard --fmr 1e-3 --fmr 1e-4 --fmr 1e-5
