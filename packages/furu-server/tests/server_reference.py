"""What the API should answer, computed straight from the store's files (no index, no SQL).

The server's answers are compared with these: `read_store` reads every experiment with
furu-core's `Store` and state reader, and `matches` evaluates a filter tree in Python with the
semantics `docs/filter-language.md` describes. Agreement between the two is the test that the
index and the SQL compiler are right.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import furu
from furu import FuruStoreError, ResultStatus, StepState
from furu_server.filters._sql import normalize_date, split_path
from furu_server.index._rows import flatten_config

NUM_COLUMNS = {"runtime", "runtime_sec", "attempts", "attempt_number", "n_dependencies"}
DATE_COLUMNS = {"started_at", "ended_at", "created_at"}


def read_store(root: Path, vc_root: Path | None) -> list[dict[str, Any]]:
    """One dict per experiment, from the files."""
    rows = []
    for entry in furu.Store(root, version_controlled_root=vc_root).step_dirs():
        try:
            state = entry.read_state()
        except FuruStoreError:  # a damaged state file reads as incomplete, as the index says
            state = StepState(ResultStatus.INCOMPLETE)
        try:
            meta = entry.read_metadata() or {}
        except FuruStoreError:
            meta = {}
        labels = entry.read_labels()
        attempt = state.attempt
        runtime = None
        if attempt is not None and attempt.ended_at:
            delta = datetime.fromisoformat(attempt.ended_at) - datetime.fromisoformat(
                attempt.started_at
            )
            runtime = delta.total_seconds()
        leaves: dict[str, list[tuple[str, float | None, str | None]]] = {}
        for path, kind, num, text in flatten_config(meta.get("furu_obj") or {}):
            leaves.setdefault(path, []).append((kind, num, text))
        rows.append(
            {
                "namespace": entry.namespace,
                "hash": entry.hash,
                "class": entry.namespace.rsplit(".", 1)[-1],
                "result_status": state.result_status.value,
                "attempt_status": attempt.status.value if attempt else None,
                # what the badge shows: the attempt's status unless it or the result succeeded
                "status": (
                    attempt.status.value
                    if attempt
                    and attempt.status.value != "success"
                    and state.result_status.value != "success"
                    else state.result_status.value
                ),
                "attempts": state.attempts,
                "attempt_number": attempt.number if attempt else None,
                "backend": attempt.backend if attempt else None,
                "hostname": attempt.host if attempt else meta.get("hostname"),
                "user": attempt.user if attempt else meta.get("user"),
                "started_at": attempt.started_at if attempt else None,
                "ended_at": attempt.ended_at if attempt else None,
                "created_at": meta.get("timestamp"),
                "runtime": runtime,
                "n_dependencies": len(meta.get("dependencies") or []),
                "name": labels.name,
                "error_type": (attempt.error or {}).get("type") if attempt else None,
                "error_message": (attempt.error or {}).get("message") if attempt else None,
                "tags": list(labels.tags),
                "version_controlled": entry.version_controlled,
                "leaves": leaves,
                "state": state.to_json(),
                "meta": meta,
            }
        )
    return rows


ALIASES = {"class_name": "class", "host": "hostname"}
ALIASES |= {"runtime_sec": "runtime", "dependencies": "n_dependencies"}


def _same_kind(value: Any, literal: Any) -> bool:
    if isinstance(literal, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(literal, bool)
    if isinstance(literal, int | float):
        return isinstance(value, int | float)
    return isinstance(value, str) and isinstance(literal, str)


def _compare(op: str, value: Any, literal: Any) -> bool:
    if literal is None:
        return op == "eq" and value is None
    if value is None or not _same_kind(value, literal):
        return False
    return {
        "eq": value == literal,
        "lt": value < literal,
        "le": value <= literal,
        "gt": value > literal,
        "ge": value >= literal,
    }[op]


def _text_op(op: str, value: Any, text: str) -> bool:
    if not isinstance(value, str):
        return False
    if op == "contains":
        return text in value
    if op == "startswith":
        return value.startswith(text)
    return re.search(text, value) is not None


def _leaf_values(row: dict[str, Any], path: str) -> list[Any]:
    out: list[Any] = []
    for kind, num, text in row["leaves"].get(path, []):
        if kind == "num":
            out.append(num if num is not None else object())
        elif kind == "bool":
            out.append(bool(num))
        elif kind == "str":
            out.append(text)
        else:
            out.append(None)
    return out


def _json_value(root: Any, parts: list[str]) -> tuple[bool, Any]:
    for part in parts:
        if isinstance(root, dict) and part in root:
            root = root[part]
        elif isinstance(root, list) and part.isdigit() and int(part) < len(root):
            root = root[int(part)]
        else:
            return False, None
    return True, root


def _leaf(tree: dict[str, Any], row: dict[str, Any]) -> bool:
    op, parts = tree["op"], split_path(tree["path"])
    head = parts[0]
    if head == "config":
        path = ".".join(parts[1:])
        if op == "exists":
            return any(p == path or p.startswith(path + ".") for p in row["leaves"])
        values = _leaf_values(row, path)
        if op in ("contains", "startswith", "regex"):
            return any(_text_op(op, v, tree["value"]) for v in values)
        return any(_compare(op, v, tree["value"]) for v in values)
    if head in ("state", "meta"):
        found, value = _json_value(row[head], parts[1:])
        if op == "exists":
            return found
        if not found:
            return False
        if op in ("contains", "startswith", "regex"):
            return _text_op(op, value, tree["value"])
        if isinstance(value, dict | list):
            return False
        return _compare(op, value, tree["value"])
    if head == "tags":
        if op == "exists":
            return bool(row["tags"])
        if op in ("contains", "eq"):
            return tree["value"] in row["tags"]
        return any(_text_op(op, t, tree["value"]) for t in row["tags"])
    name = ALIASES.get(head, head)
    value = row[name]
    if op == "exists":
        return value is not None
    if op in ("contains", "startswith", "regex"):
        return _text_op(op, value, tree["value"])
    literal = tree["value"]
    if name in DATE_COLUMNS:
        literal = normalize_date(literal)
    if name == "version_controlled" and not isinstance(literal, bool):
        return False
    if name in NUM_COLUMNS and value is not None and isinstance(literal, str):
        return False
    return _compare(op, value, literal)


def matches(tree: dict[str, Any] | None, row: dict[str, Any]) -> bool:
    """Whether `row` satisfies the filter tree (None: every row does)."""
    if tree is None:
        return True
    op = tree["op"]
    if op == "and":
        return all(matches(a, row) for a in tree["args"])
    if op == "or":
        return any(matches(a, row) for a in tree["args"])
    if op == "not":
        return not matches(tree["arg"], row)
    if op == "ne":
        return not _leaf({**tree, "op": "eq"}, row)
    if op == "between":
        low = {"op": "ge", "path": tree["path"], "value": tree["low"]}
        high = {"op": "le", "path": tree["path"], "value": tree["high"]}
        return _leaf(low, row) and _leaf(high, row)
    if op == "in":
        return any(
            _leaf({"op": "eq", "path": tree["path"], "value": v}, row) for v in tree["values"]
        )
    return _leaf(tree, row)


def refs(rows: list[dict[str, Any]], tree: dict[str, Any] | None) -> set[tuple[str, str]]:
    return {(r["namespace"], r["hash"]) for r in rows if matches(tree, r)}


# ---------------------------------------------------------------- what a listing shows

Row = tuple[str, str, str, str | None, tuple[str, ...]]
"""`(namespace, hash, result_status, attempt_status, tags)` of one experiment."""


def api_rows(client: Any) -> set[Row]:
    """The rows of every experiment the API lists (`client`: a `TestClient` of the app)."""
    items = client.get("/api/experiments", params={"limit": 1000}).json()["items"]
    return {
        (i["namespace"], i["hash"], i["result_status"], i["attempt_status"], tuple(i["tags"]))
        for i in items
    }


def file_rows(root: Path, vc_root: Path | None) -> set[Row]:
    """The same rows, read from the files."""
    return {
        (r["namespace"], r["hash"], r["result_status"], r["attempt_status"], tuple(r["tags"]))
        for r in read_store(root, vc_root)
    }
