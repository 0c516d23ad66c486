"""What the TUI reads and changes, through the server's own index, filter compiler and actions.

Nothing here walks the store to list it: a listing is one page of the index (`LIMIT`/`OFFSET`),
filtered by the dashboard's filter language compiled to SQL (`furu_server.filters`), sorted by
the server's sort keys. One experiment's detail is read from its files (`_experiments.detail`),
its log by byte offset (`_logs.read_chunk`); changes go through `_actions`, like the API's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu_server._errors import ServerError
from furu_server._settings import ServerSettings
from furu_server._sorting import Order, SortKey
from furu_server.filters import compile_filter, parse_filter
from furu_server.index._index import Index, QueryInterrupted
from furu_server.index._indexer import RefreshStats

PAGE_SIZE = 100
"""Rows one page of the list holds (the table never holds more)."""
CONFIG_FIELDS = 3
"""Top-level config values shown in the list's `config` column."""
if TYPE_CHECKING:
    from furu_server._models import Dag, ExperimentDetail, LogChunk, Relationships

SORTS: tuple[SortKey, ...] = (
    SortKey.updated,
    SortKey.status,
    SortKey.class_,
    SortKey.created,
    SortKey.runtime,
    SortKey.name,
    SortKey.hash,
    SortKey.size,
)
"""The sort keys `s` cycles through, in order (all the server's, most useful first)."""


@dataclass(frozen=True)
class Row:
    """One experiment of a page, as the list shows it."""

    namespace: str
    hash: str
    class_name: str
    result_status: str
    attempt_status: str | None
    name: str | None
    tags: tuple[str, ...]
    updated_at: str | None
    config: str

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.hash}"

    @property
    def status(self) -> str:
        """The status to show: a live attempt (running, queued) wins over the result."""
        if self.attempt_status in ("running", "queued"):
            return self.attempt_status
        return self.result_status


@dataclass(frozen=True)
class Page:
    """One page of a listing: its rows, where it starts, and how many match in all."""

    rows: list[Row]
    offset: int
    total: int
    generation: int


@dataclass
class Query:
    """What the list shows: a filter (text of the filter language), a sort and an order."""

    text: str = ""
    sort: SortKey = SortKey.updated
    order: Order = Order.desc
    where: str = "1"
    params: list[Any] = field(default_factory=list)


class FilterError(Exception):
    """A filter that does not parse, cannot run, or ran too long: `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def compile_text(text: str) -> tuple[str, list[Any]]:
    """The SQL condition of a filter's text (the empty text matches everything).

    Raises:
        FilterError: the text does not parse, or names a field the index does not know.
    """
    try:
        return compile_filter([parse_filter(text) if text.strip() else None])
    except ServerError as exc:
        raise FilterError(exc.message) from None


class StoreData:
    """The TUI's view of one store: its index (opened, refreshed on demand) and the actions."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.index = Index(settings)
        self.page_size = PAGE_SIZE
        self._cancel = threading.Event()

    @property
    def built(self) -> bool:
        """Whether the index holds the store (an index never built lists nothing yet)."""
        return self.index.indexer.built

    def refresh(self) -> RefreshStats:
        """Bring the index up to date (a build the first time; then what the journal says)."""
        return self.index.refresh()

    def close(self) -> None:
        self._cancel.set()
        self.index.stop()

    # ------------------------------------------------------------ the list

    def page(self, query: Query, offset: int) -> Page:
        """The page of `query` starting at `offset` (clamped into the matches).

        Raises:
            FilterError: the query ran past `settings.query_timeout` (a filter too costly).
        """
        generation = self.index.generation
        limit = self.page_size
        try:
            with self.index.deadline(self.settings.query_timeout, self._cancel):
                total = self.index.count(query.where, query.params)
                offset = max(0, min(offset, max(0, total - 1)))
                offset -= offset % limit
                summaries, total = self.index.listing(
                    query.where, query.params, query.sort, query.order, limit, offset
                )
                configs = self._configs([(s["namespace"], s["hash"]) for s in summaries])
        except QueryInterrupted as exc:
            raise FilterError(
                f"the filter took longer than {exc.seconds:g} s and was stopped (the limit is "
                "FURU_SERVER_QUERY_TIMEOUT_SECS); narrow it with indexed conditions "
                "(status = ..., namespace startswith ..., config.<field> = ...)"
            ) from None
        except sqlite3.OperationalError as exc:
            raise FilterError(f"the filter could not run: {exc}") from None
        rows = [
            Row(
                namespace=s["namespace"],
                hash=s["hash"],
                class_name=s["class_name"],
                result_status=s["result_status"],
                attempt_status=s["attempt_status"],
                name=s.get("display_name") or s.get("name"),
                tags=tuple(s.get("tags") or ()),
                updated_at=s.get("updated_at"),
                config=configs.get((s["namespace"], s["hash"]), ""),
            )
            for s in summaries
        ]
        return Page(rows, offset, total, generation)

    def _configs(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """`field=value` of the first config leaves of each experiment (top-level ones first;
        a nested step's `__class__` left out)."""
        if not pairs:
            return {}
        found: dict[tuple[str, str], list[str]] = defaultdict(list)
        conn = self.index.conn()
        ids: dict[int, tuple[str, str]] = {}
        for pair in pairs:  # one lookup each on the (namespace, hash) key: about 10 µs
            row = conn.execute(
                "SELECT id FROM experiments WHERE namespace = ? AND hash = ?", pair
            ).fetchone()
            if row is not None:
                ids[int(row[0])] = pair
        marks = ", ".join("?" for _ in ids)
        sql = (
            "SELECT exp_id, path, kind, num, str FROM config_kv "
            f"WHERE exp_id IN ({marks}) ORDER BY exp_id, rowid"
        )
        leaves: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for exp_id, path, kind, num, text in conn.execute(sql, list(ids)):
            if "__class__" not in path:
                depth = path.count(".") + path.count("[")
                leaves[ids[exp_id]].append((depth, f"{path}={_leaf_text(kind, num, text)}"))
        for pair, found_leaves in leaves.items():
            # top-level fields first (in the config's order), then nested ones
            found[pair] = [text for _, text in sorted(found_leaves, key=lambda x: x[0])]
        return {pair: " ".join(values[:CONFIG_FIELDS]) for pair, values in found.items()}

    # ------------------------------------------------------------ one experiment

    def detail(self, namespace: str, digest: str) -> ExperimentDetail:
        """The experiment read from its files (exact even between two refreshes)."""
        from furu_server._experiments import detail

        return detail(self.index, namespace, digest)

    def relationships(self, namespace: str, digest: str) -> Relationships:
        """Its direct dependencies and dependents, each with its status."""
        from furu_server._graph import relationships

        return relationships(self.index, namespace, digest)

    def log(self, namespace: str, digest: str, offset: int) -> LogChunk:
        """Its `furu.log` from byte `offset` (at most 256 KiB a time)."""
        from furu_server._experiments import locate
        from furu_server._logs import read_chunk  # (imports fastapi: not before it is needed)

        return read_chunk(locate(self.index, namespace, digest).step_dir, offset, 262_144)

    def log_start(self, namespace: str, digest: str, tail_bytes: int = 65_536) -> int:
        """The byte offset a tail of the log starts at (its last `tail_bytes`)."""
        from furu_server._experiments import locate

        path = locate(self.index, namespace, digest).step_dir.log_path
        try:
            size = os.stat(path).st_size
        except OSError:
            return 0
        return max(0, size - tail_bytes)

    def running(self, namespace: str, digest: str) -> bool:
        from furu_server._experiments import is_active, locate

        return is_active(locate(self.index, namespace, digest).step_dir)

    def dependents(self, namespace: str, digest: str) -> list[str]:
        """Every experiment that depends on this one, transitively (what `--dependents` hits)."""
        return [f"{ns}/{h}" for ns, h in self.index.dependents(namespace, digest)]

    def dag(self) -> Dag:
        """The class DAG of the stored experiments (with the manifest's view, when there is one)."""
        from furu_server._graph import dag

        return dag(self.index)


def _leaf_text(kind: str, num: float | None, text: str | None) -> str:
    """A `config_kv` leaf as the list shows it (short)."""
    if kind == "bool":
        return "true" if num else "false"
    if kind == "null":
        return "None"
    if kind == "num" and num is not None:
        return f"{num:g}"
    return str(text)[:24]


def store_missing(settings: ServerSettings) -> str | None:
    """Why the store cannot be shown (no such directory), or None when it can."""
    root = Path(settings.resolved_root)
    if root.is_dir():
        return None
    return (
        f"there is no store at {root} (no such directory): pass --root DIR or set FURU_PATH "
        "to the store your steps write to"
    )
