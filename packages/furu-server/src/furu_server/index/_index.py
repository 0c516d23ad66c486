"""The index as the API sees it: a background refresher, and the queries every listing runs.

Requests never walk the store: they read SQLite (each thread its own connection) while a
background thread keeps it fresh (`Indexer`). A request never waits for a refresh, except
`POST /api/index/refresh`, which asks for one.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from furu import StepDir
from furu_server._errors import ErrorCode, FilterInvalidError, ServerError
from furu_server._settings import ServerSettings
from furu_server._sorting import Order, SortKey
from furu_server.filters._fields import FieldRef, column_values, downstream_values
from furu_server.index._catalog import CatalogField, field_catalog
from furu_server.index._columns import SELECT_SQL, summary_of_row
from furu_server.index._database import IndexPathError, connect, is_damage
from furu_server.index._indexer import Indexer, RefreshStats
from furu_server.index._scanner import Root
from furu_server.index._text import sql_value

if TYPE_CHECKING:
    from furu_server._models import IndexInfo

_log = logging.getLogger("furu_server")
CACHE_SIZE = 256
EXAMPLES = 5
"""Experiments with problems named in `IndexInfo.problem_examples`."""

SORT_COLUMNS: dict[SortKey, str] = {
    SortKey.updated: "e.updated_at",
    SortKey.created: "e.created_at",
    SortKey.started: "e.started_at",
    SortKey.runtime: "e.runtime_sec",
    SortKey.status: "e.status_rank",
    SortKey.dependencies: "e.n_deps",
    SortKey.class_: "e.class_name {order}, e.namespace",
    SortKey.namespace: "e.namespace",
    SortKey.name: "e.name",
    SortKey.size: "e.size_bytes",
    SortKey.hash: "e.hash",
    SortKey.wall: "e.wall_sec",
    SortKey.cpu_user: "e.cpu_user_sec",
    SortKey.cpu_system: "e.cpu_system_sec",
    SortKey.peak_rss: "e.peak_rss_bytes",
    SortKey.gpu_memory: "e.gpu_peak_memory_bytes",
    SortKey.gpu_utilization: "e.gpu_utilization_pct",
}
SORT_INDEXES: dict[SortKey, str] = {
    SortKey.updated: "exp_updated",
    SortKey.created: "exp_created",
    SortKey.started: "exp_started",
    SortKey.runtime: "exp_runtime",
    SortKey.status: "exp_rank",
    SortKey.dependencies: "exp_ndeps",
    SortKey.class_: "exp_class",
    SortKey.wall: "exp_wall",
    SortKey.cpu_user: "exp_cpu_user",
    SortKey.peak_rss: "exp_peak_rss",
}


@dataclass(frozen=True)
class Located:
    """Where an indexed experiment lives."""

    namespace: str
    hash: str
    root_kind: str
    rel_dir: str
    furu_dir: str

    @property
    def step_dir(self) -> StepDir:
        """The experiment's directory, read and written through furu's store API."""
        return StepDir.at(self.furu_dir, self.rel_dir, kind=self.root_kind)


class QueryInterrupted(Exception):
    """A query `Index.deadline` stopped: it ran past its time (`timed_out`), or was cancelled.

    Attributes:
        timed_out: True when the time ran out, False when the caller cancelled it.
        seconds: the time the query was given.
    """

    def __init__(self, *, timed_out: bool, seconds: float) -> None:
        super().__init__(
            f"the query {'ran past' if timed_out else 'was cancelled within'} {seconds:g} s"
        )
        self.timed_out = timed_out
        self.seconds = seconds


PROGRESS_STEPS = 10_000
"""SQLite VM steps between two checks of a query's deadline (a check costs about a microsecond)."""


def roots_of(settings: ServerSettings) -> list[Root]:
    roots = [Root("data", settings.resolved_root / "data")]
    vc = settings.resolved_vc_root
    if vc is not None:
        roots.append(Root("vc", vc))
    return roots


class Index:
    """The index of one store: refreshed in the background, queried by requests."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.roots = {r.kind: r for r in roots_of(settings)}
        self.indexer = Indexer(
            settings.index_path(), settings.resolved_root, list(self.roots.values())
        )
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._epoch = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshing = False
        self.last_refresh_at: str | None = None
        self.cache: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.manifest = self.indexer.manifest
        self._names: tuple[Any, dict[tuple[str, str], str]] = (None, {})

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the background refresher (its first pass builds the index if needed)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="furu-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the refresher and close every connection (a later request reopens them)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._conns_lock:
            self._epoch += 1
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
        self.indexer.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            due = time.monotonic() - self.indexer.last_rescan > self.settings.full_scan_interval
            try:
                stats = self.refresh(full=due and self.indexer.built)
                if stats.changed or stats.removed:
                    self.indexer.checkpoint()
            except IndexPathError as exc:  # a setting to change: say so, without a traceback
                _log.error("furu-server: refreshing the index failed: %s", exc)
            except Exception:  # keep serving what is indexed; try again next time
                _log.exception("furu-server: refreshing the index failed")
            self._wake.wait(self.settings.refresh_interval)
            self._wake.clear()

    def refresh(self, *, full: bool = False) -> RefreshStats:
        """Refresh now (waits for a refresh already running, then runs its own)."""
        self.refreshing = True
        try:
            stats = self.indexer.refresh(full=full)
        finally:
            self.refreshing = False
        self.last_refresh_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        return stats

    def conn(self) -> sqlite3.Connection:
        """This thread's read connection (opened again after `stop()` closed it, or after a
        damaged index file was replaced by a new one).

        Inside `read()` or `deadline()` the thread keeps the connection it started with, so
        one request never switches files halfway (nor loses its deadline). A replaced
        connection is dropped, not closed: a caller may still hold it, and it closes itself
        once the last reference goes.
        """
        key = (self._epoch, self.indexer.incarnation)
        found: tuple[tuple[int, int], sqlite3.Connection] | None = getattr(
            self._local, "conn", None
        )
        if found is not None and (found[0] == key or getattr(self._local, "pins", 0) > 0):
            return found[1]
        conn = connect(self.settings.index_path())
        with self._conns_lock:
            if found is not None and found[1] in self._conns:
                self._conns.remove(found[1])
            self._local.conn = (key, conn)
            self._conns.append(conn)
        return conn

    @contextlib.contextmanager
    def _pinned(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        self._local.pins = getattr(self._local, "pins", 0) + 1
        try:
            yield conn
        finally:
            self._local.pins -= 1

    def unavailable(self, exc: Exception) -> ServerError | None:
        """The error to answer with when a request failed because the index file is damaged
        or gone (the refresher is woken to build a new one); None for any other failure."""
        path = self.settings.index_path()
        if isinstance(exc, IndexPathError):
            message = str(exc)
        elif is_damage(exc):
            self.indexer.report_damage(f"{type(exc).__name__}: {exc}")
            self._wake.set()
            message = (
                f"the index at {path} is damaged or gone ({exc}); furu-server is building a "
                "new one from the store (the store itself is untouched). Retry in a few "
                "seconds: GET /api/health answers again once it is rebuilding."
            )
        else:
            return None
        return ServerError(ErrorCode.INDEX_UNAVAILABLE, message, {"index_path": str(path)})

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several queries."""
        with self._pinned() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextlib.contextmanager
    def deadline(self, seconds: float, cancelled: threading.Event) -> Iterator[None]:
        """Stop this thread's queries once `seconds` have passed or `cancelled` is set.

        SQLite checks between VM steps (its progress handler), so a query stops within about
        a millisecond, wherever it is, and the worker thread is free again.

        Raises:
            QueryInterrupted: a query inside the block was stopped.
        """
        end = time.monotonic() + seconds
        timed_out = False

        def progress() -> int:
            nonlocal timed_out
            if cancelled.is_set():
                return 1
            if time.monotonic() > end:
                timed_out = True
                return 1
            return 0

        with self._pinned() as conn:
            conn.set_progress_handler(progress, PROGRESS_STEPS)
            try:
                yield
            except sqlite3.OperationalError as exc:
                if str(exc) != "interrupted":
                    raise
                raise QueryInterrupted(timed_out=timed_out, seconds=seconds) from None
            finally:
                conn.set_progress_handler(None, PROGRESS_STEPS)

    @property
    def generation(self) -> int:
        return self.indexer.generation

    def info(self) -> IndexInfo:
        from furu_server._models import IndexInfo  # (pydantic: not for a process that only lists)

        last = self.indexer.last
        if self.indexer.built:
            count = self.count("1", [])
        else:  # a first build commits batch by batch: count what is there now, not memoised
            (count,) = self.conn().execute("SELECT count(*) FROM experiments").fetchone()
        return IndexInfo(
            generation=self.generation,
            experiments=count,
            built=self.indexer.built,
            refreshing=self.refreshing,
            last_refresh_at=self.last_refresh_at,
            last_refresh_kind=last.kind if last else None,
            last_refresh_seconds=round(last.seconds, 6) if last else None,
            build_total=None if self.indexer.built else self.indexer.build_total,
            **self.cached("problems", self._problems),
        )

    def fields(self, class_name: str | None) -> tuple[list[CatalogField], bool]:
        """The fields a table can show and sort by (`_catalog.field_catalog`), memoised until
        the index changes (not while it is first built: it grows with every batch)."""
        if not self.indexer.built:
            return field_catalog(self.conn(), class_name)
        found: tuple[list[CatalogField], bool] = self.cached(
            f"fields:{class_name}", lambda: field_catalog(self.conn(), class_name)
        )
        return found

    def _problems(self) -> dict[str, Any]:
        conn = self.conn()
        (count,) = conn.execute(
            "SELECT count(*) FROM experiments WHERE problems IS NOT NULL"
        ).fetchone()
        rows = conn.execute(
            "SELECT namespace, hash, problems FROM experiments WHERE problems IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (EXAMPLES,),
        ).fetchall()
        examples = [*reversed(self.indexer.not_indexed)]
        examples += [f"{ns}/{digest}: {'; '.join(json.loads(p))}"[:500] for ns, digest, p in rows]
        return {"problems": int(count), "problem_examples": examples[:EXAMPLES]}

    def cached(self, key: str, build: Any) -> Any:
        """`build()`, memoised until the index changes (the last `CACHE_SIZE` keys)."""
        with self._cache_lock:
            hit = self.cache.get(key)
            if hit is not None and hit[0] == self.generation:
                self.cache.move_to_end(key)
                return hit[1]
        generation = self.generation
        value = build()
        with self._cache_lock:
            self.cache[key] = (generation, value)
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        return value

    # ------------------------------------------------------------ listing

    def furu_dir(self, root_kind: str, rel_dir: str) -> str:
        root = self.roots.get(root_kind)
        return root.abs(rel_dir) if root is not None else rel_dir

    def summary(
        self, row: tuple[Any, ...], names: dict[tuple[str, str], str] | None = None
    ) -> dict[str, Any]:
        """`ExperimentSummary`'s fields for a row selected with `SELECT_SQL` (`names`: the
        `display_names()` of the page, read once for all its rows)."""
        summary, where = summary_of_row(row)
        summary["furu_dir"] = self.furu_dir(*where)
        return self.named(summary, names)

    def named(
        self, summary: dict[str, Any], names: dict[tuple[str, str], str] | None = None
    ) -> dict[str, Any]:
        """`summary` with its `display_name`: its name in a `FuruList` of the code, else its
        own name."""
        names = self.display_names() if names is None else names
        listed = names.get((summary["namespace"], summary["hash"]))
        summary["display_name"] = listed or summary.get("name")
        return summary

    def display_names(self) -> dict[tuple[str, str], str]:
        """`(namespace, hash) -> name` of every named experiment of the manifest's FuruLists."""
        loaded = self.manifest.load()
        if self._names[0] != loaded.stamp:
            names: dict[tuple[str, str], str] = {}
            for listed in loaded.manifest.lists if loaded.manifest is not None else ():
                for exp in listed.experiments:
                    names.setdefault((exp.namespace, exp.hash), exp.name)
            self._names = (loaded.stamp, names)
        return self._names[1]

    def stale_of(self, namespace: str, digest: str) -> tuple[bool | None, str | None, str | None]:
        """`(stale, stale_kind, stale_reason)` of an indexed experiment (all None: unknown)."""
        row = (
            self.conn()
            .execute(
                "SELECT stale, stale_kind, stale_reason FROM experiments "
                "WHERE namespace = ? AND hash = ?",
                (namespace, digest),
            )
            .fetchone()
        )
        if row is None or row[0] is None:
            return None, None, None
        return bool(row[0]), row[1], row[2]

    def listing(
        self,
        where: str,
        params: list[Any],
        sort: SortKey,
        order: Order,
        limit: int,
        offset: int,
        *,
        sort_field: FieldRef | None = None,
        columns: Sequence[FieldRef] = (),
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of experiments matching `where`, and how many match in all.

        `sort_field` (a config or result field, see `filters._fields`) replaces `sort`;
        each summary gets the values of `columns` in its `values`.
        """
        params = sql_value(params)  # a filter's text as the index stores it (`_text`)
        direction = "DESC" if order is Order.desc else "ASC"
        total = self.count(where, params)
        if sort_field is not None and sort_field.downstream is None:
            rows = self._page_by_leaf(sort_field, where, params, direction, limit, offset)
            return self._with_values(rows, columns), total
        if sort_field is not None:
            return self._with_values(
                self._page_by_downstream(sort_field, where, params, direction, limit, offset),
                columns,
            ), total
        column = SORT_COLUMNS[sort].format(order=direction)
        clause = f"{column} {direction}, e.id {direction}"
        # Many matches: walk the sort column's index and stop after the page (SQLite would
        # otherwise collect every match and sort it). Few matches: let SQLite pick.
        # (Not while the index is built: a build drops the indexes until its end.)
        walk = (
            sort_field is None
            and sort in SORT_INDEXES
            and self.indexer.built
            and total * total >= (offset + limit) * self.count("1", [])
        )

        def page(source: str) -> list[Any]:
            sql = (
                f"SELECT {SELECT_SQL}, e.id FROM {source} WHERE {where} "
                f"ORDER BY {clause} LIMIT ? OFFSET ?"
            )
            return self.conn().execute(sql, [*params, limit, offset]).fetchall()

        try:
            rows = page(
                f"experiments e INDEXED BY {SORT_INDEXES[sort]}" if walk else "experiments e"
            )
        except sqlite3.OperationalError as exc:  # a rebuild began meanwhile
            if not walk or "no such index" not in str(exc):
                raise
            rows = page("experiments e")
        return self._with_values(rows, columns), total

    def _with_values(self, rows: list[Any], columns: Sequence[FieldRef]) -> list[dict[str, Any]]:
        """Summaries of rows selected with `SELECT_SQL, e.id`, with the `columns`' values."""
        names = self.display_names()
        values = column_values(self.conn(), list(columns), [r[-1] for r in rows])
        return [{**self.summary(r[:-1], names), "values": values[r[-1]]} for r in rows]

    def _page_by_downstream(
        self,
        field: FieldRef,
        where: str,
        params: list[Any],
        direction: str,
        limit: int,
        offset: int,
    ) -> list[Any]:
        """A page sorted by a field of the dependents (`downstream.<Class>.result.<name>`):
        numbers, then texts, then the experiments without one."""
        values, values_params = downstream_values(field, direction == "DESC")
        sql = (
            f"{values}SELECT {SELECT_SQL}, e.id FROM experiments e "
            "LEFT JOIN v ON v.ns = e.namespace AND v.h = e.hash "
            f"WHERE {where} ORDER BY v.num {direction} NULLS LAST, v.str {direction} NULLS LAST, "
            f"e.id {direction} LIMIT ? OFFSET ?"
        )
        return self.conn().execute(sql, [*values_params, *params, limit, offset]).fetchall()

    def _page_by_leaf(
        self,
        field: FieldRef,
        where: str,
        params: list[Any],
        direction: str,
        limit: int,
        offset: int,
    ) -> list[Any]:
        """A page sorted by a config or result leaf: numbers, then booleans, then texts, each
        in the leaf table's own index order (a walk that stops after the page, not a sort of
        every match), then the experiments without the field, by id."""
        table, path = field.table, field.path
        conn = self.conn()
        rows: list[Any] = []
        skip, want = offset, limit
        for kind, column in (("num", "num"), ("bool", "num"), ("str", "str")):
            source = f"{table} k JOIN experiments e ON e.id = k.exp_id"
            cond = f"k.path = ? AND k.kind = '{kind}' AND ({where})"
            args = [path, *params]

            def count(source: str = source, cond: str = cond, args: list[Any] = args) -> int:
                return int(
                    conn.execute(f"SELECT count(*) FROM {source} WHERE {cond}", args).fetchone()[0]
                )

            found = self.cached(f"leaf:{table}:{path}:{kind}:{where}\x00{params!r}", count)
            if skip >= found:
                skip -= found
                continue
            rows += conn.execute(
                f"SELECT {SELECT_SQL}, e.id FROM {source} WHERE {cond} "
                # k.exp_id (= e.id): the leaf index's own order, so ties need no sort either
                f"ORDER BY k.{column} {direction}, k.exp_id {direction} LIMIT ? OFFSET ?",
                [*args, want, skip],
            ).fetchall()
            want, skip = limit - len(rows), 0
            if want <= 0:
                return rows
        rest = (
            f"({where}) AND e.id NOT IN (SELECT exp_id FROM {table} "
            "WHERE path = ? AND kind IN ('num', 'bool', 'str'))"
        )
        rows += conn.execute(
            f"SELECT {SELECT_SQL}, e.id FROM experiments e WHERE {rest} "
            f"ORDER BY e.id {direction} LIMIT ? OFFSET ?",
            [*params, path, want, skip],
        ).fetchall()
        return rows

    def check_fields(self, fields: Sequence[FieldRef]) -> None:
        """Refuse a config or result field no indexed experiment has (a typo such as
        `config.acuracy`), suggesting the closest ones; nothing is checked while the index is
        still being built (the field may be in what is not read yet).

        Raises:
            FilterInvalidError: no experiment has one of `fields`.
        """
        if not self.indexer.built:
            return
        conn = self.conn()
        for field in fields:
            path = field.path
            known = conn.execute(
                f"SELECT 1 FROM {field.table} WHERE path = ? OR (path > ? AND path < ?) LIMIT 1",
                (path, path + ".", path + "/"),
            ).fetchone()
            if known is not None:
                continue
            names = self.cached(
                f"paths:{field.table}",
                lambda t=field.table: [
                    p for (p,) in conn.execute(f"SELECT DISTINCT path FROM {t}")
                ],
            )
            close = difflib.get_close_matches(path, names, n=3, cutoff=0.6)
            head = field.name[: len(field.name) - len(path)]
            hint = f" Did you mean {', '.join(head + c for c in close)}?" if close else ""
            kind = "config field" if field.table == "config_kv" else "result"
            raise FilterInvalidError(
                f"no experiment has the {kind} {field.name!r}.{hint} Results come from "
                "results.json, metrics.json, eval.json or a step's _results(); config fields "
                "are the step's fields (see docs/filter-language.md).",
                path=field.name,
            )

    def count(self, where: str, params: list[Any]) -> int:
        """How many experiments match (memoised until the index changes: paging repeats it)."""

        def build() -> int:
            sql = f"SELECT count(*) FROM experiments e WHERE {where}"
            (total,) = self.conn().execute(sql, sql_value(params)).fetchone()
            return int(total)

        result: int = self.cached("count:" + where + "\x00" + repr(params), build)
        return result

    def dependents(self, namespace: str, digest: str) -> list[tuple[str, str]]:
        """Every indexed experiment that depends on this one, transitively, sorted."""
        conn = self.conn()
        seen: set[tuple[str, str]] = set()
        queue = deque([(namespace, digest)])
        while queue:
            ns, h = queue.popleft()
            for pair in conn.execute(
                "SELECT c.namespace, c.hash FROM deps d JOIN experiments c ON c.id = d.exp_id "
                "WHERE d.dep_namespace = ? AND d.dep_hash = ?",
                (ns, h),
            ):
                if pair not in seen:
                    seen.add(pair)
                    queue.append(pair)
        return sorted(seen)

    def locate(self, namespace: str, digest: str) -> Located | None:
        row = (
            self.conn()
            .execute(
                "SELECT root_kind, rel_dir FROM experiments WHERE namespace = ? AND hash = ?",
                (namespace, digest),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Located(namespace, digest, row[0], row[1], self.furu_dir(row[0], row[1]))

    def status_of(
        self, pairs: list[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        """`(result_status, attempt_status)` of each indexed `(namespace, hash)`."""
        found: dict[tuple[str, str], tuple[str, str | None]] = {}
        conn = self.conn()
        for namespace, digest in pairs:
            row = conn.execute(
                "SELECT result_status, attempt_status FROM experiments "
                "WHERE namespace = ? AND hash = ?",
                (namespace, digest),
            ).fetchone()
            if row is not None:
                found[(namespace, digest)] = (row[0], row[1])
        return found
