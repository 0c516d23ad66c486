"""Schemathesis against the committed `openapi.json`: generated requests (valid and not) to the
real app over a store made by real steps must get schema-conforming answers and never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from server_fixtures import AUTH, build_store

from furu_server import create_app
from furu_server._openapi import COMMITTED

SCHEMA = COMMITTED
OPERATIONS = sorted(
    op["operationId"]
    for path in json.loads(SCHEMA.read_text(encoding="utf-8"))["paths"].values()
    for op in path.values()
)
EXAMPLES = 15


@pytest.fixture(scope="module")
def committed_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The committed document (not the one the app generates), sent to the app in-process."""
    built = build_store(tmp_path_factory.mktemp("schemathesis"))
    app: FastAPI = create_app(built.settings(), start_refresher=False)  # Host: testserver
    app.state.services.index.refresh()
    loaded = schemathesis.openapi.from_path(SCHEMA)
    loaded.app = app
    yield loaded
    app.state.services.runs.stop_all()
    app.state.services.tasks.stop_all()
    app.state.services.index.stop()


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_the_api_conforms_to_its_schema(
    committed_schema: schemathesis.BaseSchema, operation_id: str
) -> None:
    operation = committed_schema.find_operation_by_id(operation_id)
    codes: list[str] = []

    @given(operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        # Every other check runs. "Schema-valid data is accepted" cannot hold here: the filter
        # language's grammar (and a filter's field names) are not expressible in JSON Schema,
        # so a schema-valid `query` may still be a 400 filter_syntax, by design.
        response = case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])
        if response.status_code >= 400:
            codes.append(response.json()["error"]["code"])
        else:
            codes.append("ok")

    check()
    guarded = {"host_not_allowed", "origin_not_allowed", "unauthorized"}
    assert set(codes) - guarded, f"every request was refused by a guard: {codes}"
