"""Bounding a JSON value before it goes into a response: long strings cut, large containers
shortened, deep nesting stopped, and each cut reported as a `Truncation`.

A store may hold a config with a 100 MB string or a million list elements, or a JSON file
nested ten thousand levels deep; a response carries at most what `Limits` allows, and says
where it cut (`path`, the full `size` and what was `kept`). The walk is iterative, so no depth
of nesting can exhaust the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from furu_server._models import Truncation

MAX_NOTES = 100
"""Truncations reported per response (the rest are counted in the last note)."""
DETAIL_CHARS = 100_000
"""The longest string an experiment's detail holds (a config value, a traceback)."""
DETAIL_ITEMS = 50_000
"""List elements and object keys an experiment's detail holds, over all its values."""
DETAIL_DEPTH = 64
"""Values nested deeper than this in an experiment's detail are cut (None)."""
PATH_PART = 64
"""A key longer than this is shortened in a truncation's `path`."""


@dataclass
class Clipper:
    """Clips values against shared budgets; `notes` lists every cut made.

    Attributes:
        max_chars: the longest string kept (longer ones keep their first `max_chars`).
        max_items: list elements and object keys kept, over every value this clipper sees
            (`clip_each`: per value).
        max_depth: containers nested deeper than this become None.
    """

    max_chars: int
    max_items: int
    max_depth: int
    items: int = 0
    notes: list[Truncation] = field(default_factory=list)
    more: int = 0

    def note(self, path: str, unit: str, size: int, kept: int) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(Truncation(path=path, unit=unit, size=size, kept=kept))
        else:
            self.more += 1

    def text(self, value: str, path: str) -> str:
        if len(value) <= self.max_chars:
            return value
        self.note(path, "characters", len(value), self.max_chars)
        return value[: self.max_chars]

    def clip(self, value: Any, path: str) -> Any:
        """`value` within the limits (a new value where anything was cut)."""
        holder: list[Any] = [None]
        stack: list[tuple[Any, Any, Any, str, int]] = [(value, holder, 0, path, 0)]
        while stack:
            src, parent, key, where, depth = stack.pop()
            parent[key] = self._one(src, where, depth, stack)
        return holder[0]

    def clip_each(self, value: Any, path: str) -> Any:
        """`clip`, with a budget of `max_items` of its own (the notes are shared)."""
        self.items = 0
        return self.clip(value, path)

    def _one(self, src: Any, where: str, depth: int, stack: list[Any]) -> Any:
        if isinstance(src, str):
            return self.text(src, where)
        if not isinstance(src, dict | list):
            return src
        if depth >= self.max_depth:
            self.note(where, "levels", depth + 1, depth)
            return None
        kept = max(0, min(len(src), self.max_items - self.items))
        self.items += kept
        if kept < len(src):
            self.note(where, "items", len(src), kept)
        if isinstance(src, list):
            out_list: list[Any] = [None] * kept
            for i in reversed(range(kept)):
                stack.append((src[i], out_list, i, f"{where}[{i}]", depth + 1))
            return out_list
        out: dict[Any, Any] = {}
        pairs = [
            (k, self.text(k, where) if isinstance(k, str) else k)
            for _, k in zip(range(kept), src, strict=False)
        ]
        for _, new_key in pairs:
            out[new_key] = None
        for k, new_key in reversed(pairs):
            name = str(new_key)
            name = name if len(name) <= PATH_PART else name[:PATH_PART] + "..."
            stack.append((src[k], out, new_key, f"{where}.{name}" if where else name, depth + 1))
        return out

    def report(self) -> list[Truncation]:
        """The cuts made, the last one saying how many more were not listed."""
        if self.more:
            return [*self.notes, Truncation(path="...", unit="notes", size=self.more, kept=0)]
        return list(self.notes)
