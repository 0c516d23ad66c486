"""The code as the server sees it: `manifest.json` (via `furu.Manifest`) joined with the index.

`manifest_info` answers `GET /api/manifest`: the classes of the code with the counts of their
experiments (stale ones too), and the named experiments of the `FuruList`s with their status in
the store (`defined, not yet run` when the store lacks them). `code_dag` answers
`GET /api/dag?source=code`: the class graph of the code, classes without experiments included.
Both are memoised until the index or the manifest changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import furu
from furu import AttemptStatus, ResultStatus
from furu_server._clip import Clipper
from furu_server._code_models import (
    ManifestClass,
    ManifestDependency,
    ManifestExperiment,
    ManifestField,
    ManifestInfo,
    ManifestList,
)
from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Dag, DagEdge, DagNode, DagSource, SubclassEdge
from furu_server.index._index import Index
from furu_server.index._records import class_name_of

NOT_RUN = "defined, not yet run"
VALUE_CHARS, VALUE_ITEMS, VALUE_DEPTH = 10_000, 1_000, 32
"""What one value of the manifest (a config, a default, a snippet) keeps in a response:
`manifest.json` may be large, or planted."""
_TOP_FIELD = re.compile(r"[\[.]")
"""Where a dependency's field path goes below its top-level field (`models[0]`, `a.b`)."""


def current_manifest(index: Index) -> furu.Manifest:
    """The manifest of the store, as it is now.

    Raises:
        ServerError: `manifest_not_found` (no file: run `furu manifest`) or
            `manifest_unreadable` (damaged, or of another version).
    """
    loaded = index.manifest.load()
    path = index.manifest.path
    if loaded.error is not None:
        raise ServerError(ErrorCode.MANIFEST_UNREADABLE, loaded.error, {"path": str(path)})
    if loaded.manifest is None:
        raise ServerError(
            ErrorCode.MANIFEST_NOT_FOUND,
            f"the store has no code manifest ({path}), so the server does not know the current "
            "code. Run `furu manifest` in the project (its modules are listed in [tool.furu] "
            "modules = [...] of pyproject.toml, or given as arguments), or POST "
            "/api/manifest/refresh to run it from here.",
            {"path": str(path)},
        )
    manifest: furu.Manifest = loaded.manifest
    return manifest


def _cached(index: Index, key: str, build: Any) -> Any:
    stamp = index.manifest.stamp()
    return index.cached(f"{key}:{stamp}", build)


# ---------------------------------------------------------------- counts


def _class_counts(index: Index) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Experiments per class and result status, and stale ones per class."""

    def build() -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        stale: dict[str, int] = {}
        with index.read() as conn:
            for ns, status, n, n_stale in conn.execute(
                "SELECT namespace, result_status, count(*), coalesce(sum(stale), 0) "
                "FROM experiments GROUP BY namespace, result_status"
            ):
                counts[ns][status] = n
                stale[ns] = stale.get(ns, 0) + int(n_stale)
        return dict(counts), stale

    result: tuple[dict[str, dict[str, int]], dict[str, int]] = index.cached("class-counts", build)
    return result


# ---------------------------------------------------------------- GET /api/manifest


def manifest_info(index: Index) -> ManifestInfo:
    manifest = current_manifest(index)
    result: ManifestInfo = _cached(index, "manifest", lambda: _manifest_info(index, manifest))
    return result


def _manifest_info(index: Index, manifest: furu.Manifest) -> ManifestInfo:
    clipper = Clipper(VALUE_CHARS, VALUE_ITEMS, VALUE_DEPTH)
    counts, stale = _class_counts(index)
    classes = [
        ManifestClass(
            namespace=c.namespace,
            class_name=c.name,
            bases=list(c.bases),
            fields=[
                ManifestField(
                    name=f.name,
                    type=f.type,
                    has_default=f.has_default,
                    default=clipper.clip_each(f.default, f"{c.namespace}.{f.name}"),
                )
                for f in c.fields
            ],
            dependencies=[
                ManifestDependency(field=d.field, namespace=d.namespace) for d in c.dependencies
            ],
            migrations=[
                clipper.clip_each(dict(m), f"{c.namespace}.migrations") for m in c.migrations
            ],
            doc=c.doc or None,
            experiments=sum(counts.get(c.namespace, {}).values()),
            stale=stale.get(c.namespace, 0),
            counts=counts.get(c.namespace, {}),
        )
        for c in sorted(manifest.classes.values(), key=lambda c: c.namespace)
    ]
    removed = sorted(ns for ns in counts if ns not in manifest.classes and manifest.covers(ns))
    return ManifestInfo(
        path=str(index.manifest.path),
        written_at=manifest.written_at,
        modules=list(manifest.modules),
        errors=[f"{e.get('module')}: {e.get('error')}" for e in manifest.errors],
        classes=classes,
        lists=_lists(index, manifest, clipper),
        removed_classes=removed,
        stale=sum(stale.values()),
        truncated=bool(clipper.report()),
    )


def _lists(index: Index, manifest: furu.Manifest, clipper: Clipper) -> list[ManifestList]:
    pairs = [(e.namespace, e.hash) for x in manifest.lists for e in x.experiments]
    found = _statuses(index, pairs)
    lists = []
    for listed in manifest.lists:
        module = listed.name.split(":", 1)[0] if ":" in listed.name else None
        experiments = []
        for e in listed.experiments:
            row = found.get((e.namespace, e.hash))
            result = ResultStatus(row[0]) if row else ResultStatus.ABSENT
            experiments.append(
                ManifestExperiment(
                    name=e.name,
                    namespace=e.namespace,
                    class_name=class_name_of(e.namespace),
                    hash=e.hash,
                    ref=f"{e.namespace}/{e.hash}",
                    indexed=row is not None,
                    status=result.value if row is not None else NOT_RUN,
                    result_status=result,
                    attempt_status=AttemptStatus(row[1]) if row and row[1] else None,
                    stale=None if row is None or row[2] is None else bool(row[2]),
                    config=clipper.clip_each(e.config, f"{listed.name}.{e.name}.config"),
                    snippet=clipper.text(e.python, f"{listed.name}.{e.name}") or None,
                )
            )
        lists.append(ManifestList(name=listed.name, module=module, experiments=experiments))
    return lists


def _statuses(
    index: Index, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str | None, int | None]]:
    found: dict[tuple[str, str], tuple[str, str | None, int | None]] = {}
    with index.read() as conn:
        for namespace, digest in pairs:
            row = conn.execute(
                "SELECT result_status, attempt_status, stale FROM experiments "
                "WHERE namespace = ? AND hash = ?",
                (namespace, digest),
            ).fetchone()
            if row is not None:
                found[(namespace, digest)] = (row[0], row[1], row[2])
    return found


# ---------------------------------------------------------------- GET /api/dag?source=code


def code_dag(index: Index) -> Dag:
    """The class graph of the current code, with each class's experiments counted (classes
    without any are `defined_only`); edges from declared dependencies."""
    manifest = current_manifest(index)
    result: Dag = _cached(index, "code-dag", lambda: _code_dag(index, manifest))
    return result


def _code_dag(index: Index, manifest: furu.Manifest) -> Dag:
    counts, stale = _class_counts(index)
    used = _edge_counts(index)
    nodes = []
    edges: dict[tuple[str, str, str], int] = {}
    subclass: set[tuple[str, str]] = set()
    for c in manifest.classes.values():
        bases = list(c.bases)
        chain = [c.namespace, *bases]
        subclass |= {(chain[i], chain[i + 1]) for i in range(len(chain) - 1)}
        for d in c.dependencies:
            edges[(d.namespace, c.namespace, d.field)] = used.get(
                (d.namespace, c.namespace, d.field), 0
            )
        nodes.append(
            DagNode(
                namespace=c.namespace,
                class_name=c.name,
                total=sum(counts.get(c.namespace, {}).values()),
                counts=counts.get(c.namespace, {}),
                bases=bases,
                has_experiments=c.namespace in counts,
                stale=stale.get(c.namespace, 0),
                in_code=True,
                defined_only=c.namespace not in counts,
            )
        )
    known = set(manifest.classes)
    for ns in sorted({s for s, _, _ in edges} | {p for _, p in subclass} - known):
        if ns in known:
            continue
        known.add(ns)
        nodes.append(  # a base or dependency of another package: shown, not counted as code
            DagNode(
                namespace=ns,
                class_name=class_name_of(ns),
                total=sum(counts.get(ns, {}).values()),
                counts=counts.get(ns, {}),
                bases=[],
                has_experiments=ns in counts,
                stale=stale.get(ns, 0),
                in_code=False,
                defined_only=False,
            )
        )
    return Dag(
        nodes=sorted(nodes, key=lambda n: n.namespace),
        edges=[
            DagEdge(source=s, target=t, field=f, count=n) for (s, t, f), n in sorted(edges.items())
        ],
        subclass_edges=[SubclassEdge(child=c, parent=p) for c, p in sorted(subclass)],
        source=DagSource.code,
        manifest_written_at=manifest.written_at,
    )


def _edge_counts(index: Index) -> dict[tuple[str, str, str], int]:
    """`(dependency class, class, field) -> stored uses`, list indices folded (`deps[]`)."""
    found: dict[tuple[str, str, str], int] = defaultdict(int)
    with index.read() as conn:
        for ns, field, dep_ns, n in conn.execute(
            "SELECT namespace, field, dep_namespace, count(*) FROM deps "
            "GROUP BY namespace, field, dep_namespace"
        ):
            found[(dep_ns, ns, _TOP_FIELD.split(field, 1)[0])] += n
    return found
