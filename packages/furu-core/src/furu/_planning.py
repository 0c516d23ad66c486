"""Planning a batch: the dependency graph of many steps, and which of them must be created.

Only what is missing is explored: a cached step's dependencies are not needed to load it, so
planning 10,000 cached steps costs 10,000 identity computations and `stat` calls, no more.
Under FURU_FORCE_RECOMPUTE or FURU_ALWAYS_RERUN, cached steps are explored too: a forced step
is found wherever it is below the steps asked for, and created, while the cached steps above
it are loaded (or, with FURU_FORCE_RECOMPUTE_DEPENDENTS, created after it).
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
from furu._policy import Forcing

Key = tuple[str, str]


@dataclass
class PlannedStep:
    """One step of a plan.

    Attributes:
        step: the step itself.
        action: `load` (cached) or `create`.
        reason: why it is created (`missing`, `failed`, `incomplete`, `invalid`, `forced`, or
            `dependent`: a step above a forced one, under FURU_FORCE_RECOMPUTE_DEPENDENTS).
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

    Under a force setting, also every step reachable through cached ones (loaded, or created
    when forced), so that forced steps below cached dependents are found.

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
        """A readable plan: one line per step to create, why (`furu.explain`'s first reason),
        and what it waits for."""
        creates = self.to_create
        cached = len(self.steps) - len(creates)
        lines = [f"plan: {len(creates)} to create, {cached} cached"]
        why = _Why()
        for planned in creates:
            after = ", ".join(self.steps[i].describe() for i in planned.deps)
            suffix = f" after {after}" if after else ""
            lines.append(f"  create {planned.describe()} ({why(planned)}){suffix}")
            lines.append(f"         {planned.step._furu_location.furu_dir}")
        return "\n".join(lines)


class _Why:
    """`reason: first reason's message` for the steps of one plan (catalogs read once)."""

    def __init__(self) -> None:
        self._comparer: Any = None

    def __call__(self, planned: PlannedStep) -> str:
        from furu._explain import Comparer, explain
        from furu._workspace import Store

        try:
            if self._comparer is None:
                self._comparer = Comparer(Store.current())
            first = explain(planned.step, comparer=self._comparer).first
        except Exception:  # an explanation is a courtesy: the plan stands without it
            return planned.reason
        if first is None or not first.message:
            return planned.reason
        return f"{planned.reason}: {first.message}"


def _reason(step: Furu[Any], forced: str | None) -> str | None:
    """None when the step is cached; otherwise why it must be created.

    `forced` is what the run policy says of the step (`Forcing.reason`): it decides for a
    cached step, before `_validate()`.
    """
    from furu._state import StateManager

    if _furu._stubbing and _furu._stub_of(step) is not _furu._NO_STUB:
        return None  # a furu.testing.stub context stands in for it
    if os.path.exists(step._furu_location.success):
        if forced is not None:
            return forced
        return None if step._validate() else "invalid"
    try:
        state = StateManager(step._furu_location.furu_dir).read()
    except Exception:
        return "missing"
    return "missing" if state.result_status.value == "absent" else state.result_status.value


def plan(objs: Iterable[Furu[Any]]) -> Plan:
    """Plan `objs` and every missing step they need, deduplicated by identity.

    Without FURU_FORCE_RECOMPUTE or FURU_ALWAYS_RERUN, a cached step is a leaf: loading it
    needs nothing below it. With either, the graph below cached steps is explored too, and
    every forced step found there is created (with what it needs), while the cached steps above
    it are loaded, unless FURU_FORCE_RECOMPUTE_DEPENDENTS makes them `dependent` ones to create
    after it. A step below a cached one that is missing but not forced is not created: nothing
    needs it.
    """
    forcing = Forcing() if Forcing.active() else None
    steps: list[PlannedStep] = []
    index: dict[Key, int] = {}
    visiting: set[Key] = set()
    unneeded: set[Key] = set()  # missing steps below cached ones: explored, not created

    def visit(step: Furu[Any], chain: Sequence[str], needed: bool) -> int | None:
        key = step._furu_identity()
        found = index.get(key)
        if found is not None:
            return found
        if key in visiting:
            cycle = " -> ".join([*chain, step._furu_short()])
            raise FuruIdentityError(f"dependency cycle: {cycle}. A step cannot need itself.")
        if not needed and key in unneeded:
            return None
        forced = forcing.reason(step) if forcing is not None else None
        reason = _reason(step, forced)
        # What nothing needs (a step below a cached one) is created only when it is forced.
        create = reason is not None and (needed or forced is not None)
        deps: list[int | None] = []
        if create or forcing is not None:
            visiting.add(key)
            here = [*chain, step._furu_short()]
            deps = [visit(dep, here, create) for _, dep in direct_dependencies(step)]
            visiting.discard(key)
        if reason is not None and not create:
            unneeded.add(key)
            return None
        planned = PlannedStep(step, "create" if create else "load", reason or "")
        if create:  # loading a cached step waits for nothing
            planned.deps = sorted(
                {d for d in deps if d is not None and steps[d].action == "create"}
            )
        index[key] = len(steps)
        steps.append(planned)
        return index[key]

    roots: list[int] = []
    for obj in objs:
        root = visit(obj, (), True)
        assert root is not None  # a requested step is always planned
        roots.append(root)
    return Plan(steps, roots)
