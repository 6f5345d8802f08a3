# One runner for people and CI: `make help`.
CARGO   ?= cargo
JOBS    ?= 2
TARGET  := x86_64-unknown-linux-gnu
BIN_DIR := target/$(TARGET)/release
FUNCTIONS := $(notdir $(wildcard functions/*))
SHARED_CRDS ?= ../shared/crds
REGISTRY ?= ghcr.io/lummo/krm-functions
# Conformance also renders with the images (needs Docker); KPT_IMAGES=0 skips that.
KPT_IMAGES ?= 1
# Static binaries for FROM-scratch images and for kpt `exec:`.
STATIC  := RUSTFLAGS="-C target-feature=+crt-static"

.PHONY: help deps build test unit catalog images conformance schemas schemas-check generate generate-check examples demo environments k8s-validate checkov fuzz bench bench-smoke clean images

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

build: ## Static release binaries of every function, the kpt-catalog exec binary and the lummo CLI
	$(STATIC) $(CARGO) build -j$(JOBS) --release --target $(TARGET) $(addprefix -p ,$(FUNCTIONS)) -p kpt-catalog -p lummo-cli

test: deps build unit catalog schemas-check generate-check k8s-validate images conformance environments checkov bench-smoke ## Everything CI runs

deps: ## Python tools the checks use (from PyPI), installed when missing
	@python3 -c 'import kubernetes_validate' 2>/dev/null || python3 -m pip install -q 'kubernetes-validate==1.37.0'
	@command -v checkov >/dev/null || python3 -m pip install -q 'checkov==3.3.30'

unit: ## Unit and golden tests of the workspace
	$(CARGO) test -j$(JOBS) --workspace

catalog: ## The kpt function catalog's own examples with our kpt-catalog binary, through the real kpt (when ../shared is present)
	@if [ -d ../shared/catalog-examples ]; then \
	  $(CARGO) build -q -j$(JOBS) -p kpt-catalog --bin kpt-catalog && \
	  python3 scripts/catalog-examples.py target/debug/kpt-catalog ../shared/catalog-examples; \
	else echo "catalog: ../shared/catalog-examples absent, skipped"; fi

images: build ## One FROM-scratch image per function, tagged $(REGISTRY)/<fn>:v<version>
	BIN_DIR=$(BIN_DIR) REGISTRY=$(REGISTRY) scripts/images.sh

conformance: build ## Render every Kptfile.examples package with the real kpt (exec and images)
	BIN_DIR=$(BIN_DIR) KPT_IMAGES=$(KPT_IMAGES) scripts/kpt-conformance.sh

schemas: ## Re-extract schemas/upstream from ../shared/crds
	$(CARGO) run -q -j$(JOBS) -p xtask -- extract-schemas $(SHARED_CRDS) schemas/upstream

schemas-check: ## Fail when schemas/upstream is stale (skipped only when ../shared is absent)
	@if [ -d $(SHARED_CRDS) ]; then \
	  $(CARGO) run -q -j$(JOBS) -p xtask -- extract-schemas $(SHARED_CRDS) schemas/upstream --check; \
	else echo "schemas-check: $(SHARED_CRDS) absent, using the committed copy"; fi

examples: build ## Re-render Kptfile.examples in place (review the diff)
	BIN_DIR=$(BIN_DIR) scripts/render-examples.sh

fuzz: ## Every fuzz target for FUZZ_SECONDS (default 60) each (cargo install cargo-fuzz)
	scripts/fuzz.sh

checkov: build ## checkov on every rendered example and environment (skips, with reasons, in security/checkov.yaml)
	BIN_DIR=$(BIN_DIR) scripts/checkov.sh

k8s-validate: ## Every built-in object of every golden and example against the Kubernetes 1.33 schema
	python3 scripts/k8s_validate.py

environments: build ## Render environments/<env> (kustomize overlays of one base) and compare
	BIN_DIR=$(BIN_DIR) scripts/environments.sh

generate: ## Write the JSON Schemas, CRDs and reference docs of the Lummo kinds
	$(CARGO) run -q -j$(JOBS) -p xtask -- generate

generate-check: ## Fail when generated schemas, CRDs or docs are stale
	$(CARGO) run -q -j$(JOBS) -p xtask -- generate --check

demo: build ## Render the README's example package and print the result
	BIN_DIR=$(BIN_DIR) scripts/demo.sh

bench: build ## Benchmarks of BENCHMARKS.md (several minutes)
	BIN_DIR=$(BIN_DIR) scripts/bench.sh

bench-smoke: build ## The benchmarks, quickly, to prove they run (CI)
	BENCH_QUICK=1 BIN_DIR=$(BIN_DIR) scripts/bench.sh

clean:
	$(CARGO) clean
