"""The committed OpenAPI document and the public API of furu_server."""

from __future__ import annotations

import json
import subprocess
import sys

import furu_server
from furu_server._openapi import COMMITTED, openapi_document, openapi_text


def test_the_committed_openapi_json_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        f"{COMMITTED} is out of date. Regenerate it (and furu-client's models): "
        "furu-dashboard openapi --output packages/furu-server/openapi.json && "
        "python packages/furu-client/scripts/generate_models.py"
    )


def test_every_operation_has_a_stable_id_and_documents_errors() -> None:
    document = openapi_document()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(i[0].islower() and "_" not in i for i in ids)
    for path in document["paths"].values():
        for op in path.values():
            assert "4XX" in op["responses"], op["operationId"]
    codes = document["components"]["schemas"]["ErrorCode"]["enum"]
    assert set(codes) == {c.value for c in furu_server.ErrorCode}


def test_public_api_is_sorted_and_importable() -> None:
    # ruff's RUF022 order: CONSTANTS, then Classes, then the rest
    key = lambda n: (0 if n.isupper() and len(n) > 1 else 1 if n[:1].isupper() else 2, n)  # noqa: E731
    assert furu_server.__all__ == sorted(furu_server.__all__, key=key)
    assert len(set(furu_server.__all__)) == len(furu_server.__all__)
    for name in furu_server.__all__:
        assert getattr(furu_server, name) is not None


def test_the_openapi_command_prints_the_document() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "furu_server", "openapi"], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["info"]["title"] == "furu-server"


def test_importing_the_core_does_not_import_the_server() -> None:
    code = "import furu, sys; assert not any(m.startswith('furu_server') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
