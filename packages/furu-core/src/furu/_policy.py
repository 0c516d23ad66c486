"""When a cached result counts as missing, and how a process hands its settings to workers.

`RunPolicy` is the rule for one step's own class: `FURU_FORCE_RECOMPUTE` classes are recomputed
once per process (a step already recomputed here is loaded the next time), `FURU_ALWAYS_RERUN`
classes on every call, and `FURU_DRY_RUN` computes nothing. `Forcing` applies it to a step and
the graph below it: a forced class is found wherever it is below the steps asked for, cached
dependents included, and with `FURU_FORCE_RECOMPUTE_DEPENDENTS` every step above a
`FURU_FORCE_RECOMPUTE` class counts as forced too. `RunContext` is what a process hands to the
processes that compute for it (local workers, cluster jobs): its settings, including changes
made in code, the steps it already recomputed, and optionally its git state, so that a worker
behaves exactly like its parent. One object, pickled once, adopted with `adopt()`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from furu._dependencies import direct_dependencies
from furu._settings import FURU_CONFIG, is_listed

if TYPE_CHECKING:
    from furu._furu import Furu
    from furu._step_dir import StepId

Identity = tuple[str, str]
_recomputed: set[Identity] = set()
_recomputed_lock = threading.Lock()


def _forces(
    always_rerun: frozenset[str],
    force_recompute: frozenset[str],
    recomputed: frozenset[Identity] | set[Identity],
    identity: Identity,
) -> bool:
    """The rule itself: always-rerun classes always; force-recompute ones until recomputed."""
    if is_listed(always_rerun, identity[0]):
        return True
    return is_listed(force_recompute, identity[0]) and identity not in recomputed


@dataclass(frozen=True)
class RunPolicy:
    """Which cached results `load_or_create()` treats as missing.

    Attributes:
        force_recompute: classes (qualified names, or `ALL`) recomputed once per process.
        always_rerun: classes recomputed on every call.
        dry_run: compute nothing; report what would be computed.
        recomputed: `(namespace, hash)` of steps already recomputed in this process (or by the
            batch that started it): `force_recompute` no longer applies to them.
    """

    force_recompute: frozenset[str] = frozenset()
    always_rerun: frozenset[str] = frozenset()
    dry_run: bool = False
    recomputed: frozenset[Identity] = frozenset()

    @classmethod
    def current(cls) -> RunPolicy:
        """This process's policy: `FURU_CONFIG` and the steps it recomputed so far."""
        with _recomputed_lock:
            done = frozenset(_recomputed)
        config = FURU_CONFIG
        return cls(config.force_recompute, config.always_rerun, config.dry_run, done)

    def forces(self, step: StepId | Identity) -> bool:
        """Whether a cached result of `step` must be computed again because of its own class.

        `FURU_FORCE_RECOMPUTE_DEPENDENTS` also forces the steps above a forced class: that
        needs the dependency graph, which `furu.plan` and `load_or_create()` apply.
        """
        identity = step if isinstance(step, tuple) else (step.namespace, step.hash)
        return _forces(self.always_rerun, self.force_recompute, self.recomputed, identity)


def _spent(identity: Identity) -> bool:
    with _recomputed_lock:
        return identity in _recomputed


class Forcing:
    """This process's run policy applied to steps and to the graph below them.

    Made for one question (`load_or_create()`'s fast path) or one plan: it remembers which
    steps have a `FURU_FORCE_RECOMPUTE` class below them, which only the graph decides.
    """

    def __init__(self) -> None:
        config = FURU_CONFIG
        self.always_rerun = config.always_rerun
        self.force_recompute = config.force_recompute
        self.dependents = config.force_recompute_dependents and bool(config.force_recompute)
        self._listed_below: dict[Identity, bool] = {}

    @staticmethod
    def active() -> bool:
        """Whether any step can be forced: FURU_FORCE_RECOMPUTE or FURU_ALWAYS_RERUN is set."""
        config = FURU_CONFIG
        return bool(config.force_recompute or config.always_rerun)

    def reason(self, step: Furu[Any]) -> str | None:
        """Why the policy makes `step`'s own result count as missing, or None.

        `forced`: its class is in FURU_ALWAYS_RERUN, or in FURU_FORCE_RECOMPUTE and the step
        was not recomputed in this process yet. `dependent`: with
        FURU_FORCE_RECOMPUTE_DEPENDENTS, a FURU_FORCE_RECOMPUTE class lies below it (once per
        process, like the class itself).
        """
        identity = step._furu_identity()
        if is_listed(self.always_rerun, identity[0]):
            return "forced"
        if not self.force_recompute or _spent(identity):
            return None
        if is_listed(self.force_recompute, identity[0]):
            return "forced"
        if self.dependents and self._has_listed_below(step):
            return "dependent"
        return None

    def forced_below(self, step: Furu[Any]) -> bool:
        """Whether the policy forces a step anywhere below `step`, cached or not."""
        seen: set[Identity] = set()
        stack = [dep for _, dep in direct_dependencies(step)]
        while stack:
            dep = stack.pop()
            identity = dep._furu_identity()
            if identity in seen:
                continue
            seen.add(identity)
            if self.reason(dep) is not None:
                return True
            stack.extend(d for _, d in direct_dependencies(dep))
        return False

    def _has_listed_below(self, step: Furu[Any]) -> bool:
        identity = step._furu_identity()
        found = self._listed_below.get(identity)
        if found is None:
            self._listed_below[identity] = False  # a cycle: the planner names it
            found = any(
                is_listed(self.force_recompute, dep._furu_namespace) or self._has_listed_below(dep)
                for _, dep in direct_dependencies(step)
            )
            self._listed_below[identity] = found
        return found


def mark_recomputed(identities: Iterable[Identity]) -> None:
    """Record steps recomputed (here or by workers) so FURU_FORCE_RECOMPUTE is spent on them."""
    with _recomputed_lock:
        _recomputed.update(identities)


@dataclass(frozen=True)
class RunContext:
    """A process's settings and policy, for a worker or a cluster job to adopt.

    Attributes:
        settings: every `FURU_CONFIG` field, as this process has it (changes in code included).
        recomputed: steps a worker must not recompute again under FURU_FORCE_RECOMPUTE.
        git: the git state to record in metadata instead of asking git again (None: ask).
    """

    settings: dict[str, Any]
    recomputed: frozenset[Identity] = frozenset()
    git: dict[str, Any] | None = None

    @classmethod
    def capture(
        cls, *, recomputed: Iterable[Identity] = (), include_git: bool = False
    ) -> RunContext:
        """This process's context, plus `recomputed` (e.g. a job's already created ancestors)."""
        settings = {f.name: getattr(FURU_CONFIG, f.name) for f in dataclasses.fields(FURU_CONFIG)}
        with _recomputed_lock:
            done = frozenset(_recomputed) | frozenset(recomputed)
        git = None
        if include_git:
            from furu._metadata import current_git_info

            git = current_git_info()
        return cls(settings, done, git)

    def adopt(self) -> None:
        """Make this process behave like the one that captured the context."""
        for name, value in self.settings.items():
            if hasattr(FURU_CONFIG, name):
                setattr(FURU_CONFIG, name, value)
        mark_recomputed(self.recomputed)
        if self.git is not None:
            from furu._metadata import adopt_git_info

            adopt_git_info(self.git)
