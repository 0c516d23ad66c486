"""Planning a batch: the dependency graph of many steps, and which of them must be created.

Only what is missing is explored: a cached step's dependencies are not needed to load it, so
planning 10,000 cached steps costs 10,000 identity computations and `stat` calls, no more.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from furu import _furu
from furu._dependencies import direct_dependencies
from furu._errors import FuruIdentityError
from furu._furu import Furu

Key = tuple[str, str]


@dataclass
class PlannedStep:
    """One step of a plan.

    Attributes:
        step: the step itself.
        action: `load` (cached) or `create`.
        reason: why it is created (`missing`, `failed`, `incomplete`, `forced`, `invalid`).
        deps: indices (into `Plan.steps`) of the steps to create before this one.
    """

    step: Furu[Any]
    action: str
    reason: str = ""
    deps: list[int] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return self.step._furu_identity()

    def describe(self) -> str:
        return self.step._furu_short()


@dataclass
class Plan:
    """Every step reachable from the requested ones through missing steps, in dependency order.

    Attributes:
        steps: dependencies always come before their dependents.
        roots: indices of the requested steps, in the order requested.
    """

    steps: list[PlannedStep]
    roots: list[int]

    @property
    def to_create(self) -> list[PlannedStep]:
        return [s for s in self.steps if s.action == "create"]

    def describe(self) -> str:
        """A readable plan: one line per step to create, with what it waits for."""
        creates = self.to_create
        cached = len(self.steps) - len(creates)
        lines = [f"plan: {len(creates)} to create, {cached} cached"]
        for planned in creates:
            after = ", ".join(self.steps[i].describe() for i in planned.deps)
            suffix = f" after {after}" if after else ""
            lines.append(f"  create {planned.describe()} ({planned.reason}){suffix}")
            lines.append(f"         {planned.step._furu_location.furu_dir}")
        return "\n".join(lines)


def _reason(step: Furu[Any]) -> str | None:
    """None when the step is cached; otherwise why it must be created."""
    from furu._state import StateManager

    if _furu._stubbing and _furu._stub_of(step) is not _furu._NO_STUB:
        return None  # a furu.testing.stub context stands in for it
    if os.path.exists(step._furu_location.success):
        if step._furu_forced():
            return "forced"
        return None if step._validate() else "invalid"
    try:
        state = StateManager(step._furu_location.furu_dir).read()
    except Exception:
        return "missing"
    return "missing" if state.result_status.value == "absent" else state.result_status.value


def plan(objs: Iterable[Furu[Any]]) -> Plan:
    """Plan `objs` and every missing step they need, deduplicated by identity."""
    steps: list[PlannedStep] = []
    index: dict[Key, int] = {}
    visiting: set[Key] = set()

    def visit(step: Furu[Any], chain: Sequence[str]) -> int:
        key = step._furu_identity()
        found = index.get(key)
        if found is not None:
            return found
        if key in visiting:
            cycle = " -> ".join([*chain, step._furu_short()])
            raise FuruIdentityError(f"dependency cycle: {cycle}. A step cannot need itself.")
        reason = _reason(step)
        planned = PlannedStep(step, "load" if reason is None else "create", reason or "")
        if reason is not None:
            visiting.add(key)
            here = [*chain, step._furu_short()]
            deps = [visit(dep, here) for _, dep in direct_dependencies(step)]
            visiting.discard(key)
            planned.deps = sorted({d for d in deps if steps[d].action == "create"})
        index[key] = len(steps)
        steps.append(planned)
        return index[key]

    roots = [visit(obj, ()) for obj in objs]
    return Plan(steps, roots)
