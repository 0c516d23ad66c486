"""furu-client's public API, its independence from furu, and its generated models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import furu_client

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "generate_models.py"


def test_public_api_is_sorted_and_importable() -> None:
    # ruff's RUF022 order: CONSTANTS, then Classes, then the rest
    key = lambda n: (0 if n.isupper() and len(n) > 1 else 1 if n[:1].isupper() else 2, n)  # noqa: E731
    assert furu_client.__all__ == sorted(furu_client.__all__, key=key)
    assert len(set(furu_client.__all__)) == len(furu_client.__all__)
    for name in furu_client.__all__:
        assert getattr(furu_client, name) is not None


def test_the_client_never_imports_furu_or_the_server() -> None:
    code = (
        "import sys, furu_client; "
        "bad = {m for m in sys.modules if m.split('.')[0] in {'furu', 'furu_server', 'fastapi'}}; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_generated_models_match_the_committed_openapi_json() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
