"""furu's tagged JSON read without code: leaves, class references and Python, against the golden
cases the server's and the dashboard's tests read too."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import furu
from furu import ClassRef, config_leaves, render_config, untag

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "tagged_json_golden.json").read_text())
CASES = GOLDEN["cases"]


def _comparable(value: Any) -> Any:
    """Non-finite floats as the strings the golden file writes them as."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_leaves_match_the_golden_cases(case: dict[str, Any]) -> None:
    leaves = [[path, _comparable(value)] for path, value in config_leaves(case["config"])]
    assert leaves == case["leaves"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_matches_the_golden_cases(case: dict[str, Any]) -> None:
    rendered = render_config(case["config"])
    assert rendered.expression == case["python"]
    assert list(rendered.imports) == case["imports"]
    assert rendered.exact is case["exact"]
    compile("\n".join([*rendered.imports, rendered.expression]), "<golden>", "exec")


def test_class_reference_forms() -> None:
    ref = ClassRef.parse("pkg.mod:Outer.Inner")
    assert (ref.module, ref.qualname, ref.namespace, ref.name) == (
        "pkg.mod",
        "Outer.Inner",
        "pkg.mod.Outer.Inner",
        "Inner",
    )
    assert str(ref) == "pkg.mod:Outer.Inner"
    assert ClassRef.parse("pkg.mod.Outer.Inner") == ref  # an older record: split at a capital
    assert ClassRef.parse("pkg.lower") == ClassRef("pkg", "lower")
    assert ClassRef.of(furu.Store) == ClassRef("furu._workspace", "Store")


def test_what_to_dict_writes_reads_back_as_the_same_leaves() -> None:
    from core_test_steps import Everything

    config = Everything().to_dict()
    assert str(ClassRef.parse(config["__class__"])) == config["__class__"]
    leaves = dict(config_leaves(config))
    assert leaves["__class__"] == "core_test_steps.Everything"
    assert all(not isinstance(v, dict) or v == {} for v in leaves.values())


def test_untag_leaves_plain_values_alone() -> None:
    assert untag({"a": 1}) == {"a": 1}
    assert untag({"__class__": "p:T"}) == {"__class__": "p:T"}
    assert untag([1, 2]) == [1, 2]
    assert untag({"__tuple__": [1]}) == [1]
