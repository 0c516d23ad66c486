"""`FuruClient`: one typed method per route of furu-server's API.

```python
from furu_client import F, FuruClient

with FuruClient("http://127.0.0.1:8000", token="...") as client:
    for exp in client.iter_search(F.config.lr < 1e-3):
        print(exp.namespace, exp.hash, exp.result_status)
```

The client speaks only HTTP (httpx) and validates answers with the models generated from the
server's `openapi.json`; an error answer raises the exception of its code (see `furu_client._errors`).
Pass your own `httpx.Client` to control timeouts, proxies or transports (tests use
`httpx.MockTransport`, or Starlette's `TestClient`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from furu_client._errors import FuruConnectionError, FuruResponseError, error_for
from furu_client._filters import Condition
from furu_client._models import (
    ArtifactTree,
    Dag,
    DagClass,
    Deleted,
    Diff,
    ExperimentDetail,
    ExperimentList,
    ExperimentSummary,
    FieldList,
    Health,
    Invalidated,
    InvalidatePlan,
    Labels,
    Lineage,
    LogChunk,
    ManifestInfo,
    MigrationPlan,
    NamespaceInfo,
    ParseResponse,
    Preview,
    RefreshResult,
    Relationships,
    Run,
    Snippet,
    Stats,
    SweepPlan,
    Task,
    Undone,
    Version,
)

M = TypeVar("M", bound=BaseModel)
FilterArg = Condition | dict[str, Any] | str | None
_NAMESPACES = TypeAdapter(list[NamespaceInfo])
_RUNS = TypeAdapter(list[Run])
DEFAULT_URL = "http://127.0.0.1:8000"


def _seg(value: str) -> str:
    return quote(value, safe="")


def _exp(namespace: str, digest: str) -> str:
    return f"/api/experiments/{_seg(namespace)}/{_seg(digest)}"


def _ref(ref: str | tuple[str, str]) -> str:
    return ref if isinstance(ref, str) else f"{ref[0]}/{ref[1]}"


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _values(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


class FuruClient:
    """A synchronous client of one furu-server.

    Args:
        base_url: the server, e.g. `http://127.0.0.1:8000`.
        token: the token routes that change data need (printed by `furu-dashboard serve`).
        http_client: an `httpx.Client` to send requests with (default: a new one, closed with
            this client).
        timeout: seconds per request for the default `httpx.Client`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        http_client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def close(self) -> None:
        """Close the HTTP client, if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> FuruClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(
                method, self.base_url + path, headers=self._headers, **kwargs
            )
        except httpx.TransportError as exc:
            raise FuruConnectionError(
                f"could not reach furu-server at {self.base_url} ({type(exc).__name__}: {exc}); "
                "is `furu-dashboard serve` running there?"
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _model(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        response = self._send(method, path, **kwargs)
        try:
            return model.model_validate(response.json())
        except ValueError as exc:
            raise _unexpected(response, f"not a {model.__name__}: {exc}") from None

    # ------------------------------------------------------------ listing and search

    def list_experiments(
        self,
        *,
        result_status: str | Sequence[str] | None = None,
        attempt_status: str | Sequence[str] | None = None,
        namespace: str | None = None,
        backend: str | None = None,
        hostname: str | None = None,
        user: str | None = None,
        started_after: datetime | str | None = None,
        started_before: datetime | str | None = None,
        config_filter: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        stale: bool | None = None,
        q: str | None = None,
        sort: str = "updated",
        order: str = "desc",
        limit: int = 50,
        offset: int = 0,
    ) -> ExperimentList:
        """`GET /api/experiments`: one page, filtered by the listing's filters (and-ed)."""
        params = {
            "result_status": _values(result_status),
            "attempt_status": _values(attempt_status),
            "namespace": namespace,
            "backend": backend,
            "hostname": hostname,
            "user": user,
            "started_after": _iso(started_after),
            "started_before": _iso(started_before),
            "config_filter": _values(config_filter),
            "tag": _values(tag),
            "stale": None if stale is None else str(stale).lower(),
            "q": q,
            "sort": sort,
            "order": order,
            "limit": limit,
            "offset": offset,
        }
        kept = {k: v for k, v in params.items() if v is not None}
        return self._model(ExperimentList, "GET", "/api/experiments", params=kept)

    def iter_experiments(
        self, *, page_size: int = 200, **filters: Any
    ) -> Iterator[ExperimentSummary]:
        """Every experiment `list_experiments(**filters)` matches, page by page."""
        offset = 0
        while True:
            page = self.list_experiments(limit=page_size, offset=offset, **filters)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def search(
        self,
        filter: FilterArg = None,
        *,
        query: str | None = None,
        sort: str = "updated",
        order: str = "desc",
        limit: int = 50,
        offset: int = 0,
        sort_field: str | None = None,
        columns: Sequence[str] = (),
    ) -> ExperimentList:
        """`POST /api/experiments/search` with a filter (builder, JSON tree or text form).

        `sort_field` sorts by a config or result field instead (`result.accuracy`,
        `downstream.Evaluate.result.accuracy`); each item carries the `columns`' values in
        `values`.
        """
        body: dict[str, Any] = {"sort": sort, "order": order, "limit": limit, "offset": offset}
        if sort_field is not None:
            body["sort_field"] = sort_field
        if columns:
            body["columns"] = list(columns)
        if isinstance(filter, str):
            query = f"({filter}) and ({query})" if query else filter
        elif isinstance(filter, Condition):
            body["filter"] = filter.to_json()
        elif filter is not None:
            body["filter"] = filter
        if query is not None:
            body["query"] = query
        return self._model(ExperimentList, "POST", "/api/experiments/search", json=body)

    def iter_search(
        self, filter: FilterArg = None, *, page_size: int = 200, **options: Any
    ) -> Iterator[ExperimentSummary]:
        """Every experiment a search matches, page by page."""
        offset = 0
        while True:
            page = self.search(filter, limit=page_size, offset=offset, **options)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def list_fields(self, class_name: str | None = None) -> FieldList:
        """`GET /api/fields`: the config, result and downstream result fields a search can
        sort by and return as `columns` (of one class: its name or namespace), with counts."""
        params = {"class": class_name} if class_name else {}
        return self._model(FieldList, "GET", "/api/fields", params=params)

    def parse_filter(self, query: str) -> ParseResponse:
        """`POST /api/filters/parse`: the JSON tree of a text filter (errors name the position)."""
        return self._model(ParseResponse, "POST", "/api/filters/parse", json={"query": query})

    # ------------------------------------------------------------ one experiment

    def get_experiment(self, namespace: str, hash: str) -> ExperimentDetail:
        """Config, state, attempt, metadata, error with traceback, tags, name and sizes."""
        return self._model(ExperimentDetail, "GET", _exp(namespace, hash))

    def get_relationships(self, namespace: str, hash: str, *, limit: int = 500) -> Relationships:
        """Parents (dependencies) and children (dependents), each with its status."""
        path = _exp(namespace, hash) + "/relationships"
        return self._model(Relationships, "GET", path, params={"limit": limit})

    def get_lineage(
        self, namespace: str, hash: str, *, depth: int = 10, limit: int = 500
    ) -> Lineage:
        """Every ancestor and descendant up to `depth` steps away."""
        path = _exp(namespace, hash) + "/lineage"
        return self._model(Lineage, "GET", path, params={"depth": depth, "limit": limit})

    def diff(self, a: str | tuple[str, str], b: str | tuple[str, str]) -> Diff:
        """Field-by-field config (and metadata) differences; refs are `namespace/hash`."""
        return self._model(Diff, "GET", "/api/diff", params={"a": _ref(a), "b": _ref(b)})

    # ------------------------------------------------------------ the store as a whole

    def get_stats(self) -> Stats:
        return self._model(Stats, "GET", "/api/stats")

    def list_namespaces(self) -> list[NamespaceInfo]:
        response = self._send("GET", "/api/namespaces")
        return _NAMESPACES.validate_python(response.json())

    def get_dag(self, *, source: str = "experiments") -> Dag:
        """The class-level graph: counts per status (and stale), subclass relations, edges by
        field; `source="code"`: the classes of the current code (the manifest), those without
        experiments included."""
        return self._model(Dag, "GET", "/api/dag", params={"source": source})

    def get_dag_class(self, namespace: str) -> DagClass:
        """One class of the DAG in detail: the config fields that vary among its experiments
        (with counts per value) and its most recent failures."""
        return self._model(DagClass, "GET", f"/api/dag/classes/{_seg(namespace)}")

    def health(self) -> Health:
        return self._model(Health, "GET", "/api/health")

    def version(self) -> Version:
        return self._model(Version, "GET", "/api/version")

    def refresh_index(self, *, full: bool = False) -> RefreshResult:
        """Ask the server to refresh its index now (`full`: rescan the whole store)."""
        return self._model(RefreshResult, "POST", "/api/index/refresh", params={"full": full})

    # ------------------------------------------------------------ logs and files

    def get_logs(
        self,
        namespace: str,
        hash: str,
        *,
        offset: int = 0,
        limit: int = 65_536,
        tail: int | None = None,
    ) -> LogChunk:
        """A piece of `furu.log` from byte `offset` (or its last `tail` bytes)."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if tail is not None:
            params["tail"] = tail
        return self._model(LogChunk, "GET", _exp(namespace, hash) + "/logs", params=params)

    def tail_logs(
        self,
        namespace: str,
        hash: str,
        *,
        offset: int = 0,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> Iterator[str]:
        """Yield the log's text as it grows, until the attempt ends (or `timeout` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chunk = self.get_logs(namespace, hash, offset=offset)
            if chunk.text:
                yield chunk.text
            offset = chunk.next_offset
            if chunk.eof and not chunk.running:
                return
            if deadline is not None and time.monotonic() > deadline:
                return
            if chunk.eof:
                time.sleep(poll_interval)

    def stream_logs(
        self, namespace: str, hash: str, *, offset: int = 0, timeout: float = 300.0
    ) -> Iterator[str]:
        """Follow the log over one streaming response (server-sent events)."""
        url = self.base_url + _exp(namespace, hash) + "/logs/stream"
        params = {"offset": offset, "timeout": timeout}
        try:
            with self._http.stream("GET", url, params=params, headers=self._headers) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                yield from _sse_texts(response.iter_lines())
        except httpx.TransportError as exc:
            raise FuruConnectionError(f"the log stream from {self.base_url} broke: {exc}") from exc

    def list_artifacts(self, namespace: str, hash: str) -> ArtifactTree:
        return self._model(ArtifactTree, "GET", _exp(namespace, hash) + "/artifacts")

    def get_file(self, namespace: str, hash: str, path: str) -> bytes:
        """The raw bytes of a file in the experiment's directory."""
        return self._send("GET", _exp(namespace, hash) + "/files/" + quote(path)).content

    def preview_file(
        self, namespace: str, hash: str, path: str, *, offset: int = 0, limit: int = 100
    ) -> Preview:
        """A page of rows (CSV, JSON lines, JSON, parquet), text, or an image's MIME type."""
        url = _exp(namespace, hash) + "/preview/" + quote(path)
        return self._model(Preview, "GET", url, params={"offset": offset, "limit": limit})

    # ------------------------------------------------------------ actions (token required)

    def delete_experiment(self, namespace: str, hash: str) -> Deleted:
        return self._model(Deleted, "DELETE", _exp(namespace, hash))

    def invalidate(self, namespace: str, hash: str, *, dependents: bool = False) -> Invalidated:
        """Drop the cached result (and, with `dependents`, those of what depends on it)."""
        path = _exp(namespace, hash) + "/invalidate"
        return self._model(Invalidated, "POST", path, json={"dependents": dependents})

    def plan_invalidate(
        self, namespace: str, hash: str, *, dependents: bool = False
    ) -> InvalidatePlan:
        """What `invalidate` with the same `dependents` would hit, nothing changed (no token
        needed): the experiment and its dependents, each with its status."""
        path = _exp(namespace, hash) + "/invalidate/plan"
        return self._model(InvalidatePlan, "GET", path, params={"dependents": dependents})

    def set_tags(self, namespace: str, hash: str, tags: Sequence[str]) -> Labels:
        path = _exp(namespace, hash) + "/tags"
        return self._model(Labels, "PUT", path, json={"tags": list(tags)})

    def set_name(self, namespace: str, hash: str, name: str | None) -> Labels:
        return self._model(Labels, "PUT", _exp(namespace, hash) + "/name", json={"name": name})

    def get_snippet(
        self, namespace: str, hash: str, *, overrides: dict[str, Any] | None = None
    ) -> Snippet:
        """The Python that recreates (or reruns) the experiment, with changed fields."""
        sets = [f"{k}={json.dumps(v)}" for k, v in (overrides or {}).items()]
        path = _exp(namespace, hash) + "/snippet"
        return self._model(Snippet, "GET", path, params={"set": sets} if sets else None)

    def rerun(
        self,
        namespace: str,
        hash: str,
        *,
        overrides: dict[str, Any] | None = None,
        force: bool = True,
    ) -> Run:
        """Recompute in the server's project environment (a subprocess); poll with `get_run`."""
        body = {"overrides": overrides or {}, "force": force}
        return self._model(Run, "POST", _exp(namespace, hash) + "/rerun", json=body)

    def get_run(self, run_id: str) -> Run:
        return self._model(Run, "GET", f"/api/runs/{_seg(run_id)}")

    def list_runs(self) -> list[Run]:
        return _RUNS.validate_python(self._send("GET", "/api/runs").json())

    def wait_for_run(
        self, run_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5
    ) -> Run:
        """Poll a rerun until it ends; raises `TimeoutError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run.status != "running":
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"rerun {run_id} still running after {timeout:g}s")
            time.sleep(poll_interval)

    # ------------------------------------------------------------ the code (manifest, migrations)

    def get_manifest(self) -> ManifestInfo:
        """The current code as `furu manifest` recorded it, with each class's experiments and
        the `FuruList`s' named experiments (`defined, not yet run` when absent)."""
        return self._model(ManifestInfo, "GET", "/api/manifest")

    def refresh_manifest(self) -> Task:
        """Run `furu manifest` in the server's project environment; poll with `get_task`."""
        return self._model(Task, "POST", "/api/manifest/refresh")

    def preview_migration(
        self,
        namespace: str,
        *,
        mode: str = "default",
        values: dict[str, Any] | None = None,
        hashes: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
    ) -> MigrationPlan:
        """What migrating `namespace`'s stored experiments would do (old -> new hash).

        `mode`: `default` (new fields take their defaults), `value` (`values` set them) or
        `only` (just `hashes`); `where` keeps stored configs whose field equals a value."""
        body = _migration(namespace, mode, values, hashes, where)
        return self._model(MigrationPlan, "POST", "/api/migrations/preview", json=body)

    def apply_migration(
        self,
        namespace: str,
        *,
        mode: str = "default",
        values: dict[str, Any] | None = None,
        hashes: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
    ) -> Task:
        """Start the migration; poll with `get_migration` (or `wait_for_task`)."""
        body = _migration(namespace, mode, values, hashes, where)
        return self._model(Task, "POST", "/api/migrations/apply", json=body)

    def undo_migration(self, ref: str | tuple[str, str]) -> Undone:
        """Remove a migration's alias directory `namespace/hash` (the old result is kept)."""
        return self._model(Undone, "POST", "/api/migrations/undo", json={"ref": _ref(ref)})

    def get_migration(self, task_id: str) -> Task:
        return self._model(Task, "GET", f"/api/migrations/{_seg(task_id)}")

    def plan_sweep(
        self,
        namespace: str,
        digest: str,
        axes: dict[str, Sequence[Any]],
        *,
        overrides: dict[str, Any] | None = None,
        executor: str = "local",
    ) -> SweepPlan:
        """What a sweep from the experiment would do: each combination of `axes` (field ->
        values) to create, cached or running elsewhere, and the Python that does the same."""
        body = _sweep(namespace, digest, axes, overrides, executor)
        return self._model(SweepPlan, "POST", "/api/sweeps/plan", json=body)

    def launch_sweep(
        self,
        namespace: str,
        digest: str,
        axes: dict[str, Sequence[Any]],
        *,
        overrides: dict[str, Any] | None = None,
        executor: str = "local",
    ) -> Task:
        """Launch the sweep as a batch in the project's environment; poll with
        `wait_for_task`."""
        body = _sweep(namespace, digest, axes, overrides, executor)
        return self._model(Task, "POST", "/api/sweeps", json=body)

    def plan_batch(self, refs: Sequence[str | tuple[str, str]], mode: str) -> SweepPlan:
        """What `rerun` (recompute them) or `missing` (create what they miss) would do."""
        body = {"experiments": [_ref(r) for r in refs], "mode": mode}
        return self._model(SweepPlan, "POST", "/api/batches/plan", json=body)

    def launch_batch(self, refs: Sequence[str | tuple[str, str]], mode: str) -> Task:
        """Rerun the experiments (`rerun`) or run what they miss (`missing`) as one batch."""
        body = {"experiments": [_ref(r) for r in refs], "mode": mode}
        return self._model(Task, "POST", "/api/batches", json=body)

    def get_task(self, task_id: str) -> Task:
        return self._model(Task, "GET", f"/api/tasks/{_seg(task_id)}")

    def wait_for_task(
        self, task_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5
    ) -> Task:
        """Poll a task until it ends; raises `TimeoutError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get_task(task_id)
            if task.status != "running":
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still running after {timeout:g}s")
            time.sleep(poll_interval)


def _migration(
    namespace: str,
    mode: str,
    values: dict[str, Any] | None,
    hashes: Sequence[str] | None,
    where: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "mode": mode,
        "values": values or {},
        "hashes": list(hashes or []),
        "where": where or {},
    }


def _sse_texts(lines: Iterator[str]) -> Iterator[str]:
    event = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if event == "end":
                return
            if event == "log" and data:
                yield json.loads("\n".join(data))["text"]
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _unexpected(response: httpx.Response, why: str) -> FuruResponseError:
    return FuruResponseError(
        f"{response.request.method} {response.request.url} answered HTTP {response.status_code} "
        f"that is not furu-server's API ({why}); is the URL right?",
        status=response.status_code,
        body=response.text[:500],
    )


def _error(response: httpx.Response) -> Exception:
    try:
        error = response.json()["error"]
        return error_for(
            response.status_code, str(error["code"]), str(error["message"]), error.get("detail")
        )
    except (ValueError, KeyError, TypeError):
        return _unexpected(response, "no error envelope")


def _sweep(
    namespace: str,
    digest: str,
    axes: dict[str, Sequence[Any]],
    overrides: dict[str, Any] | None,
    executor: str,
) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "hash": digest,
        "axes": {k: list(v) for k, v in axes.items()},
        "overrides": overrides or {},
        "executor": executor,
    }
