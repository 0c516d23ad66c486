"""The OpenAPI document of the API, as committed in `packages/furu-server/openapi.json`.

furu-client's models and the dashboard's types are generated from that file, so it is a
contract: `furu-dashboard openapi --output packages/furu-server/openapi.json` rewrites it, and a
test fails when the committed file differs from what the app generates.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The document the app serves at `/api/openapi.json` (built without touching any store)."""
    from furu_server._app import create_app
    from furu_server._settings import ServerSettings

    with tempfile.TemporaryDirectory(prefix="furu-openapi-") as tmp:
        settings = ServerSettings(root=Path(tmp) / "store", cache_dir=Path(tmp) / "cache")
        app = create_app(settings, start_refresher=False)
        document: dict[str, Any] = app.openapi()
        app.state.services.index.stop()
    return document


def openapi_text() -> str:
    """The document as the committed file holds it (stable key order, a final newline)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=False) + "\n"
