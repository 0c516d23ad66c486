"""`furu manifest`, `furu dag` and `furu stale`: the code's view of a store, from the shell.

```
furu manifest [MODULE ...] [--project DIR]            import the project, write manifest.json
furu dag [MODULE ...] [--mermaid | --json]            the class graph, with stored/stale counts
furu stale [MODULE ...] [--json]                      stale experiments, grouped by cause
```
Without modules, `dag` and `stale` read `<root>/manifest.json` (writing it first when absent);
with modules, they refresh it. `[tool.furu] modules` of pyproject.toml names the modules when
the command line does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from furu._manifest import STALE_KINDS, Manifest, ManifestClass
from furu._settings import FURU_CONFIG
from furu._stale import StaleResult, find_stale, read_records
from furu._workspace import Store


def register(sub: Any) -> None:
    """Add `manifest`, `dag` and `stale` to the `furu` command's subparsers."""
    manifest = sub.add_parser(
        "manifest",
        help="import the project's modules and write the code manifest (<root>/manifest.json)",
    )
    _code_args(manifest)
    manifest.set_defaults(run=_manifest)
    dag = sub.add_parser("dag", help="the class graph of the code, with stored and stale counts")
    _code_args(dag)
    how = dag.add_mutually_exclusive_group()
    how.add_argument("--mermaid", action="store_true", help="print a Mermaid `graph TD`")
    how.add_argument("--json", action="store_true", help="print JSON")
    dag.set_defaults(run=_dag)
    stale = sub.add_parser("stale", help="stored experiments the current code no longer makes")
    _code_args(stale)
    stale.add_argument("--json", action="store_true", help="print JSON")
    stale.set_defaults(run=_stale)


def _code_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help="modules to import (default: [tool.furu] modules of pyproject.toml)",
    )
    parser.add_argument(
        "--project", help="the directory the modules are imported from (default: here)"
    )


def _store(args: argparse.Namespace) -> Store:
    root = Path(args.root) if getattr(args, "root", None) else FURU_CONFIG.base_root
    return Store(root, version_controlled_root=FURU_CONFIG.version_controlled_root)


def _refresh(args: argparse.Namespace, store: Store) -> Manifest:
    """Import the modules (arguments, else pyproject.toml), write the manifest, report it."""
    from furu._manifest_scan import build_manifest, project_modules

    start = Path(args.project) if args.project else Path.cwd()
    if args.modules:
        project, modules = start, list(args.modules)
    else:
        project, modules = project_modules(start.resolve())
    manifest = build_manifest(modules, project=project, store=store)
    path = manifest.write(store)
    experiments = [e for x in manifest.lists for e in x.experiments]
    not_run = sum(e.status == "absent" for e in experiments)
    failed = [e for e in manifest.errors if e["module"] in modules]
    print(
        f"Wrote {path}: {len(manifest.classes)} class(es) from "
        f"{len(modules) - len(failed)} of {len(modules)} module(s), "
        f"{len(manifest.lists)} FuruList(s) naming {len(experiments)} experiment(s) "
        f"({not_run} defined, not yet run).",
        file=sys.stderr,
    )
    for error in manifest.errors:
        if error in failed:
            what = (
                f"module {error['module']} failed to import ({error['error']}); its classes are "
                "left out (their results are not called stale)"
            )
        else:
            what = f"{error['module']}: {error['error']}; it is left out of the list"
        print(f"furu manifest: {what}. Fix it and run `furu manifest` again.", file=sys.stderr)
    return manifest


def _manifest_for(args: argparse.Namespace, store: Store) -> Manifest:
    """The manifest to use: refreshed when modules are given or none was written yet."""
    if not args.modules:
        found = Manifest.read(store)
        if found is not None:
            return found
    return _refresh(args, store)


def _manifest(args: argparse.Namespace) -> int:
    store = _store(args)
    manifest = _refresh(args, store)
    for c in manifest.classes.values():
        deps = ", ".join(f"{d.field}: {_name(d.namespace)}" for d in c.dependencies)
        print(f"{c.namespace}" + (f"  <- {deps}" if deps else ""))
    for x in manifest.lists:
        print(f"{x.name}: {', '.join(e.name for e in x.experiments) or '(empty)'}")
    return 0


# ---------------------------------------------------------------- stale


def _stale(args: argparse.Namespace) -> int:
    store = _store(args)
    manifest = _manifest_for(args, store)
    records = read_records(store)
    found = find_stale(store, manifest, records)
    if args.json:
        out = {
            "manifest_written_at": manifest.written_at,
            "stored": len(records),
            "counts": {k: sum(r.kind == k for r in found) for k in STALE_KINDS},
            "stale": [r.to_json() for r in found],
        }
        print(json.dumps(out))  # one line: C-fast for 100,000 results (pipe it to `jq`)
        return 0
    _print_stale(found)
    print(
        f"{len(found)} stale of {len(records)} stored experiment(s) "
        f"(code manifest written at {manifest.written_at}; refresh it with `furu manifest`).",
        file=sys.stderr,
    )
    return 0


def _print_stale(found: Iterable[StaleResult]) -> None:
    groups: dict[str, dict[tuple[str, str], list[StaleResult]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in found:
        reason = r.reason
        if r.via is not None:  # one group per field and dependency class, not per dependency
            reason = f"its `{r.field}` ({_name(r.via.namespace)}) is stale"
        groups[r.kind][(_name(r.id.namespace), reason)].append(r)
    for kind in STALE_KINDS:
        if kind not in groups:
            continue
        print(f"{kind} ({sum(len(v) for v in groups[kind].values())})")
        for (cls, reason), results in groups[kind].items():
            print(f"  {cls}: {reason} ({len(results)})")
            for r in results:
                print(f"    {r.id}" + (f"  (below {r.via})" if r.via else ""))


# ---------------------------------------------------------------- dag


def _dag(args: argparse.Namespace) -> int:
    store = _store(args)
    manifest = _manifest_for(args, store)
    records = read_records(store)
    stored = Counter(r.id.namespace for r in records)
    stale = Counter(r.id.namespace for r in find_stale(store, manifest, records))
    if args.mermaid:
        print(mermaid(manifest, stored, stale))
    elif args.json:
        print(json.dumps(dag_json(manifest, stored, stale), indent=2))
    else:
        print(text_tree(manifest, stored, stale))
    return 0


def _name(namespace: str) -> str:
    return namespace.rsplit(".", 1)[-1]


def _counts(namespace: str, stored: Counter[str], stale: Counter[str]) -> str:
    n = stored.get(namespace, 0)
    if not n:
        return "no experiments"
    bad = stale.get(namespace, 0)
    return f"{n} stored" + (f", {bad} stale" if bad else "")


def _dependents(manifest: Manifest) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for c in manifest.classes.values():
        for d in c.dependencies:
            found[d.namespace].add(c.namespace)
    return found


def text_tree(manifest: Manifest, stored: Counter[str], stale: Counter[str]) -> str:
    """The class graph as an indented tree: each class nobody depends on, its dependencies
    below it; a class already shown is named again, not expanded."""
    depended = _dependents(manifest)
    tops = [c for c in manifest.classes.values() if c.namespace not in depended]
    lines: list[str] = []
    shown: set[str] = set()

    def walk(c: ManifestClass | None, namespace: str, label: str, depth: int) -> None:
        indent = "    " * depth
        if c is None:
            note = "not in the manifest's modules"
            lines.append(f"{indent}{label}{_name(namespace)}  ({namespace}; {note})")
            return
        again = " (see above)" if namespace in shown else ""
        counts = _counts(namespace, stored, stale)
        lines.append(f"{indent}{label}{c.name}  [{counts}]{again}")
        if again:
            return
        shown.add(namespace)
        for d in c.dependencies:
            walk(manifest.classes.get(d.namespace), d.namespace, f"{d.field}: ", depth + 1)

    for c in sorted(tops, key=lambda c: c.namespace):
        walk(c, c.namespace, "", 0)
    for c in manifest.classes.values():  # in a cycle: never a top
        if c.namespace not in shown:
            walk(c, c.namespace, "", 0)
    gone = sorted(n for n in stored if n not in manifest.classes and manifest.covers(n))
    if gone:
        lines.append("stored, gone from the code:")
        lines.extend(f"    {n}  [{_counts(n, stored, stale)}]" for n in gone)
    outside = sorted(n for n in stored if not manifest.covers(n))
    if outside:
        lines.append("stored, outside the manifest's modules (or in one that failed to import):")
        lines.extend(f"    {n}  [{_counts(n, stored, stale)}]" for n in outside)
    return "\n".join(lines)


def _node_id(namespace: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in namespace)


def mermaid(manifest: Manifest, stored: Counter[str], stale: Counter[str]) -> str:
    """The class graph as Mermaid `graph TD` (a dependency points at what uses it); classes
    without experiments are styled `noExperiments`, those with stale ones `hasStale`."""
    lines = ["graph TD"]
    extra = sorted(
        {d.namespace for c in manifest.classes.values() for d in c.dependencies}
        - set(manifest.classes)
    )
    for namespace in [*manifest.classes, *extra]:
        label = f"{_name(namespace)}<br/>{_counts(namespace, stored, stale)}"
        lines.append(f'    {_node_id(namespace)}["{label}"]')
    for c in manifest.classes.values():
        for d in c.dependencies:
            lines.append(f'    {_node_id(d.namespace)} -->|"{d.field}"| {_node_id(c.namespace)}')
    lines.append("    classDef noExperiments fill:#f4f4f5,stroke:#a1a1aa,stroke-dasharray:4 3")
    lines.append("    classDef hasStale fill:#fef3c7,stroke:#d97706")
    empty = [n for n in [*manifest.classes, *extra] if not stored.get(n)]
    if empty:
        lines.append(f"    class {','.join(_node_id(n) for n in empty)} noExperiments")
    with_stale = [n for n in manifest.classes if stale.get(n)]
    if with_stale:
        lines.append(f"    class {','.join(_node_id(n) for n in with_stale)} hasStale")
    return "\n".join(lines)


def dag_json(manifest: Manifest, stored: Counter[str], stale: Counter[str]) -> dict[str, Any]:
    """The class graph as JSON: classes with counts, edges dependency -> dependent, and the
    stored classes the code lacks (`gone`) or the manifest does not speak for (`outside`)."""
    return {
        "classes": [
            {
                "namespace": c.namespace,
                "name": c.name,
                "stored": stored.get(c.namespace, 0),
                "stale": stale.get(c.namespace, 0),
            }
            for c in manifest.classes.values()
        ],
        "edges": [
            {"from": d.namespace, "to": c.namespace, "field": d.field}
            for c in manifest.classes.values()
            for d in c.dependencies
        ],
        "gone": {
            n: k
            for n, k in sorted(stored.items())
            if n not in manifest.classes and manifest.covers(n)
        },
        "outside": {n: k for n, k in sorted(stored.items()) if not manifest.covers(n)},
    }
