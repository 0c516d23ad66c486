"""The errors furu-server answers with: one stable code each, in one envelope.

Every error response, whatever raised it, has the body

```json
{"error": {"code": "experiment_not_found", "message": "...", "detail": {...}}}
```

`code` is stable (clients map it to an exception class; furu-client has one per code) and
`message` says what was wrong and what to do next.

```
ServerError
├── BadRequest            400 bad_request / filter_syntax / filter_invalid / not_a_file
├── Unauthorized          401 unauthorized
├── Forbidden             403 host_not_allowed / origin_not_allowed / path_outside_artifact
├── NotFound              404 experiment_not_found / file_not_found / run_not_found / route_not_found
│                             manifest_not_found / task_not_found
├── Conflict              409 experiment_running / rerun_unavailable / store_not_writable
├── UnsupportedPreview    415 preview_unsupported
├── Unprocessable         422 invalid_request / file_unreadable / manifest_unreadable
│                             migration_failed
├── TooManyRuns           429 too_many_runs
└── IndexUnavailable      503 index_unavailable
```
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every `error.code` the API can answer with."""

    BAD_REQUEST = "bad_request"
    """The request is malformed in a way the schema cannot express."""
    FILTER_SYNTAX = "filter_syntax"
    """The text filter does not parse; `detail` has `position` and `token`."""
    FILTER_INVALID = "filter_invalid"
    """The filter parses but cannot run (unknown field, bad operator for the value, bad regex)."""
    NOT_A_FILE = "not_a_file"
    """A file route was given a directory."""
    UNAUTHORIZED = "unauthorized"
    """A route that changes data was called without the server's token."""
    HOST_NOT_ALLOWED = "host_not_allowed"
    """The `Host` header names a host this server does not answer for (DNS rebinding)."""
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    """The `Origin` header names a site other than this server (cross-site request)."""
    PATH_OUTSIDE_ARTIFACT = "path_outside_artifact"
    """A file path resolves (through `..` or a symlink) outside the experiment's directory."""
    EXPERIMENT_NOT_FOUND = "experiment_not_found"
    """No experiment with that namespace and hash is in the store."""
    FILE_NOT_FOUND = "file_not_found"
    """No such file in the experiment's directory."""
    RUN_NOT_FOUND = "run_not_found"
    """No rerun with that id was started by this server."""
    MANIFEST_NOT_FOUND = "manifest_not_found"
    """The store has no `manifest.json`: run `furu manifest` (or POST /api/manifest/refresh)."""
    TASK_NOT_FOUND = "task_not_found"
    """No task (manifest refresh, migration) with that id was started by this server."""
    ROUTE_NOT_FOUND = "route_not_found"
    """No API route has that path."""
    METHOD_NOT_ALLOWED = "method_not_allowed"
    """The route exists but not with that HTTP method."""
    EXPERIMENT_RUNNING = "experiment_running"
    """The experiment is being computed; it cannot be deleted or invalidated now."""
    RERUN_UNAVAILABLE = "rerun_unavailable"
    """No project environment is configured (or found) to rerun the experiment in."""
    STORE_NOT_WRITABLE = "store_not_writable"
    """The store refused a change (read-only mount, no permission, disk full); `detail.path`."""
    PREVIEW_UNSUPPORTED = "preview_unsupported"
    """The file type has no preview (or needs an optional dependency)."""
    INVALID_REQUEST = "invalid_request"
    """A parameter or the body does not match the API schema; `detail.errors` lists each."""
    FILE_UNREADABLE = "file_unreadable"
    """The file exists but could not be read as its type (e.g. a malformed CSV)."""
    MANIFEST_UNREADABLE = "manifest_unreadable"
    """`manifest.json` is damaged or of another format; `furu manifest` writes it again."""
    MIGRATION_FAILED = "migration_failed"
    """`furu migrate` refused the migration (its message says why) or did not finish."""
    PLAN_FAILED = "plan_failed"
    """Planning a sweep or batch in the project's environment failed (its message says why)."""
    TOO_MANY_RUNS = "too_many_runs"
    """The server already runs as many reruns as it allows; wait for one to finish."""
    INDEX_UNAVAILABLE = "index_unavailable"
    """The index file was damaged or deleted and is being rebuilt from the store; retry soon."""
    INTERNAL_ERROR = "internal_error"
    """A bug in furu-server; the message says where to report it."""


STATUS_OF: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.FILTER_SYNTAX: 400,
    ErrorCode.FILTER_INVALID: 400,
    ErrorCode.NOT_A_FILE: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.HOST_NOT_ALLOWED: 403,
    ErrorCode.ORIGIN_NOT_ALLOWED: 403,
    ErrorCode.PATH_OUTSIDE_ARTIFACT: 403,
    ErrorCode.EXPERIMENT_NOT_FOUND: 404,
    ErrorCode.FILE_NOT_FOUND: 404,
    ErrorCode.RUN_NOT_FOUND: 404,
    ErrorCode.MANIFEST_NOT_FOUND: 404,
    ErrorCode.TASK_NOT_FOUND: 404,
    ErrorCode.ROUTE_NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.EXPERIMENT_RUNNING: 409,
    ErrorCode.RERUN_UNAVAILABLE: 409,
    ErrorCode.STORE_NOT_WRITABLE: 409,
    ErrorCode.PREVIEW_UNSUPPORTED: 415,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.FILE_UNREADABLE: 422,
    ErrorCode.MANIFEST_UNREADABLE: 422,
    ErrorCode.MIGRATION_FAILED: 422,
    ErrorCode.PLAN_FAILED: 422,
    ErrorCode.TOO_MANY_RUNS: 429,
    ErrorCode.INDEX_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


class ServerError(Exception):
    """An error the API answers with `STATUS_OF[code]` and the error envelope.

    Attributes:
        code: the stable error code.
        message: what went wrong and what to do next.
        detail: structured facts (e.g. a filter error's `position`), or None.
    """

    def __init__(self, code: ErrorCode, message: str, detail: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.detail))

    @property
    def status(self) -> int:
        return STATUS_OF[self.code]

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code.value, "message": self.message, "detail": self.detail}}


class FilterSyntaxError(ServerError):
    """A text filter does not parse.

    Attributes:
        position: the 0-based character offset of the offending token.
        token: the offending token ("" at the end of the input).
    """

    def __init__(self, message: str, *, text: str, position: int, token: str) -> None:
        caret = f"\n  {text}\n  {' ' * position}^"
        detail = {"position": position, "token": token, "text": text}
        super().__init__(ErrorCode.FILTER_SYNTAX, message + caret, detail)
        self.position = position
        self.token = token
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_syntax, (self.message, self.text, self.position, self.token))


def _rebuild_syntax(message: str, text: str, position: int, token: str) -> FilterSyntaxError:
    err = FilterSyntaxError("", text=text, position=position, token=token)
    err.message = message
    err.args = (message,)
    return err


class FilterInvalidError(ServerError):
    """A filter parses but cannot run; `detail.path` names the offending field."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(ErrorCode.FILTER_INVALID, message, {"path": path})

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), {"detail": self.detail})


def not_found(namespace: str, digest: str) -> ServerError:
    return ServerError(
        ErrorCode.EXPERIMENT_NOT_FOUND,
        f"no experiment {namespace}/{digest} in this store. List experiments with "
        "GET /api/experiments (the store may have changed: POST /api/index/refresh).",
        {"namespace": namespace, "hash": digest},
    )
