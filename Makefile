# Every task of the project. Each target sets itself up on a fresh machine (Python 3.11 + make).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
UV := $(BIN)/uv
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup chromium demo up down test unit lint format typecheck bench chaos docs lock migrate stack check-deploy images clean

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip install -q --python $(BIN)/python -r requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP) chromium ## create .venv with the locked dependencies (and Chromium for the browser tests)

# The console's browser tests drive Debian's Chromium through Playwright (never `playwright install`);
# its PDF reports need pango (WeasyPrint) and a font.
SYSTEM_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
chromium:
	@{ command -v chromium >/dev/null && ldconfig -p | grep -q libpangoft2-1.0 \
		&& fc-list 2>/dev/null | grep -qi dejavu; } || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Chromium and pango for the browser tests and the PDF reports (apt-get)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null \
				|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null; }; \
		else \
			echo "The browser tests and PDF reports need: sudo apt-get install -y $(SYSTEM_PACKAGES)" >&2; exit 1; \
		fi; }

lock: ## re-resolve requirements.lock from pyproject.toml
	@test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q "uv==$(UV_VERSION)")
	$(UV) pip compile -q pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock
	@# The runtime lock (the images) with hashes: uv pip install refuses a package that differs.
	$(UV) pip compile -q pyproject.toml --universal --python-version 3.11 --generate-hashes -o requirements-runtime.lock

demo: setup ## run the main job on sample data over the embedded stack
	$(BIN)/werkbank demo

up: setup ## start the embedded stack and the services in the background (until make down)
	$(BIN)/werkbank up --detach

down: setup ## stop what 'make up' started
	$(BIN)/werkbank down

stack: setup ## start only the embedded stack (NATS, PostgreSQL, SMTP and SMS sinks)
	$(BIN)/python -m werkbank.stack up

migrate: setup ## apply every service's migrations (uses the services' *_DATABASE_URL)
	$(BIN)/werkbank-matching migrate && $(BIN)/werkbank-booking migrate && $(BIN)/werkbank-notify migrate \
		&& $(BIN)/werkbank-console migrate

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: setup ## mypy, strict
	$(BIN)/mypy shared services werkbank bench tests

unit: setup ## only the pure tests, without servers
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test: setup lint typecheck ## lint, typecheck and the whole suite against real servers
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup ## every benchmark; prints BENCH lines and writes var/bench.json
	$(BIN)/python -m bench

chaos: setup ## fault injection (~5 min): kills every part in turn under load; prints a table, fails on loss
	$(BIN)/python -m bench.chaos

docs: setup ## generate the AsyncAPI document into docs/asyncapi.yaml
	$(BIN)/python -m werkbank.asyncapi docs/asyncapi.yaml

check-deploy: setup ## render the Kubernetes manifests; kubernetes-validate, CRD schemas, checkov, promtool, tests/deploy
	@command -v kubectl >/dev/null || { echo "make check-deploy needs kubectl 1.32 or newer (kustomize is built in):" \
		"https://kubernetes.io/docs/tasks/tools/ (Debian/Ubuntu: apt-get install kubectl from pkgs.k8s.io)" >&2; exit 1; }
	@# checkov pins many dependencies: it gets its own virtualenv, outside requirements.lock.
	@test -x .venv-deploy/bin/python || $(PYTHON) -m venv .venv-deploy
	@echo '*' > .venv-deploy/.gitignore
	@test .venv-deploy/.installed -nt deploy/requirements-check.txt || { \
		.venv-deploy/bin/python -m pip install -q --disable-pip-version-check -r deploy/requirements-check.txt \
		&& touch .venv-deploy/.installed; }
	@bash deploy/install-promtool.sh
	rm -rf var/rendered
	$(BIN)/python -m tests.deploy.rendering var/rendered
	.venv-deploy/bin/kubernetes-validate --strict --quiet -k 1.32.0 var/rendered/core/*.yaml
	.venv-deploy/bin/python tests/deploy/crd_validation.py var/rendered/all/*.yaml
	.venv-deploy/bin/checkov --config-file deploy/k8s/checkov.yaml -d var/rendered/all
	WERKBANK_REQUIRE_DEPLOY_TOOLS=1 $(BIN)/pytest -q tests/deploy $(PYTEST_ARGS)

# Releases pin the base image by digest: the tag python:3.11-slim-bookworm moves with every Debian
# and Python patch. Take the digest from `docker buildx imagetools inspect python:3.11-slim-bookworm`
# at release time; this target refuses a base image named by tag alone.
IMAGE_TAG ?= 0.1.0
images: ## build the service images: make images PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest>
	$(if $(findstring @sha256:,$(PYTHON_IMAGE)),,$(error PYTHON_IMAGE must name the base image by digest, e.g. PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest>))
	for service in matching booking notify console; do \
		docker build --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) -f services/$$service/Dockerfile \
			-t werkbank-$$service:$(IMAGE_TAG) . || exit 1; \
	done

clean: ## remove the virtualenv and runtime files
	rm -rf $(VENV) .venv-deploy var .mypy_cache .ruff_cache .pytest_cache
