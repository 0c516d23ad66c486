"""The FastAPI application: routes, the error envelope, the guards, the index's lifecycle.

`create_app(settings)` builds everything; nothing happens at import time. The index refresher
starts with the app (its lifespan) and stops with it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from furu_server._errors import ErrorCode, ServerError
from furu_server._models import ErrorResponse
from furu_server._runs import Runs
from furu_server._security import GuardMiddleware, HostPolicy, new_token
from furu_server._settings import ServerSettings
from furu_server._tasks import Tasks
from furu_server.index._database import IndexPathError
from furu_server.index._index import Index
from furu_server.routes import Services, api_router

_log = logging.getLogger("furu_server")


def _envelope(code: ErrorCode, message: str, detail: dict[str, Any] | None = None) -> JSONResponse:
    err = ServerError(code, message, detail)
    return JSONResponse(err.envelope(), status_code=err.status)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServerError)
    return JSONResponse(exc.envelope(), status_code=exc.status)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg")),
            "type": str(e.get("type")),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    return _envelope(
        ErrorCode.INVALID_REQUEST,
        f"the request does not match the API: {where}: {first['msg']} (see detail.errors; the "
        "schema is at /api/openapi.json)",
        {"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _envelope(
            ErrorCode.ROUTE_NOT_FOUND,
            f"no route {request.url.path!r}; the API's routes are listed at /api/docs.",
        )
    if exc.status_code == 405:
        return _envelope(
            ErrorCode.METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed on {request.url.path!r}; see /api/docs.",
        )
    return _envelope(ErrorCode.BAD_REQUEST, str(exc.detail))


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A damaged or vanished index answers 503 while it is rebuilt; anything else is a bug."""
    index: Index = request.app.state.services.index
    err = index.unavailable(exc)
    if err is None:
        return await _internal_error(request, exc)
    _log.warning("furu-server: %s %s: %s", request.method, request.url.path, err.message)
    return JSONResponse(err.envelope(), status_code=err.status)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("furu-server: unexpected error on %s %s", request.method, request.url.path)
    return _envelope(
        ErrorCode.INTERNAL_ERROR,
        f"furu-server failed on {request.method} {request.url.path} ({type(exc).__name__}: "
        f"{exc}). This is a bug: please report it with the server's log.",
    )


def create_app(settings: ServerSettings, *, start_refresher: bool = True) -> FastAPI:
    """The API (and, with `settings.serve_frontend`, the dashboard) for one store.

    Args:
        settings: the store, the index's location, the token and the guards.
        start_refresher: keep the index fresh in a background thread while the app runs
            (tests may refresh by hand with `POST /api/index/refresh` instead).
    """
    from furu_server import __version__

    index = Index(settings)
    token = settings.token or new_token()
    runs = Runs(index)
    state = Services(settings=settings, index=index, runs=runs, token=token, tasks=Tasks(runs))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_refresher:
            index.start()
        try:
            yield
        finally:
            state.runs.stop_all()
            state.tasks.stop_all()
            index.stop()

    app = FastAPI(
        title="furu-server",
        version=__version__,
        summary="A fast, safe HTTP API over a furu store.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        responses={
            "4XX": {"model": ErrorResponse, "description": "An error (see `error.code`)."},
            "5XX": {"model": ErrorResponse, "description": "A bug in furu-server."},
        },
    )
    app.state.services = state
    app.add_exception_handler(ServerError, _server_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sqlite3.DatabaseError, _database_error)
    app.add_exception_handler(IndexPathError, _database_error)
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(api_router)
    if settings.serve_frontend:
        from furu_server._static import add_frontend

        add_frontend(app, settings.static_dir)
    policy = HostPolicy(settings.host, settings.allowed_hosts, settings.allowed_origins)
    app.add_middleware(GuardMiddleware, policy=policy)
    return app
