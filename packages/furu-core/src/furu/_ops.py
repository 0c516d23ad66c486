"""Find a stored step by any name, and invalidate or remove steps safely.

The functions behind `furu show/deps/rdeps/invalidate/rm`, furu-server's delete and
invalidate routes and the TUI's actions, so that every way of naming or changing a step
behaves the same:

```
step = furu.find_step(store, "TrainModel/3f9a")          # any reference, or a directory
targets = furu.plan_targets(store, [step], dependents=True)  # what a change would hit
done = furu.invalidate_steps(store, [step], dependents=True)
done = furu.remove_steps(store, ["TrainModel/3f9a"])
done.done, done.skipped                                   # what happened, and what did not
```

A step that is being computed (a live process holds its compute lock) or whose latest attempt
is running or queued (a scheduler will start it) is never changed: it is reported as skipped,
with the reason, and the rest goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from furu._errors import FuruLockNotAcquired, FuruStoreError
from furu._step_dir import StepDir, StepId

if TYPE_CHECKING:
    from typing import TypeAlias

    from furu._furu import Furu
    from furu._workspace import Store

    StepTarget: TypeAlias = StepDir | StepId | str | os.PathLike[str] | Furu[Any]
    """How a caller may name a step: its directory object, id, a reference, or the step."""

DependentsOf = Callable[[StepDir], Iterable[StepDir]]
"""Every step that depends on a step, transitively (furu-server answers from its index)."""
SkipCause = Literal["running", "gone", "failed"]


# ------------------------------------------------------------ finding a step


def find_step(store: Store, ref: str | os.PathLike[str]) -> StepDir:
    """The one step `ref` names, however it is named.

    Accepted: `namespace/hash`, a hash prefix, `namespace/hash-prefix`, `Class/hash-prefix`
    (the class name alone), or the step's directory (or a path inside it).

    Raises:
        FuruStoreError: nothing matches (the message says how to list the store), more than
            one step matches (the message lists them), or a path is not a step directory of
            this store.
    """
    text = os.fspath(ref)
    path = Path(text).expanduser()
    if path.is_dir():
        found = store.locate(path)
        if found is None:
            raise FuruStoreError(
                f"{text} is a directory but not a step directory of the store {store.root} "
                "(none of it or its parents holds a .furu/ directory of that store); give the "
                "store with --root (or FURU_PATH), or name the step as `namespace/hash`.",
                path=path,
            )
        return found
    if text.startswith(("/", "./", "../", "~")):
        raise FuruStoreError(
            f"{text} does not exist, so it names no step directory; give an existing step "
            "directory, `namespace/hash`, a hash prefix or `Class/hash-prefix` (`furu ls` "
            "lists the store's steps).",
            path=path,
        )
    exact = exact_step(store, text.strip())
    return exact if exact is not None else store._search(text)


def exact_step(store: Store, ref: str) -> StepDir | None:
    """The step `namespace/hash` names when its directory exists: no walk of the store."""
    namespace, _, digest = ref.rpartition("/")
    if "." not in namespace or not digest:
        return None
    for version_controlled in (False, True):
        if version_controlled and store.version_controlled_root is None:
            continue
        try:
            candidate = store.step_dir(namespace, digest, version_controlled=version_controlled)
        except FuruStoreError:
            return None
        if candidate.exists():
            return candidate
    return None


def as_step_dir(store: Store, step: StepTarget) -> StepDir:
    """`step` as a `StepDir` of `store`: a reference or directory is found with `find_step`."""
    if isinstance(step, StepDir):
        return step
    if isinstance(step, StepId):
        return find_step(store, str(step))
    if isinstance(step, str | os.PathLike):
        return find_step(store, step)
    return store.step_dir_of(step)


# ------------------------------------------------------------ is it busy?


def busy_reason(step: StepDir) -> str | None:
    """Why `step` must not be changed now, or None when it may be.

    A live process holding its compute lock computes it; a latest attempt that reads
    `running` or `queued` (a dead holder's reads `crashed`) belongs to a scheduler that will
    start or is running it without a lock on this host.
    """
    from furu._state import AttemptStatus

    holder = step.live_holder()
    if holder is not None:
        return f"being computed by {holder.describe()}"
    try:
        attempt = step.read_state().attempt
    except FuruStoreError:
        return None
    if attempt is not None and attempt.status in (AttemptStatus.RUNNING, AttemptStatus.QUEUED):
        job = f", job {attempt.job_id}" if attempt.job_id else ""
        where = f"{attempt.backend}{job}"
        return f"its attempt {attempt.number} is {attempt.status.value} ({where})"
    return None


# ------------------------------------------------------------ planning


def plan_targets(
    store: Store,
    steps: Iterable[StepTarget],
    *,
    dependents: bool = False,
    dependents_of: DependentsOf | None = None,
) -> list[StepDir]:
    """The steps an invalidation or removal of `steps` hits: them, then (with `dependents`)
    everything that depends on them, transitively, nearest first; each once.

    Args:
        store: the store.
        steps: step directories, ids, references or steps (see `find_step`).
        dependents: include the transitive dependents.
        dependents_of: a faster source of dependents (furu-server's index); by default the
            store's `StoreGraph` (one read of every `metadata.json`).

    Raises:
        FuruStoreError: a reference names no step, or more than one.
    """
    roots = [as_step_dir(store, s) for s in steps]
    found: dict[Path, StepDir] = {r.path: r for r in roots}
    if dependents and roots:
        provider = dependents_of or graph_dependents(store)
        for root in roots:
            for dep in provider(root):
                found.setdefault(dep.path, dep)
    return list(found.values())


def graph_dependents(store: Store) -> DependentsOf:
    """Transitive dependents from the store's `StoreGraph` (every `metadata.json` read once,
    now): the default of `plan_targets`."""
    from furu._graph import StoreGraph

    graph = StoreGraph.load(store)

    def dependents_of(step: StepDir) -> list[StepDir]:
        ids = graph.dependents(step.id, transitive=True)
        return [graph.steps[i] for i in ids if i in graph.steps]

    return dependents_of


# ------------------------------------------------------------ changing


@dataclass(frozen=True)
class SkippedStep:
    """A step an invalidation or removal left alone, and why.

    Attributes:
        step: the step.
        cause: `running` (computed, running or queued now), `gone` (no longer in the store)
            or `failed` (the filesystem refused: see `error`).
        reason: a sentence for people.
        error: the filesystem's error, for `failed`.
    """

    step: StepDir
    cause: SkipCause
    reason: str
    error: OSError | None = None

    def to_json(self) -> dict[str, str]:
        return {"step": str(self.step.id), "cause": self.cause, "reason": self.reason}


@dataclass
class StepChanges:
    """What `invalidate_steps` or `remove_steps` did.

    Attributes:
        action: `invalidate` or `remove`.
        done: the steps changed, in the order they were.
        skipped: the steps left alone, with the reason.
    """

    action: Literal["invalidate", "remove"]
    done: list[StepDir] = field(default_factory=list)
    skipped: list[SkippedStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every planned step was changed."""
        return not self.skipped

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "done": [str(s.id) for s in self.done],
            "skipped": [s.to_json() for s in self.skipped],
        }


def invalidate_steps(
    store: Store,
    steps: Iterable[StepTarget],
    *,
    dependents: bool = False,
    reason: str | None = None,
    dependents_of: DependentsOf | None = None,
) -> StepChanges:
    """Remove the stored results of `steps` (and their dependents), so they are recomputed.

    Each result's `SUCCESS.json` is removed under the step's compute lock; the files stay, and
    the reason goes to the attempt and the step's log. A running or queued step is skipped.

    Args:
        store: the store.
        steps: what to invalidate (see `plan_targets`).
        dependents: also every step that depends on them, transitively.
        reason: recorded with the change (default: `invalidated at <time>`).
        dependents_of: a faster source of dependents (see `plan_targets`).

    Returns:
        What was invalidated, and what was skipped and why.

    Raises:
        FuruStoreError: a reference names no step, or more than one.
    """
    targets = plan_targets(store, steps, dependents=dependents, dependents_of=dependents_of)
    return invalidate_targets(targets, reason=reason)


def invalidate_targets(targets: Sequence[StepDir], *, reason: str | None = None) -> StepChanges:
    """Invalidate exactly `targets` (a `plan_targets` answer), in order."""
    why = reason or f"invalidated at {_now()}"
    changes = StepChanges("invalidate")
    for step in targets:
        skipped = _precheck(step)
        if skipped is None:
            try:
                if step.invalidate(why):
                    changes.done.append(step)
                    continue
                skipped = SkippedStep(step, "running", "being computed (its lock is held)")
            except OSError as exc:
                skipped = _refused(step, "invalidated", exc)
            except FuruStoreError as exc:
                if not isinstance(exc.__cause__, OSError):
                    raise
                skipped = _refused(step, "invalidated", exc.__cause__)
        changes.skipped.append(skipped)
    return changes


def remove_steps(
    store: Store,
    steps: Iterable[StepTarget],
    *,
    dependents: bool = False,
    dependents_of: DependentsOf | None = None,
) -> StepChanges:
    """Delete `steps` (and their dependents): their directories and the raw files they own.

    Dependents go first, so a removal cut short never leaves a step whose dependency is gone
    while it stays. A running or queued step is skipped.

    Args:
        store: the store.
        steps: what to remove (see `plan_targets`).
        dependents: also every step that depends on them, transitively.
        dependents_of: a faster source of dependents (see `plan_targets`).

    Returns:
        What was removed, and what was skipped and why.

    Raises:
        FuruStoreError: a reference names no step, or more than one.
    """
    targets = plan_targets(store, steps, dependents=dependents, dependents_of=dependents_of)
    return remove_targets(targets)


def remove_targets(targets: Sequence[StepDir]) -> StepChanges:
    """Remove exactly `targets` (a `plan_targets` answer), the last one first."""
    changes = StepChanges("remove")
    for step in reversed(targets):
        skipped = _precheck(step)
        if skipped is None:
            try:
                if step.delete():
                    changes.done.append(step)
                    continue
                skipped = _gone(step)
            except FuruLockNotAcquired as exc:
                skipped = SkippedStep(step, "running", str(exc))
            except OSError as exc:
                skipped = _refused(step, "removed", exc)
        changes.skipped.append(skipped)
    return changes


def _precheck(step: StepDir) -> SkippedStep | None:
    if not step.exists():
        return _gone(step)
    busy = busy_reason(step)
    if busy is not None:
        return SkippedStep(
            step, "running", f"{busy}; wait until it finishes, or stop it (`furu ls` shows it)"
        )
    return None


def _gone(step: StepDir) -> SkippedStep:
    return SkippedStep(step, "gone", f"no longer in the store ({step.path})")


def _refused(step: StepDir, action: str, exc: OSError) -> SkippedStep:
    where = exc.filename or step.path
    return SkippedStep(
        step,
        "failed",
        f"could not be {action}: {exc.strerror or exc} ({where}); check the store is writable "
        "by you and the disk is not full",
        exc,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
