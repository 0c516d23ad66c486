"""The examples of docs/filter-language.md parse, compile, and mean what the docs say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from furu_client import F, all_of
from furu_server import compile_filter, parse_filter, to_text

DOC = Path(__file__).resolve().parents[1] / "docs" / "filter-language.md"
BLOCKS = re.findall(r"```text\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
EXAMPLES = [
    line.strip()
    for block in BLOCKS
    if ":=" not in block  # the grammar
    for line in block.splitlines()
    if line.strip()
]


def test_the_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("text", EXAMPLES)
def test_every_text_example_parses_and_compiles(text: str) -> None:
    expr = parse_filter(text)
    assert expr is not None
    compile_filter(expr)
    assert parse_filter(to_text(expr)) == expr


def test_the_builder_example_is_the_text_example() -> None:
    f = (F.config.lr < 1e-3) & (F.status == "success")
    parsed = parse_filter("config.lr < 1e-3 and status = success")
    assert parsed is not None
    assert f.to_json() == parsed.model_dump()
    assert str(f) == 'config.lr < 0.001 and status = "success"'
    both = all_of(F.status == "success", F.config.lr < 0.1)
    assert both.to_json()["op"] == "and"


def test_the_error_example_is_what_the_api_answers(api: TestClient) -> None:
    got = api.post("/api/filters/parse", json={"query": "config.lr < "}).json()
    shown = '"position": 12, "token": "", "text": "config.lr < "'
    assert shown in DOC.read_text(encoding="utf-8")
    assert got["error"]["detail"] == {"position": 12, "token": "", "text": "config.lr < "}
    assert got["error"]["message"].startswith(
        "expected a value (a number, true, false, null, or text)"
    )
