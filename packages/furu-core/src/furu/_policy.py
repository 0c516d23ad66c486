"""When a cached result counts as missing, and how a process hands its settings to workers.

`RunPolicy` is the rule: `FURU_FORCE_RECOMPUTE` classes are recomputed once per process (a
step already recomputed here is loaded the next time), `FURU_ALWAYS_RERUN` classes on every
call, and `FURU_DRY_RUN` computes nothing. `RunContext` is what a process hands to the
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

from furu._settings import FURU_CONFIG, is_listed

if TYPE_CHECKING:
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
        """Whether a cached result of `step` must be computed again under this policy."""
        identity = step if isinstance(step, tuple) else (step.namespace, step.hash)
        return _forces(self.always_rerun, self.force_recompute, self.recomputed, identity)


def forced(identity: Identity) -> bool:
    """`RunPolicy.current().forces(identity)` without copying what was recomputed."""
    config = FURU_CONFIG
    with _recomputed_lock:
        return _forces(config.always_rerun, config.force_recompute, _recomputed, identity)


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
