"""The exceptions furu-client raises: one per error code of the API.

```
FuruClientError
├── FuruConnectionError          the server could not be reached (DNS, refused, timeout)
├── FuruResponseError            the answer is not the API's JSON (e.g. a proxy's page)
└── FuruAPIError                 the API answered with an error: .status .code .message .detail
    ├── BadRequestError              bad_request
    ├── FilterSyntaxError            filter_syntax (.position, .token)
    ├── FilterInvalidError           filter_invalid
    ├── NotAFileError                not_a_file
    ├── UnauthorizedError            unauthorized
    ├── HostNotAllowedError          host_not_allowed
    ├── OriginNotAllowedError        origin_not_allowed
    ├── PathOutsideArtifactError     path_outside_artifact
    ├── ExperimentNotFoundError      experiment_not_found
    ├── ArtifactFileNotFoundError    file_not_found
    ├── RunNotFoundError             run_not_found
    ├── ManifestNotFoundError        manifest_not_found
    ├── TaskNotFoundError            task_not_found
    ├── RouteNotFoundError           route_not_found
    ├── MethodNotAllowedError        method_not_allowed
    ├── ExperimentRunningError       experiment_running
    ├── RerunUnavailableError        rerun_unavailable
    ├── StoreNotWritableError        store_not_writable
    ├── PreviewUnsupportedError      preview_unsupported
    ├── InvalidRequestError          invalid_request
    ├── FileUnreadableError          file_unreadable
    ├── ManifestUnreadableError      manifest_unreadable
    ├── MigrationFailedError         migration_failed
    ├── PlanFailedError              plan_failed
    ├── TooManyRunsError             too_many_runs
    ├── IndexUnavailableError        index_unavailable
    └── InternalServerError          internal_error
```

A code this client does not know (a newer server) raises `FuruAPIError` itself. Every
exception pickles (they cross process boundaries in scripts that fan out).
"""

from __future__ import annotations

from typing import Any

from furu_client._models import ErrorCode


class FuruClientError(Exception):
    """Root of every error furu-client raises."""


class FuruConnectionError(FuruClientError):
    """The server could not be reached; the message says where the client tried."""


class FuruResponseError(FuruClientError):
    """The server answered, but not with the API's JSON.

    Attributes:
        status: the HTTP status.
        body: the start of what came back.
    """

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__.copy()))


class FuruAPIError(FuruClientError):
    """The API answered with an error envelope.

    Attributes:
        status: the HTTP status.
        code: the stable error code (`ErrorCode`), as text.
        message: the server's explanation (what was wrong, what to do).
        detail: structured facts about the error, or None.
    """

    def __init__(
        self, message: str, *, status: int, code: str, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__.copy()))

    def __str__(self) -> str:
        return f"{self.message} [{self.code}, HTTP {self.status}]"


def _rebuild(cls: type[Exception], args: tuple[Any, ...], state: dict[str, Any]) -> Exception:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class BadRequestError(FuruAPIError):
    """The request is malformed in a way the schema cannot express."""


class FilterSyntaxError(FuruAPIError):
    """A text filter does not parse.

    Attributes:
        position: the 0-based offset of the offending token in the filter text.
        token: the offending token ("" at the end of the text).
    """

    @property
    def position(self) -> int:
        return int((self.detail or {}).get("position", 0))

    @property
    def token(self) -> str:
        return str((self.detail or {}).get("token", ""))


class FilterInvalidError(FuruAPIError):
    """The filter parses but cannot run (unknown field, bad regex, bad operator)."""


class NotAFileError(FuruAPIError):
    """A file route was given a directory."""


class UnauthorizedError(FuruAPIError):
    """A route that changes data needs the server's token (`FuruClient(token=...)`)."""


class HostNotAllowedError(FuruAPIError):
    """The server does not answer for the host name in the URL."""


class OriginNotAllowedError(FuruAPIError):
    """The server refuses requests from that `Origin`."""


class PathOutsideArtifactError(FuruAPIError):
    """The file path leads outside the experiment's directory."""


class ExperimentNotFoundError(FuruAPIError):
    """No experiment with that namespace and hash."""


class ArtifactFileNotFoundError(FuruAPIError):
    """No such file in the experiment's directory."""


class RunNotFoundError(FuruAPIError):
    """No rerun with that id (runs are forgotten when the server restarts)."""


class ManifestNotFoundError(FuruAPIError):
    """The store has no code manifest: run `furu manifest` (or `refresh_manifest()`)."""


class TaskNotFoundError(FuruAPIError):
    """No task (manifest refresh, migration) with that id (forgotten on restart)."""


class RouteNotFoundError(FuruAPIError):
    """No route with that path (a client newer than its server?)."""


class MethodNotAllowedError(FuruAPIError):
    """The route does not accept that HTTP method."""


class ExperimentRunningError(FuruAPIError):
    """The experiment is being computed; it cannot be deleted or invalidated now."""


class RerunUnavailableError(FuruAPIError):
    """The server has no project environment to rerun the experiment in."""


class StoreNotWritableError(FuruAPIError):
    """The store refused a change (read-only, no permission, disk full); `detail["path"]`."""


class PreviewUnsupportedError(FuruAPIError):
    """The file type has no preview (or the server lacks an optional dependency)."""


class InvalidRequestError(FuruAPIError):
    """A parameter or the body does not match the API; `detail["errors"]` lists each."""


class FileUnreadableError(FuruAPIError):
    """The file could not be read as its type (e.g. a malformed CSV)."""


class ManifestUnreadableError(FuruAPIError):
    """The store's `manifest.json` is damaged or of another version: run `furu manifest`."""


class MigrationFailedError(FuruAPIError):
    """`furu migrate` refused the migration; the message is its own."""


class PlanFailedError(FuruAPIError):
    """Planning a sweep or batch in the project's environment failed; the message says why."""


class TooManyRunsError(FuruAPIError):
    """The server runs as many reruns as it allows; try again later."""


class IndexUnavailableError(FuruAPIError):
    """The server's index was damaged or deleted and is being rebuilt; retry in a few seconds."""


class InternalServerError(FuruAPIError):
    """A bug in furu-server."""


ERROR_CLASSES: dict[ErrorCode, type[FuruAPIError]] = {
    ErrorCode.bad_request: BadRequestError,
    ErrorCode.filter_syntax: FilterSyntaxError,
    ErrorCode.filter_invalid: FilterInvalidError,
    ErrorCode.not_a_file: NotAFileError,
    ErrorCode.unauthorized: UnauthorizedError,
    ErrorCode.host_not_allowed: HostNotAllowedError,
    ErrorCode.origin_not_allowed: OriginNotAllowedError,
    ErrorCode.path_outside_artifact: PathOutsideArtifactError,
    ErrorCode.experiment_not_found: ExperimentNotFoundError,
    ErrorCode.file_not_found: ArtifactFileNotFoundError,
    ErrorCode.run_not_found: RunNotFoundError,
    ErrorCode.manifest_not_found: ManifestNotFoundError,
    ErrorCode.task_not_found: TaskNotFoundError,
    ErrorCode.route_not_found: RouteNotFoundError,
    ErrorCode.method_not_allowed: MethodNotAllowedError,
    ErrorCode.experiment_running: ExperimentRunningError,
    ErrorCode.rerun_unavailable: RerunUnavailableError,
    ErrorCode.store_not_writable: StoreNotWritableError,
    ErrorCode.preview_unsupported: PreviewUnsupportedError,
    ErrorCode.invalid_request: InvalidRequestError,
    ErrorCode.file_unreadable: FileUnreadableError,
    ErrorCode.manifest_unreadable: ManifestUnreadableError,
    ErrorCode.migration_failed: MigrationFailedError,
    ErrorCode.plan_failed: PlanFailedError,
    ErrorCode.too_many_runs: TooManyRunsError,
    ErrorCode.index_unavailable: IndexUnavailableError,
    ErrorCode.internal_error: InternalServerError,
}
"""The exception class of each error code (a test proves every code has one)."""


def error_for(status: int, code: str, message: str, detail: dict[str, Any] | None) -> FuruAPIError:
    """The exception for an error envelope (`FuruAPIError` for a code this client lacks)."""
    try:
        cls = ERROR_CLASSES[ErrorCode(code)]
    except ValueError:
        cls = FuruAPIError
    return cls(message, status=status, code=code, detail=detail)
