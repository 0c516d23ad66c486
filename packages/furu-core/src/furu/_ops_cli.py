"""`furu deps`, `furu rdeps`, `furu invalidate` and `furu rm`: look around a step, and fix it.

```
furu deps REF [--transitive] [--tree] [--json]     what the step was made from
furu rdeps REF [--transitive] [--tree] [--json]    what was made from the step
furu invalidate REF... [--dependents] [--yes] [--dry-run] [--json]
furu rm REF... [--dependents] [--yes] [--dry-run] [--json]
```
REF is anything `furu.find_step` accepts. `invalidate` and `rm` first list every step they will
hit; on a terminal they ask `Proceed? [y/N]`, elsewhere they need `--yes`. A step that is being
computed, running or queued is never touched: it is reported as skipped, and the exit status
is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from furu._errors import FuruError
from furu._ops import (
    StepChanges,
    busy_reason,
    find_step,
    graph_dependents,
    invalidate_steps,
    plan_targets,
    remove_steps,
)
from furu._step_dir import StepDir, StepId
from furu._workspace import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `deps`, `rdeps`, `invalidate` and `rm` to the `furu` command's subparsers."""
    ref_help = "namespace/hash, a hash prefix, Class/hash-prefix, or the step's directory"
    for name, helptext in (
        ("deps", "the steps a stored step was made from (its dependencies)"),
        ("rdeps", "the stored steps made from a step (its dependents)"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("ref", help=ref_help)
        cmd.add_argument("--transitive", action="store_true", help="all levels, nearest first")
        cmd.add_argument(
            "--tree", action="store_true", help="an indented tree of all levels, with statuses"
        )
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(run=_deps if name == "deps" else _rdeps)
    for name, helptext in (
        ("invalidate", "drop stored results so the next load_or_create recomputes them"),
        ("rm", "delete steps: their directories and the raw files they own"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("refs", nargs="+", metavar="REF", help=ref_help)
        cmd.add_argument(
            "--dependents",
            action="store_true",
            help="also every step that depends on them, transitively",
        )
        cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        cmd.add_argument(
            "--dry-run", action="store_true", help="list what would be hit, change nothing"
        )
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(run=_change, action=name)


def _store(args: argparse.Namespace) -> Store:
    from furu._cli import _store

    return _store(args)


# ------------------------------------------------------------ deps / rdeps


@dataclass
class _Graph:
    """Neighbours of a step one way (dependencies or dependents), and step dirs by id."""

    neighbours: Callable[[StepId], list[StepId]]
    lookup: Callable[[StepId], StepDir | None]


@dataclass
class _Node:
    id: StepId
    step: StepDir | None
    depth: int
    children: list[_Node] = field(default_factory=list)
    repeated: bool = False


def _dependency_graph(store: Store) -> _Graph:
    """Dependencies are read lazily: only the metadata of the steps walked."""
    from furu._graph import direct_dependencies
    from furu._ops import exact_step

    found: dict[StepId, StepDir | None] = {}

    def lookup(step_id: StepId) -> StepDir | None:
        if step_id not in found:
            found[step_id] = exact_step(store, str(step_id))
        return found[step_id]

    def neighbours(step_id: StepId) -> list[StepId]:
        step = lookup(step_id)
        return direct_dependencies(step) if step is not None else []

    return _Graph(neighbours, lookup)


def _dependent_graph(store: Store) -> _Graph:
    """Dependents need every step's metadata: one `StoreGraph` read of the store."""
    from furu._graph import StoreGraph

    graph = StoreGraph.load(store)
    return _Graph(lambda s: graph.dependents(s), graph.steps.get)


def _deps(args: argparse.Namespace) -> int:
    store = _store(args)
    step = find_step(store, args.ref)
    step.read_metadata()  # a damaged record is an error here, not "no dependencies"
    return _relatives(args, step, _dependency_graph(store), "dependencies")


def _rdeps(args: argparse.Namespace) -> int:
    store = _store(args)
    return _relatives(args, find_step(store, args.ref), _dependent_graph(store), "dependents")


def _relatives(args: argparse.Namespace, root: StepDir, graph: _Graph, what: str) -> int:
    if args.tree:
        tree = _tree(root, graph)
        if args.json:
            print(json.dumps({"step": str(root.id), "tree": _node_json(tree)}, indent=2))
        else:
            _print_tree(tree, sys.stdout)
        return 0
    found = _walk(root.id, graph, transitive=args.transitive)
    if args.json:
        rows = [{**_step_json(n.id, n.step), "depth": n.depth} for n in found]
        print(json.dumps({"step": str(root.id), what: rows}, indent=2))
        return 0
    for node in found:
        print(_line(node.id, node.step))
    level = "at every level" if args.transitive else "direct"
    print(f"{len(found)} {what} ({level}) of {root.id}", file=sys.stderr)
    return 0


def _walk(start: StepId, graph: _Graph, *, transitive: bool) -> list[_Node]:
    """Breadth first, nearest first, each step once."""
    seen = {start}
    out: list[_Node] = []
    queue = deque([(start, 0)])
    while queue:
        current, depth = queue.popleft()
        if depth and not transitive:
            break
        for nxt in graph.neighbours(current):
            if nxt not in seen:
                seen.add(nxt)
                out.append(_Node(nxt, graph.lookup(nxt), depth + 1))
                queue.append((nxt, depth + 1))
    return out


def _tree(root: StepDir, graph: _Graph) -> _Node:
    """Every path from `root`; a step met again is marked `repeated` and not expanded again."""
    top = _Node(root.id, root, 0)
    expanded = {root.id}
    stack = [top]
    while stack:
        node = stack.pop()
        for nxt in graph.neighbours(node.id):
            child = _Node(nxt, graph.lookup(nxt), node.depth + 1, repeated=nxt in expanded)
            node.children.append(child)
            if not child.repeated:
                expanded.add(nxt)
        stack.extend(reversed([c for c in node.children if not c.repeated]))
    return top


def _print_tree(node: _Node, out: TextIO, prefix: str = "", last: bool = True) -> None:
    branch = "" if node.depth == 0 else ("└── " if last else "├── ")
    note = "  (shown above)" if node.repeated else ""
    out.write(f"{prefix}{branch}{_line(node.id, node.step)}{note}\n")
    inner = prefix if node.depth == 0 else prefix + ("    " if last else "│   ")
    for i, child in enumerate(node.children):
        _print_tree(child, out, inner, i == len(node.children) - 1)


def _node_json(node: _Node) -> dict[str, Any]:
    out = _step_json(node.id, node.step)
    if node.repeated:
        out["repeated"] = True
    out["children"] = [_node_json(c) for c in node.children]
    return out


def _status(step: StepDir | None) -> tuple[str, str]:
    """(result status, attempt status) as `furu ls` shows them; `missing` when not stored."""
    if step is None:
        return "missing", "-"
    from furu._cli import _state

    state = _state(step)
    return state.result_status.value, state.attempt.status.value if state.attempt else "-"


def _line(step_id: StepId, step: StepDir | None) -> str:
    result, attempt = _status(step)
    vc = "vc" if step is not None and step.version_controlled else "-"
    gone = "  (not in the store)" if step is None else ""
    return f"{result:<11} {attempt:<10} {vc:<2} {step_id.namespace} {step_id.hash}{gone}"


def _step_json(step_id: StepId, step: StepDir | None) -> dict[str, Any]:
    result, attempt = _status(step)
    return {
        "id": str(step_id),
        "namespace": step_id.namespace,
        "hash": step_id.hash,
        "result_status": result,
        "attempt_status": None if attempt == "-" else attempt,
        "missing": step is None,
        "version_controlled": step is not None and step.version_controlled,
        "furu_dir": str(step.path) if step is not None else None,
    }


# ------------------------------------------------------------ invalidate / rm

_VERB = {"invalidate": ("invalidate", "invalidated"), "rm": ("remove", "removed")}


@dataclass
class _Plan:
    """What `invalidate`/`rm` will hit, read before anything changes."""

    targets: list[StepDir]
    rows: list[dict[str, Any]]
    left_out: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"planned": self.rows, "dependents_not_included": self.left_out}


def _change(args: argparse.Namespace) -> int:
    store = _store(args)
    verb, done_word = _VERB[args.action]
    plan = _plan(store, args)
    listing = sys.stderr if args.json else sys.stdout
    _print_plan(plan, verb, args.action, listing)
    if args.dry_run:
        if args.json:
            print(json.dumps({"action": verb, "dry_run": True, **plan.to_json()}, indent=2))
        return 0
    if not args.yes:
        _confirm(len(plan.targets), verb, done_word, listing)
    if args.action == "invalidate":
        reason = f"invalidated by `furu invalidate` at {_now()}"
        changes = invalidate_steps(store, plan.targets, reason=reason)
    else:
        changes = remove_steps(store, plan.targets)
    if args.json:
        print(json.dumps({**changes.to_json(), **plan.to_json()}, indent=2))
    else:
        _print_changes(changes, done_word)
    return 0 if changes.ok else 1


def _plan(store: Store, args: argparse.Namespace) -> _Plan:
    roots = [find_step(store, r) for r in args.refs]
    dependents_of = graph_dependents(store)  # one read of every metadata.json
    targets = plan_targets(store, roots, dependents=args.dependents, dependents_of=dependents_of)
    left_out = [] if args.dependents else _left_out(roots, targets, dependents_of)
    return _Plan(targets, _planned(targets, {r.path for r in roots}), left_out)


def _planned(targets: list[StepDir], roots: set[Path]) -> list[dict[str, Any]]:
    """Each target as JSON, with `dependent` (not named, but depends on one) and `busy`."""
    return [
        {**_step_json(t.id, t), "dependent": t.path not in roots, "busy": busy_reason(t)}
        for t in targets
    ]


def _print_plan(plan: _Plan, verb: str, action: str, out: TextIO) -> None:
    out.write(f"furu will {verb} {len(plan.rows)} step(s):\n")
    for row in plan.rows:
        why = "  (dependent)" if row["dependent"] else ""
        skip = f"  (will be skipped: {row['busy']})" if row["busy"] else ""
        attempt = row["attempt_status"] or "-"
        vc = "vc" if row["version_controlled"] else "-"
        out.write(
            f"  {row['result_status']:<11} {attempt:<10} {vc:<2} {row['namespace']} "
            f"{row['hash']}{why}{skip}\n"
        )
    if plan.left_out:
        _note_left_out(len(plan.left_out), action, out)
    out.flush()


def _left_out(
    roots: list[StepDir], targets: list[StepDir], dependents_of: Callable[[StepDir], Any]
) -> list[str]:
    """The stored steps made from `roots` (at any level) that are not among `targets`."""
    hit = {t.path for t in targets}
    left = {d.path: d for r in roots for d in dependents_of(r) if d.path not in hit}
    return [str(d.id) for d in left.values()]


def _note_left_out(count: int, action: str, out: TextIO) -> None:
    if action == "rm":
        what = "they stay, made from a step that will be gone"
    else:
        what = "they keep results made from the old one"
    out.write(
        f"note: {count} stored step(s) depend on these and are not included ({what}); "
        "--dependents adds them.\n"
    )


def _confirm(count: int, verb: str, done_word: str, out: TextIO) -> None:
    """Ask on a terminal; refuse elsewhere, so a script never changes a store by accident."""
    if not sys.stdin.isatty():
        raise FuruError(
            f"refusing to {verb} {count} step(s) without confirmation: stdin is not a terminal. "
            "Pass --yes to proceed (or --dry-run to only list them)."
        )
    out.write("Proceed? [y/N] ")
    out.flush()
    try:
        answer = sys.stdin.readline().strip().lower()
    except KeyboardInterrupt:
        answer = ""
    if answer not in ("y", "yes"):
        raise FuruError(f"nothing was {done_word}: the answer was not 'y'.")


def _print_changes(changes: StepChanges, done_word: str) -> None:
    for step in changes.done:
        print(f"{done_word} {step.id}")
    for skipped in changes.skipped:
        print(f"skipped {skipped.step.id}: {skipped.reason}", file=sys.stderr)
    summary = f"{len(changes.done)} step(s) {done_word}"
    if changes.skipped:
        summary += f", {len(changes.skipped)} skipped"
    print(summary, file=sys.stderr)


def _now() -> str:
    from furu._ops import _now

    return _now()
