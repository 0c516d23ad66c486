"""How the TUI draws things: status colours, an experiment's detail, the class DAG as text."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

if TYPE_CHECKING:
    from furu_server._models import Dag, ExperimentDetail, Related


STATUS_STYLES = {
    "success": "green",
    "failed": "bold red",
    "running": "bold yellow",
    "queued": "cyan",
    "incomplete": "magenta",
    "crashed": "red",
    "preempted": "yellow",
    "cancelled": "bright_black",
    "absent": "bright_black",
}
"""The colour of each status (result or attempt) wherever one is shown."""


def status_text(status: str | None) -> Text:
    shown = status or "absent"
    return Text(shown, style=STATUS_STYLES.get(shown, ""))


def short_time(stamp: str | None) -> str:
    """`2026-12-06T02:15:20.123+00:00` -> `2026-12-06 02:15:20` (what fits a column)."""
    if not stamp:
        return ""
    return stamp.replace("T", " ")[:19]


def _tree(label: str, value: Any, depth: int = 0) -> Tree:
    tree = Tree(Text(label, style="bold"))
    _grow(tree, value, depth)
    return tree


def _grow(tree: Tree, value: Any, depth: int) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item and depth < 12:
                _grow(tree.add(Text(str(key), style="cyan")), item, depth + 1)
            else:
                tree.add(Text.assemble((str(key), "cyan"), " = ", _scalar(item)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict | list) and item and depth < 12:
                _grow(tree.add(Text(f"[{i}]", style="cyan")), item, depth + 1)
            else:
                tree.add(Text.assemble((f"[{i}]", "cyan"), " = ", _scalar(item)))
    else:
        tree.add(_scalar(value))


def _scalar(value: Any) -> Text:
    if isinstance(value, str):
        return Text(json.dumps(value, ensure_ascii=False)[:2000], style="green")
    if isinstance(value, dict | list):
        return Text(json.dumps(value)[:2000])
    return Text(repr(value) if not isinstance(value, bool | int | float) else str(value))


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def detail_renderable(found: ExperimentDetail) -> RenderableType:
    """Everything the detail screen shows of one experiment, top to bottom."""
    head = Text.assemble(
        (found.class_name, "bold"),
        "  ",
        status_text(found.result_status.value),
        "  attempt: ",
        status_text(found.attempt_status.value if found.attempt_status else None),
        f"\n{found.namespace}/{found.hash}\n{found.furu_dir}",
    )
    if found.display_name or found.name:
        head.append(f"\nname: {found.display_name or found.name}", style="bold")
    head.append(f"\ntags: {', '.join(found.tags) if found.tags else '(none)'}")
    if found.stale:
        head.append(f"\nstale: {found.stale_reason or found.stale_kind}", style="yellow")
    parts: list[RenderableType] = [head, _section("Config"), _tree(found.class_name, found.config)]
    state = found.state or {}
    parts += [_section("State"), _state_text(found.result_status.value, state)]
    if found.error is not None:
        parts += [
            _section("Error"),
            Text(f"{found.error.type}: {found.error.message}", style="bold red"),
            Text(found.error.traceback or "(no traceback recorded)", style="red"),
        ]
    meta = {k: v for k, v in (found.metadata or {}).items() if k not in ("furu_python_def",)}
    parts += [_section("Metadata"), _tree("metadata", meta)]
    sizes = found.sizes
    parts.append(
        Text(
            f"\n{sizes.file_count} files, {sizes.total_bytes:,} bytes (log {sizes.log_bytes:,})",
            style="bright_black",
        )
    )
    return Group(*parts)


def _state_text(result_status: str, state: dict[str, Any]) -> Text:
    """The result, the number of attempts, and the latest attempt (who ran it, when, how)."""
    text = Text("result: ")
    text.append_text(status_text(result_status))
    text.append(f"   attempts: {state.get('attempts', '?')}")
    attempt = state.get("attempt")
    if not isinstance(attempt, dict):
        text.append("\nno attempt recorded")
        return text
    text.append(f"\nattempt #{attempt.get('number', '?')}: ")
    text.append_text(status_text(str(attempt.get("status"))))
    where = f"{attempt.get('user', '?')}@{attempt.get('host', '?')} pid {attempt.get('pid', '?')}"
    text.append(f"\n  {where} ({attempt.get('backend', '?')})")
    for key in ("command", "started_at", "ended_at", "reason"):
        if attempt.get(key):
            text.append(f"\n  {key}: {attempt[key]}")
    resources = attempt.get("resources")
    if isinstance(resources, dict):
        shown = ", ".join(f"{k} {v}" for k, v in resources.items() if v is not None)
        if shown:
            text.append(f"\n  resources: {shown}")
    return text


def related_label(item: Related) -> str:
    return f"{item.namespace}/{item.hash}"


def dag_text(found: Dag) -> Text:
    """The class DAG as text: classes in dependency order, each with its counts and the
    classes it feeds (`field -> Class`)."""
    names = {n.namespace: n for n in found.nodes}
    feeds: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    indegree: dict[str, int] = {ns: 0 for ns in names}
    for edge in found.edges:
        feeds[edge.source].append((edge.field, edge.target, edge.count))
        indegree[edge.target] = indegree.get(edge.target, 0) + 1
        indegree.setdefault(edge.source, 0)
    order: list[str] = []
    ready = sorted(ns for ns, n in indegree.items() if n == 0)
    while ready:
        ns = ready.pop(0)
        order.append(ns)
        for _, target, _ in feeds.get(ns, []):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
                ready.sort()
    order += sorted(set(indegree) - set(order))  # a cycle (never in furu): listed anyway
    text = Text()
    source = "the code's manifest" if found.manifest_written_at else "the stored experiments"
    text.append(f"Class DAG ({len(order)} classes, from {source})\n\n", style="bold")
    for ns in order:
        node = names.get(ns)
        text.append(ns.rsplit(".", 1)[-1], style="bold cyan")
        text.append(f"  {ns}")
        if node is not None:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(node.counts.items()))
            text.append(f"  [{node.total}{': ' + counts if counts else ''}]", style="bright_black")
            if node.stale:
                text.append(f" stale {node.stale}", style="yellow")
        text.append("\n")
        for field_name, target, count in sorted(feeds.get(ns, [])):
            text.append(f"  └─ {field_name} → ", style="bright_black")
            text.append(target.rsplit(".", 1)[-1], style="cyan")
            text.append(f" ({count})\n", style="bright_black")
    return text
