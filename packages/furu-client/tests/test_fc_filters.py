"""The filter builder: trees, text form, and mistakes it refuses."""

from __future__ import annotations

import pytest

from furu_client import Condition, F, all_of, any_of


def test_comparisons_build_leaves() -> None:
    assert (F.config.lr < 1e-3).to_json() == {"op": "lt", "path": "config.lr", "value": 0.001}
    assert (F.status == "success").to_json() == {"op": "eq", "path": "status", "value": "success"}
    assert (F.config.layers[0] >= 64).to_json()["path"] == "config.layers[0]"
    weird = F("config.weird-key")
    assert (weird != None).to_json() == {  # noqa: E711
        "op": "ne",
        "path": "config.weird-key",
        "value": None,
    }
    assert F.config["contains"].exists().to_json() == {"op": "exists", "path": "config.contains"}
    assert F.runtime.between(1, 2).to_json() == {
        "op": "between",
        "path": "runtime",
        "low": 1,
        "high": 2,
    }
    assert F.config.seed.isin(1, 2).to_json() == {
        "op": "in",
        "path": "config.seed",
        "values": [1, 2],
    }
    assert F.tags.contains("best").to_json()["op"] == "contains"
    assert F.name.matches("^a").to_json() == {"op": "regex", "path": "name", "value": "^a"}
    assert F.namespace.startswith("pkg.").to_json()["op"] == "startswith"


def test_combinations_flatten_and_print() -> None:
    f = (F.config.lr < 1e-3) & (F.status == "success") & ~F.tags.contains("broken")
    tree = f.to_json()
    assert tree["op"] == "and"
    assert len(tree["args"]) == 3
    assert tree["args"][2] == {
        "op": "not",
        "arg": {"op": "contains", "path": "tags", "value": "broken"},
    }
    assert str(f) == 'config.lr < 0.001 and status = "success" and not tags contains "broken"'
    g = (F.a == 1) | ((F.b == 2) & (F.c == 3))
    assert g.to_text() == "a = 1 or (b = 2 and c = 3)"
    assert all_of().to_text() == "true"
    assert any_of().to_text() == "false"
    assert all_of(F.a.exists(), F.b.exists()) == (F.a.exists() & F.b.exists())


def test_mistakes_are_refused() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(F.a == 1)
    with pytest.raises(TypeError, match="filter values"):
        F.a == [1, 2]  # noqa: B015
    with pytest.raises(ValueError, match="name a field"):
        F == 1  # noqa: B015
    assert isinstance(repr(F.a < 1), str)
    assert isinstance(F.a < 1, Condition)
