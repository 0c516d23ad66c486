"""The migration helper's side that needs no subprocess: what a request becomes on the
`furu migrate` command line, and how the command's JSON is read (whatever it holds).

The requests run for real, in a project's environment, in tests-integration
(`test_it_server_migrate.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from furu_server._code_models import MigrationRequest
from furu_server._errors import ServerError
from furu_server._migrations import counts_of, migrate_args, plan_items


def test_a_request_becomes_furu_migrate_arguments() -> None:
    body = MigrationRequest(
        namespace="pkg.TrainModel",
        mode="only",
        values={"average": True, "name": "x y"},
        hashes=["3f9a", "b2c"],
        where={"data.n": 3},
    )
    assert migrate_args(body) == [
        "migrate",
        "pkg.TrainModel",
        "--default",
        "--set",
        "average=true",
        "--set",
        'name="x y"',
        "--hash",
        "3f9a",
        "--hash",
        "b2c",
        "--where",
        "data.n=3",
    ]
    # hashes only count in mode "only"
    assert "--hash" not in migrate_args(body.model_copy(update={"mode": "value"}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "value"}, "values"),
        ({"mode": "only"}, "hashes"),
        ({"mode": "only", "hashes": ["--yes"]}, "hashes"),
        ({"values": {"--set x": 1}}, "values"),
        ({"where": {"a=b": 1}}, "where"),
        ({"values": {"x": "y" * 200_000}}, "values"),
    ],
)
def test_a_request_that_cannot_be_a_migration_is_refused_before_anything_runs(
    body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ServerError) as raised:
        migrate_args(MigrationRequest(namespace="pkg.TrainModel", **body))
    assert raised.value.code == "invalid_request"
    assert raised.value.detail == {"field": field}
    assert f"`{field}`" in raised.value.message


def test_the_cli_json_is_read_and_anything_else_is_left_out() -> None:
    raw = {
        "namespace": "pkg.TrainModel",
        "counts": {"planned": 2, "failed": "many"},
        "migrations": [
            {
                "namespace": "pkg.TrainModel",
                "old_hash": "aaa",
                "new_hash": "bbb",
                "status": "planned",
                "reason": None,
                "via": None,
                "changes": [{"kind": "added", "field": "average", "old": None, "new": False}],
            },
            {
                "namespace": "pkg.Evaluate",
                "old_hash": "ccc",
                "new_hash": "ddd",
                "status": "planned",
                "via": "model",
                "changes": [{"kind": "dependency", "field": "model", "old": "aaa", "new": "bbb"}],
            },
            {"old_hash": 5, "new_hash": [], "status": {}, "reason": 3, "changes": "x"},
            "not an object",
        ],
    }
    first, second, odd = plan_items(raw, "pkg.TrainModel")
    assert (first.old_hash, first.new_hash, first.dependent) == ("aaa", "bbb", False)
    assert first.changes[0].kind == "added"
    assert first.changes[0].new is False
    assert (second.namespace, second.via, second.dependent) == ("pkg.Evaluate", "model", True)
    assert (odd.namespace, odd.old_hash, odd.new_hash, odd.status) == (
        "pkg.TrainModel",
        "?",
        None,
        "planned",
    )
    assert odd.changes == []
    assert counts_of(raw) == {"planned": 2}
    assert counts_of({"counts": []}) == {}
