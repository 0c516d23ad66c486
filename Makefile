# The two commands of the README: `make demo` and `make test`. Both install uv when missing.
UV := python3 -m uv
CORE_ENV := .venv-core
SLURM_ENV := .venv-slurm
SERVER_ENV := .venv-server
CLIENT_ENV := .venv-client

.PHONY: setup demo test lint typecheck pytest bench contract contract-check frontend frontend-build

setup:
	@scripts/ensure-uv.sh
	@$(UV) sync --locked --all-packages --quiet

demo: setup frontend-build
	$(UV) run --locked python examples/pipeline.py
	@echo "--- running the same pipeline again: everything is a cache hit ---"
	$(UV) run --locked python examples/pipeline.py
	@echo "--- the dashboard over this store (open the URL below; Ctrl-C stops it) ---"
	$(UV) run --locked furu-dashboard serve --host 127.0.0.1

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .

# Strict type check of furu in an environment holding only furu-core's dependencies: this is
# what proves the core works without the server, the client or submitit.
typecheck: setup
	UV_PROJECT_ENVIRONMENT=$(CORE_ENV) $(UV) sync --locked --package furu-core \
		--no-default-groups --group typecheck --quiet
	$(CORE_ENV)/bin/mypy --config-file packages/furu-core/pyproject.toml packages/furu-core/src/furu \
		packages/furu-core/src/_furu_pytest_plugin.py
	$(CORE_ENV)/bin/python -c "import furu, sys; bad = {'fastapi', 'uvicorn', 'pydantic', 'httpx', 'submitit'} & set(sys.modules); assert not bad, bad"
	UV_PROJECT_ENVIRONMENT=$(SLURM_ENV) $(UV) sync --locked --package furu-slurm \
		--no-default-groups --group typecheck --quiet
	$(SLURM_ENV)/bin/mypy --config-file packages/furu-slurm/pyproject.toml packages/furu-slurm/src/furu_slurm
	UV_PROJECT_ENVIRONMENT=$(SERVER_ENV) $(UV) sync --locked --package furu-server \
		--no-default-groups --group typecheck --quiet
	$(SERVER_ENV)/bin/mypy --config-file packages/furu-server/pyproject.toml packages/furu-server/src/furu_server
	UV_PROJECT_ENVIRONMENT=$(CLIENT_ENV) $(UV) sync --locked --package furu-client \
		--no-default-groups --group typecheck --quiet
	$(CLIENT_ENV)/bin/mypy --config-file packages/furu-client/pyproject.toml packages/furu-client/src/furu_client
	$(CLIENT_ENV)/bin/python -c "import furu_client, sys; bad = {'furu', 'furu_server', 'fastapi'} & set(sys.modules); assert not bad, bad"

pytest: setup
	$(UV) run --locked pytest

test: lint typecheck frontend pytest

# The dashboard (frontend/): install exactly the lock, fail when its API types drifted from
# openapi.json, lint, type-check, unit-test, and build it into furu_server/static (git-ignored),
# where `furu-dashboard serve` and the browser tests find it and the wheel picks it up.
frontend:
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	cd frontend && npm run --silent typegen:check
	cd frontend && npm run --silent lint
	cd frontend && npm run --silent typecheck
	cd frontend && npm run --silent test
	cd frontend && npm run --silent build

# Only the build (for `make demo`): install the lock when it changed, then build.
frontend-build:
	cd frontend && (test -d node_modules && test node_modules/.package-lock.json -nt package-lock.json \
		|| npm ci --no-audit --no-fund --loglevel=error)
	cd frontend && npm run --silent build

bench: setup
	$(UV) run --locked python benchmarks/run_all.py

# The API's contract: regenerate openapi.json and furu-client's models from the server ...
contract: setup
	$(UV) run --locked furu-dashboard openapi --output packages/furu-server/openapi.json
	$(UV) run --locked python packages/furu-client/scripts/generate_models.py

# ... or fail when either is out of date (CI runs this; the tests check it too).
contract-check: setup
	$(UV) run --locked furu-dashboard openapi | diff -u packages/furu-server/openapi.json - \
		|| (echo "openapi.json is stale: run make contract" && exit 1)
	$(UV) run --locked python packages/furu-client/scripts/generate_models.py --check
