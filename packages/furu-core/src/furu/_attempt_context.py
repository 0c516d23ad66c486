"""What the executor running this process knows about it, recorded with each attempt.

The core knows no scheduler. An executor that starts a process for a step (furu-slurm on a
cluster node, say) wraps the call in `attempt_context(...)`; every attempt started inside says
which backend ran it, the scheduler's job id (also written into the compute lock, so a waiter
can say whom it waits for) and whatever facts the scheduler has (partition, node, log paths).

A process nobody wrapped (a plain script under `sbatch`, say) asks the installed packages once:
each entry point in the group `furu.attempt_contexts` is a function returning an
`AttemptContext` for the environment it recognises, or None.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ENTRY_POINT_GROUP = "furu.attempt_contexts"


@dataclass(frozen=True)
class AttemptContext:
    """Facts about the process computing a step, as its executor knows them.

    Attributes:
        backend: what started the process (`local`, or the name of the scheduler library that ran it).
        job_id: the scheduler's id of the job (`123`, or `123_4` for an array task).
        scheduler: anything else worth recording (`name`, `partition`, `node`, `stdout`, ...).
    """

    backend: str = "local"
    job_id: str | None = None
    scheduler: Mapping[str, Any] = field(default_factory=dict)


LOCAL = AttemptContext()
_current: contextvars.ContextVar[AttemptContext | None] = contextvars.ContextVar(
    "furu_attempt_context", default=None
)
_ambient: AttemptContext | None = None


@contextlib.contextmanager
def attempt_context(context: AttemptContext) -> Iterator[AttemptContext]:
    """Record `context` with every attempt started inside this block (and its nested steps)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_attempt_context() -> AttemptContext:
    """The context set by `attempt_context`, else what an installed package recognises."""
    context = _current.get()
    if context is not None:
        return context
    global _ambient
    if _ambient is None:
        _ambient = _from_entry_points()
    return _ambient


def _from_entry_points() -> AttemptContext:
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            provider: Callable[[], AttemptContext | None] = point.load()
            found = provider()
        except Exception:  # a broken plug-in must not stop a computation
            continue
        if found is not None:
            return found
    return LOCAL
