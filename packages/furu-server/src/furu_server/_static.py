"""Serving the built dashboard: its assets, and `index.html` for every client-side route.

`StaticFiles(html=True)` answers 404 for a route like `/experiments/x` that only the frontend's
router knows, so every GET outside `/api/` that is not a file falls back to `index.html`.
Without a built frontend (`furu_server/static/` is git-ignored and built by the frontend's own
build), a small page says how to build it and where the API is.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from furu_server._errors import ErrorCode, ServerError

PACKAGED = Path(__file__).resolve().parent / "static"
NOT_BUILT = """<!doctype html>
<html><head><meta charset="utf-8"><title>furu dashboard</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>furu</h1>
<p>The dashboard's frontend is not built into this installation. The API is running:
<a href="/api/docs">/api/docs</a>, <a href="/api/experiments">/api/experiments</a>.</p>
<p>Build the frontend (see the repository's <code>frontend/</code>), or install a released
<code>furu-server</code> wheel, which ships it.</p>
</body></html>
"""


def add_frontend(app: FastAPI, static_dir: Path | None) -> None:
    """Serve `static_dir` (default: the packaged build) at `/`, with the SPA fallback."""
    base = (static_dir or PACKAGED).resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def frontend(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            raise ServerError(
                ErrorCode.ROUTE_NOT_FOUND, f"no route '/{path}'; the API's routes are at /api/docs."
            )
        index = base / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT)
        # A name with a NUL byte is no file (the OS refuses it): it falls back like any route.
        candidate = os.path.realpath(base / path) if path and "\x00" not in path else ""
        inside = candidate.startswith(str(base) + os.sep)
        if inside and os.path.isfile(candidate):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
