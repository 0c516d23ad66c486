"""Read-only routes: listing and search, one experiment, relationships, graphs, counts, health."""

from __future__ import annotations

import platform
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, Query, Request

from furu import AttemptStatus, ResultStatus
from furu_server._errors import ErrorCode, FilterInvalidError, FilterSyntaxError, ServerError
from furu_server._experiments import detail, diff, locate
from furu_server._graph import dag, dag_class, lineage, namespaces, relationships, stats
from furu_server._manifest import code_dag
from furu_server._models import (
    Dag,
    DagClass,
    DagSource,
    Diff,
    ExperimentDetail,
    ExperimentList,
    ExperimentSummary,
    FieldInfo,
    FieldList,
    Health,
    Lineage,
    NamespaceInfo,
    ParseRequest,
    ParseResponse,
    RefreshResult,
    Relationships,
    SearchRequest,
    Stats,
    Version,
)
from furu_server._sorting import Order, SortKey
from furu_server.filters import (
    CompareFilter,
    FilterExpr,
    InFilter,
    TextFilter,
    compile_filter,
    parse_filter,
    to_text,
)
from furu_server.filters._fields import FieldRef, parse_field
from furu_server.filters._models import build
from furu_server.filters._sql import field_paths
from furu_server.index._index import QueryInterrupted
from furu_server.routes._deps import Services, Svc

API_VERSION = "1"
router = APIRouter(prefix="/api")
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
REF_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*[/:][A-Za-z0-9_-]+$"
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
DISCONNECT_POLL_SECS = 0.1
_TOO_COMPLEX = ("parser stack overflow", "Expression tree is too large")
_T = TypeVar("_T")


def _config_filter(text: str) -> FilterExpr:
    """`lr=0.001` (or `lr<0.1`, `dataset.name=toy`) -> a condition on `config.<path>`."""
    try:
        parsed = parse_filter(f"config.{text}")
    except FilterSyntaxError as exc:
        reason = exc.message.split("\n", 1)[0]
        raise FilterSyntaxError(
            f"config_filter {text[:60]!r} is not FIELD=VALUE (e.g. lr=0.001): {reason}",
            text=text,
            position=max(0, exc.position - len("config.")),
            token=exc.token,
        ) from None
    if parsed is None:
        raise FilterSyntaxError("config_filter is empty", text=text, position=0, token="")
    return parsed


async def _run_listing(
    request: Request,
    svc: Services,
    parts: list[FilterExpr | None],
    sort: SortKey,
    order: Order,
    limit: int,
    offset: int,
    *,
    sort_field: FieldRef | None = None,
    columns: Sequence[FieldRef] = (),
) -> ExperimentList:
    where, params = compile_filter(parts)  # (and-ed, each held to the limits on its own)
    named = [parse_field(path) for path in field_paths(parts)]

    def run() -> ExperimentList:
        svc.index.check_fields([*named, *([sort_field] if sort_field else [])])
        rows, total = svc.index.listing(
            where, params, sort, order, limit, offset, sort_field=sort_field, columns=columns
        )
        return ExperimentList(
            items=[ExperimentSummary(**r) for r in rows],
            total=total,
            offset=offset,
            limit=limit,
            sort=sort,
            order=order,
            index=svc.index.info(),
        )

    return await _query(request, svc, run)


async def _query(request: Request, svc: Services, run: Callable[[], _T]) -> _T:
    """`run()` in a worker thread, its queries stopped by the deadline or the client leaving.

    The deadline is `settings.query_timeout` (`FURU_SERVER_QUERY_TIMEOUT_SECS`); a client that
    disconnects cancels the query within `DISCONNECT_POLL_SECS`, so it burns no more CPU.

    Raises:
        FilterInvalidError: the query ran past the deadline, or SQLite could not parse it
            (nesting beyond its parser's stack: the tree's limits keep a filter from it).
    """
    cancelled = threading.Event()
    seconds = svc.settings.query_timeout

    def work() -> _T:
        with svc.index.deadline(seconds, cancelled):
            return run()

    async def watch() -> None:
        try:
            while not await request.is_disconnected():
                await anyio.sleep(DISCONNECT_POLL_SECS)
        finally:
            cancelled.set()  # the client left, or the request itself is being cancelled

    answer: list[_T] = []
    failure: Exception | None = None
    async with anyio.create_task_group() as group:  # (kept free of exceptions: no groups)
        group.start_soon(watch)
        try:
            answer.append(await anyio.to_thread.run_sync(work))
        except Exception as exc:
            failure = exc
        group.cancel_scope.cancel()
    if answer:
        return answer[0]
    if isinstance(failure, QueryInterrupted) and failure.timed_out:
        raise FilterInvalidError(
            f"the filter took longer than {failure.seconds:g} s to run (the limit, set by "
            "FURU_SERVER_QUERY_TIMEOUT_SECS) and was stopped; make it cheaper: narrow it with "
            "conditions that use the index (config.<field> = ..., namespace startswith ..., "
            "status = ...), anchor a regular expression (^...) or use contains/startswith"
        )
    if isinstance(failure, sqlite3.OperationalError) and str(failure).startswith(_TOO_COMPLEX):
        raise FilterInvalidError(
            f"the filter is too complex for SQLite to parse ({failure}); flatten it: fewer "
            "levels of parentheses, `in` instead of many `or`s"
        )
    if isinstance(failure, QueryInterrupted):  # nobody reads this: the client is gone
        raise ServerError(ErrorCode.BAD_REQUEST, "the client disconnected: its query was stopped")
    assert failure is not None
    raise failure


@router.get("/experiments", operation_id="listExperiments", response_model=ExperimentList)
async def list_experiments(
    request: Request,
    svc: Svc,
    result_status: Annotated[list[ResultStatus] | None, Query()] = None,
    attempt_status: Annotated[list[AttemptStatus] | None, Query()] = None,
    namespace: Annotated[str | None, Query(max_length=500, description="Prefix.")] = None,
    backend: Annotated[str | None, Query(max_length=100)] = None,
    hostname: Annotated[str | None, Query(max_length=255)] = None,
    user: Annotated[str | None, Query(max_length=255)] = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    config_filter: Annotated[list[str] | None, Query(description="e.g. lr=0.001")] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    stale: Annotated[
        bool | None,
        Query(description="Only stale (true) or current (false) experiments; needs a manifest."),
    ] = None,
    q: Annotated[str | None, Query(max_length=10_000, description="Text filter.")] = None,
    sort: SortKey = SortKey.updated,
    order: Order = Order.desc,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ExperimentList:
    """List experiments, filtered by the seed's filters (all and-ed), sorted and paginated."""
    parts: list[FilterExpr | None] = [parse_filter(q) if q else None]
    if result_status:
        parts.append(
            InFilter(op="in", path="result_status", values=[s.value for s in result_status])
        )
    if attempt_status:
        parts.append(
            InFilter(op="in", path="attempt_status", values=[s.value for s in attempt_status])
        )
    if namespace:
        parts.append(TextFilter(op="startswith", path="namespace", value=namespace))
    for field, value in (("backend", backend), ("hostname", hostname), ("user", user)):
        if value is not None:
            parts.append(CompareFilter(op="eq", path=field, value=value))
    # Dates compile as the index stores them (UTC, milliseconds; a naive time is UTC).
    if started_after is not None:
        parts.append(CompareFilter(op="ge", path="started_at", value=started_after.isoformat()))
    if started_before is not None:
        parts.append(CompareFilter(op="lt", path="started_at", value=started_before.isoformat()))
    parts += [_config_filter(text) for text in config_filter or []]
    parts += [build(TextFilter, op="contains", path="tags", value=t) for t in tag or []]
    if stale is not None:
        parts.append(CompareFilter(op="eq", path="stale", value=stale))
    return await _run_listing(request, svc, parts, sort, order, limit, offset)


@router.post("/experiments/search", operation_id="searchExperiments", response_model=ExperimentList)
async def search_experiments(request: Request, svc: Svc, body: SearchRequest) -> ExperimentList:
    """Search with the filter language: a JSON tree (`filter`) and/or its text form (`query`)."""
    parts = [body.filter, parse_filter(body.query) if body.query else None]
    return await _run_listing(
        request,
        svc,
        parts,
        body.sort,
        body.order,
        body.limit,
        body.offset,
        sort_field=parse_field(body.sort_field) if body.sort_field else None,
        columns=[parse_field(c) for c in body.columns],
    )


@router.get("/fields", operation_id="listFields", response_model=FieldList)
async def list_fields(
    request: Request,
    svc: Svc,
    class_name: Annotated[
        str | None,
        Query(
            alias="class",
            max_length=500,
            description="Only the experiments of this class (its name or full namespace).",
        ),
    ] = None,
) -> FieldList:
    """The fields a table can show and sort by: config leaves, results, and the results of
    the classes that depend on the experiments (`downstream.<Class>.result.<name>`), each
    with how many experiments have it. Memoised until the index changes."""

    def run() -> FieldList:
        found, truncated = svc.index.fields(class_name or None)
        return FieldList(
            class_name=class_name or None,
            fields=[FieldInfo(**vars(f)) for f in found],
            truncated=truncated,
            generation=svc.index.generation,
        )

    return await _query(request, svc, run)


@router.post("/filters/parse", operation_id="parseFilter", response_model=ParseResponse)
def parse_filter_text(body: ParseRequest) -> ParseResponse:
    """Parse the text form to the JSON tree (a search box shows errors at their position)."""
    expr = parse_filter(body.query)
    if expr is not None:
        compile_filter(expr)  # reports unknown fields and bad regexes too
    return ParseResponse(filter=expr, text=to_text(expr))


@router.get(
    "/experiments/{namespace}/{hash}", operation_id="getExperiment", response_model=ExperimentDetail
)
def get_experiment(svc: Svc, namespace: str, hash: str) -> ExperimentDetail:
    """Config, state, latest attempt, metadata, error with traceback, tags, name, sizes."""
    return detail(svc.index, namespace, hash)


@router.get(
    "/experiments/{namespace}/{hash}/relationships",
    operation_id="getRelationships",
    response_model=Relationships,
)
def get_relationships(
    svc: Svc, namespace: str, hash: str, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> Relationships:
    """Parents (what it depends on) and children (what depends on it), each with its status."""
    locate(svc.index, namespace, hash)
    return relationships(svc.index, namespace, hash, limit)


@router.get(
    "/experiments/{namespace}/{hash}/lineage", operation_id="getLineage", response_model=Lineage
)
def get_lineage(
    svc: Svc,
    namespace: str,
    hash: str,
    depth: Annotated[int, Query(ge=1, le=50)] = 10,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Lineage:
    """Ancestors (negative depth) and descendants (positive depth) of one experiment."""
    locate(svc.index, namespace, hash)
    return lineage(svc.index, namespace, hash, depth, limit)


@router.get("/diff", operation_id="diffExperiments", response_model=Diff)
def diff_experiments(
    svc: Svc,
    a: Annotated[str, Query(max_length=700, pattern=REF_PATTERN, description="<namespace>/<hash>")],
    b: Annotated[str, Query(max_length=700, pattern=REF_PATTERN, description="<namespace>/<hash>")],
) -> Diff:
    """Field-by-field differences of two experiments' configs (and metadata)."""
    return diff(svc.index, a, b)


@router.get("/stats", operation_id="getStats", response_model=Stats)
def get_stats(svc: Svc) -> Stats:
    """Counts per status and backend, disk usage, and the index's freshness."""
    return stats(svc.index)


@router.get("/namespaces", operation_id="listNamespaces", response_model=list[NamespaceInfo])
def list_namespaces(svc: Svc) -> list[NamespaceInfo]:
    """Every namespace (class) with experiments, with counts per status and disk usage."""
    return namespaces(svc.index)


@router.get("/dag", operation_id="getDag", response_model=Dag)
def get_dag(svc: Svc, source: DagSource = DagSource.experiments) -> Dag:
    """The class-level graph: nodes with counts per status (and stale) and bases, edges by
    field name. `source=experiments` (default): the classes of the stored experiments;
    `source=code`: the classes of the current code (`manifest.json`), those without
    experiments included (`defined_only`)."""
    if source is DagSource.code:
        return code_dag(svc.index)
    return dag(svc.index)


@router.get("/dag/classes/{namespace}", operation_id="getDagClass", response_model=DagClass)
def get_dag_class(svc: Svc, namespace: str) -> DagClass:
    """One class in detail, for the DAG's side panel: the config fields whose values differ
    among its experiments (with counts per value) and its most recent failures."""
    return dag_class(svc.index, namespace)


@router.get("/health", operation_id="getHealth", response_model=Health)
def get_health(svc: Svc) -> Health:
    return Health(status="ok", index=svc.index.info())


@router.get("/version", operation_id="getVersion", response_model=Version)
def get_version() -> Version:
    import furu
    from furu_server import __version__

    return Version(
        server=__version__, furu=furu.__version__, api=API_VERSION, python=platform.python_version()
    )


@router.post("/index/refresh", operation_id="refreshIndex", response_model=RefreshResult)
def refresh_index(svc: Svc, full: bool = False) -> RefreshResult:
    """Refresh the index now (`full`: rescan the whole store) and say what changed."""
    result = svc.index.refresh(full=full)
    return RefreshResult(
        kind=result.kind,
        changed=result.changed,
        removed=result.removed,
        seconds=round(result.seconds, 6),
        generation=result.generation,
    )
