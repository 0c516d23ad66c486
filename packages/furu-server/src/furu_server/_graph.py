"""Queries over how experiments relate: parents and children, lineage, the class-level DAG, counts.

All of them read the index. The DAG is per class, so its size depends on the number of classes,
never on the number of experiments, and it is memoised until the index changes.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from furu import AttemptStatus, ResultStatus
from furu_server._models import (
    ClassFailure,
    Dag,
    DagClass,
    DagEdge,
    DagNode,
    FieldValueCount,
    Lineage,
    LineageEdge,
    LineageNode,
    NamespaceInfo,
    Related,
    Relationships,
    Stats,
    SubclassEdge,
    VaryingField,
)
from furu_server.index._index import Index
from furu_server.index._records import class_name_of

_INDEX = re.compile(r"\[\d+\]")


def _related(field: str, ns: str, h: str, status: str | None, attempt: str | None) -> Related:
    """A parent or child from a query's row; `status` is None for a parent not in the index."""
    return Related(
        field=field,
        namespace=ns,
        hash=h,
        class_name=class_name_of(ns),
        result_status=ResultStatus(status or "absent"),
        attempt_status=AttemptStatus(attempt) if attempt else None,
        indexed=status is not None,
    )


def relationships(index: Index, namespace: str, digest: str, limit: int = 500) -> Relationships:
    """Direct parents (dependencies) and children (dependents), each with its status."""
    with index.read() as conn:
        parents = [
            _related(*row)
            for row in conn.execute(
                "SELECT d.field, d.dep_namespace, d.dep_hash, p.result_status, p.attempt_status "
                "FROM experiments e JOIN deps d ON d.exp_id = e.id "
                "LEFT JOIN experiments p ON p.namespace = d.dep_namespace AND p.hash = d.dep_hash "
                "WHERE e.namespace = ? AND e.hash = ? ORDER BY d.rowid",
                (namespace, digest),
            )
        ]
        (total,) = conn.execute(
            "SELECT count(*) FROM deps WHERE dep_namespace = ? AND dep_hash = ?",
            (namespace, digest),
        ).fetchone()
        children = [
            _related(*row)
            for row in conn.execute(
                "SELECT d.field, c.namespace, c.hash, c.result_status, c.attempt_status "
                "FROM deps d JOIN experiments c ON c.id = d.exp_id "
                "WHERE d.dep_namespace = ? AND d.dep_hash = ? ORDER BY c.namespace, c.hash "
                "LIMIT ?",
                (namespace, digest, limit),
            )
        ]
    return Relationships(
        namespace=namespace, hash=digest, parents=parents, children=children, children_total=total
    )


def lineage(index: Index, namespace: str, digest: str, depth: int, limit: int) -> Lineage:
    """Every ancestor and descendant up to `depth` steps away (at most `limit` nodes)."""
    conn = index.conn()
    root = (namespace, digest)
    depth_of = {root: 0}
    edges: set[tuple[str, str, str]] = set()
    truncated = False
    for direction in ("up", "down"):
        frontier = [root]
        for level in range(1, depth + 1):
            following = []
            for ns, h in frontier:
                for field, other in _neighbours(conn, ns, h, direction):
                    source, target = (other, (ns, h)) if direction == "up" else ((ns, h), other)
                    edges.add((_key(source), _key(target), field))
                    if other not in depth_of:
                        if len(depth_of) >= limit:
                            truncated = True
                            continue
                        depth_of[other] = level if direction == "down" else -level
                        following.append(other)
            frontier = following
    statuses = index.status_of(list(depth_of))
    names = _names_of(index, list(depth_of))
    values = _config_values(index, list(depth_of))
    nodes = []
    for (ns, h), d in sorted(depth_of.items(), key=lambda item: (item[1], item[0])):
        status, attempt = statuses.get((ns, h), ("absent", None))
        nodes.append(
            LineageNode(
                namespace=ns,
                hash=h,
                class_name=class_name_of(ns),
                result_status=ResultStatus(status),
                attempt_status=AttemptStatus(attempt) if attempt else None,
                depth=d,
                display_name=names.get((ns, h)),
                values=values.get((ns, h), {}),
            )
        )
    kept = {_key(k) for k in depth_of}
    return Lineage(
        root=_key(root),
        nodes=nodes,
        edges=[
            LineageEdge(source=s, target=t, field=f)
            for s, t, f in sorted(edges)
            if s in kept and t in kept
        ],
        truncated=truncated,
    )


def _names_of(index: Index, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The display name of each experiment that has one: its name in a `FuruList` of the
    code (the manifest), else the name the user gave it."""
    listed = index.display_names()
    conn = index.conn()
    out: dict[tuple[str, str], str] = {}
    for ns, h in pairs:
        if (ns, h) in listed:
            out[(ns, h)] = listed[(ns, h)]
            continue
        row = conn.execute(
            "SELECT name FROM experiments WHERE namespace = ? AND hash = ?", (ns, h)
        ).fetchone()
        if row is not None and row[0]:
            out[(ns, h)] = str(row[0])
    return out


def _config_values(
    index: Index, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """`config.<path> -> value` of each experiment's scalar config leaves (the index's
    `config_kv`), as a search's `values` gives them."""
    conn = index.conn()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for ns, h in pairs:
        rows = conn.execute(
            "SELECT k.path, k.kind, k.num, k.str FROM experiments e "
            "JOIN config_kv k ON k.exp_id = e.id WHERE e.namespace = ? AND e.hash = ? "
            "ORDER BY k.rowid",
            (ns, h),
        ).fetchall()
        out[(ns, h)] = {f"config.{path}": _leaf(kind, num, text) for path, kind, num, text in rows}
    return out


def _leaf(kind: str, num: float | None, text: str | None) -> Any:
    if kind == "bool":
        return bool(num)
    if kind == "null" or (num is None and text is None):
        return None
    if num is not None:
        return int(num) if num.is_integer() and abs(num) < 2**53 else num
    return text


def _key(pair: tuple[str, str]) -> str:
    return f"{pair[0]}/{pair[1]}"


def _neighbours(conn: Any, ns: str, h: str, direction: str) -> list[tuple[str, tuple[str, str]]]:
    if direction == "up":
        rows = conn.execute(
            "SELECT d.field, d.dep_namespace, d.dep_hash FROM experiments e "
            "JOIN deps d ON d.exp_id = e.id WHERE e.namespace = ? AND e.hash = ?",
            (ns, h),
        )
    else:
        rows = conn.execute(
            "SELECT d.field, c.namespace, c.hash FROM deps d JOIN experiments c ON c.id = d.exp_id "
            "WHERE d.dep_namespace = ? AND d.dep_hash = ?",
            (ns, h),
        )
    return [(field, (a, b)) for field, a, b in rows]


def dag(index: Index) -> Dag:
    """Class-level nodes (counts per status and stale, bases, whether the code still has the
    class) and edges (by field), from the stored experiments; memoised."""
    loaded = index.manifest.load()
    result: Dag = index.cached(f"dag:{loaded.stamp}", lambda: _dag(index, loaded.manifest))
    return result


def _dag(index: Index, manifest: Any) -> Dag:
    with index.read() as conn:
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        stale: dict[str, int] = defaultdict(int)
        for ns, status, n, n_stale in conn.execute(
            "SELECT namespace, result_status, count(*), coalesce(sum(stale), 0) "
            "FROM experiments GROUP BY namespace, result_status"
        ):
            counts[ns][status] = n
            stale[ns] += int(n_stale)
        bases = {
            ns: json.loads(b) for ns, b in conn.execute("SELECT namespace, bases FROM classes")
        }
        grouped: dict[tuple[str, str, str], int] = defaultdict(int)
        for ns, field, dep_ns, n in conn.execute(
            "SELECT namespace, field, dep_namespace, count(*) FROM deps "
            "GROUP BY namespace, field, dep_namespace"
        ):
            grouped[(dep_ns, ns, _INDEX.sub("[]", field))] += n
    subclass: set[tuple[str, str]] = set()
    for ns in counts:
        chain = [ns, *bases.get(ns, [])]
        subclass |= {(chain[i], chain[i + 1]) for i in range(len(chain) - 1)}
    names = set(counts) | {p for _, p in subclass} | {s for s, _, _ in grouped}
    nodes = [
        DagNode(
            namespace=ns,
            class_name=class_name_of(ns),
            total=sum(counts.get(ns, {}).values()),
            counts=counts.get(ns, {}),
            bases=bases.get(ns, []),
            has_experiments=ns in counts,
            stale=stale.get(ns, 0),
            in_code=None if manifest is None else ns in manifest.classes,
        )
        for ns in sorted(names)
    ]
    edges = [
        DagEdge(source=s, target=t, field=f, count=n) for (s, t, f), n in sorted(grouped.items())
    ]
    return Dag(
        nodes=nodes,
        edges=edges,
        subclass_edges=[SubclassEdge(child=c, parent=p) for c, p in sorted(subclass)],
        manifest_written_at=None if manifest is None else manifest.written_at,
    )


MAX_VARYING = 30
MAX_VALUES = 8
MAX_FAILURES = 10


def dag_class(index: Index, namespace: str) -> DagClass:
    """The DAG's side panel for one class: the config fields that vary among its experiments
    (with counts per value) and its most recent failures; memoised until the index changes.

    Reads the index only (`config_kv` grouped by field and value), so it costs one pass over
    the class's config leaves, whatever the store's size.
    """
    result: DagClass = index.cached(f"dag-class:{namespace}", lambda: _dag_class(index, namespace))
    return result


def _dag_class(index: Index, namespace: str) -> DagClass:
    values: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    with index.read() as conn:
        (total, failed) = conn.execute(
            "SELECT count(*), coalesce(sum(result_status = 'failed'), 0) FROM experiments "
            "WHERE namespace = ?",
            (namespace,),
        ).fetchone()
        for path, kind, num, text, n in conn.execute(
            "SELECT k.path, k.kind, k.num, k.str, count(*) FROM experiments e "
            "JOIN config_kv k ON k.exp_id = e.id WHERE e.namespace = ? "
            "GROUP BY k.path, k.kind, k.num, k.str",
            (namespace,),
        ):
            values[path].append((_leaf_value(kind, num, text), n))
        failures = [
            ClassFailure(namespace=namespace, hash=h, error_type=t, error_message=m, ended_at=ended)
            for h, t, m, ended in conn.execute(
                "SELECT hash, error_type, error_message, coalesce(ended_at, updated_at) AS at "
                "FROM experiments WHERE namespace = ? AND result_status = 'failed' "
                "ORDER BY at DESC, hash LIMIT ?",
                (namespace, MAX_FAILURES),
            )
        ]
    varying = [
        VaryingField(
            field=f"config.{path}",
            distinct=len(counts),
            values=[
                FieldValueCount(value=v, count=n)
                for v, n in sorted(counts, key=_by_count)[:MAX_VALUES]
            ],
        )
        for path, counts in values.items()
        if len(counts) > 1 or sum(n for _, n in counts) < total
    ]
    varying.sort(key=lambda f: (-f.distinct, f.field))
    return DagClass(
        namespace=namespace,
        class_name=class_name_of(namespace),
        total=total,
        failed=failed,
        varying=varying[:MAX_VARYING],
        constant=len(values) - len(varying),
        failures=failures,
    )


def _by_count(item: tuple[Any, int]) -> tuple[int, int, float, str]:
    """The most common values first; among as common ones, numbers in order, then text."""
    value, n = item
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (-n, 0, float(value), "")
    return (-n, 1, 0.0, str(value))


def _leaf_value(kind: str, num: float | None, text: str | None) -> float | int | str | bool | None:
    """A `config_kv` row's value as JSON: whole numbers as ints, booleans as booleans."""
    if kind == "bool":
        return bool(num)
    if kind == "num" and num is not None:
        return int(num) if num.is_integer() and abs(num) < 2**53 else num
    return text


def stats(index: Index) -> Stats:
    def build() -> dict[str, Any]:
        with index.read() as conn:

            def grouped(column: str) -> dict[str, int]:
                sql = f"SELECT {column}, count(*) FROM experiments GROUP BY {column}"
                return {(k if k is not None else "none"): n for k, n in conn.execute(sql)}

            total, n_ns, size = conn.execute(
                "SELECT count(*), count(DISTINCT namespace), coalesce(sum(size_bytes), 0) "
                "FROM experiments"
            ).fetchone()
            by_result = grouped("result_status")
            by_attempt = grouped("attempt_status")
            return {
                "total": total,
                "by_result_status": by_result,
                "by_attempt_status": by_attempt,
                "by_backend": grouped("backend"),
                "namespaces": n_ns,
                "size_bytes": size,
                "running": by_attempt.get("running", 0),
                "failed": by_result.get("failed", 0),
            }

    data: dict[str, Any] = index.cached("stats", build)
    return Stats(**data, index=index.info())


def namespaces(index: Index) -> list[NamespaceInfo]:
    def build() -> list[NamespaceInfo]:
        found: dict[str, NamespaceInfo] = {}
        with index.read() as conn:
            for ns, status, n, size in conn.execute(
                "SELECT namespace, result_status, count(*), coalesce(sum(size_bytes), 0) "
                "FROM experiments GROUP BY namespace, result_status"
            ):
                info = found.setdefault(
                    ns,
                    NamespaceInfo(
                        namespace=ns, class_name=class_name_of(ns), total=0, counts={}, size_bytes=0
                    ),
                )
                info.total += n
                info.counts[status] = n
                info.size_bytes += size
        return sorted(found.values(), key=lambda i: i.namespace)

    result: list[NamespaceInfo] = index.cached("namespaces", build)
    return result
