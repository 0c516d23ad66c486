# The two commands of the README: `make demo` and `make test`. Both install uv when missing.
UV := python3 -m uv
CORE_ENV := .venv-core

.PHONY: setup demo test lint typecheck pytest bench

setup:
	@scripts/ensure-uv.sh
	@$(UV) sync --locked --all-packages --quiet

demo: setup
	$(UV) run --locked python examples/pipeline.py
	@echo "--- running the same pipeline again: everything is a cache hit ---"
	$(UV) run --locked python examples/pipeline.py

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .

# Strict type check of furu in an environment holding only furu-core's dependencies: this is
# what proves the core works without the server, the client or submitit.
typecheck: setup
	UV_PROJECT_ENVIRONMENT=$(CORE_ENV) $(UV) sync --locked --package furu-core \
		--no-default-groups --group typecheck --quiet
	$(CORE_ENV)/bin/mypy --config-file packages/furu-core/pyproject.toml packages/furu-core/src/furu
	$(CORE_ENV)/bin/python -c "import furu, sys; bad = {'fastapi', 'uvicorn', 'pydantic', 'httpx', 'submitit'} & set(sys.modules); assert not bad, bad"

pytest: setup
	$(UV) run --locked pytest

test: lint typecheck pytest

bench: setup
	$(UV) run --locked python benchmarks/run_all.py
