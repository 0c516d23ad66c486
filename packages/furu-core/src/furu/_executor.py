"""Executors: where missing steps run, for a batch (`run`) or one step (`submit_step`).

An executor receives the steps to create, in dependency order, each with the indices of the
steps it must wait for, and reports what happens to each through a `Reporter`. It must never
start a step before its dependencies succeeded, and must report a step whose dependency failed
as skipped. `submit_step` hands it one step and returns at once with a `Submitted` handle: the
step is not computed yet, and `result()` waits for it. The core ships two executors:
`LocalExecutor` (worker processes) and `InlineExecutor` (this process, one at a time, for
debugging). Other packages implement the same protocol (furu-slurm with cluster jobs).

`load_or_create(executor=x)` also accepts an executor of another library (a scheduler's own
client object): the core asks the installed packages for an adapter. Each entry point in the
group `furu.executors` is named after the top-level module of the executors it adapts and loads
a callable that wraps such an executor into a furu `Executor`. The core itself names none.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from furu._errors import FuruConfigError
from furu._furu import Furu
from furu._logging import get_logger
from furu._policy import RunContext

_log = get_logger()
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ENTRY_POINT_GROUP = "furu.executors"


@dataclass(frozen=True)
class Job:
    """One step to create: `deps` are indices into the same job list."""

    index: int
    step: Furu[Any]
    deps: tuple[int, ...] = ()


class Reporter(Protocol):
    """What an executor tells the batch about each job."""

    def started(self, job: Job) -> None: ...

    def succeeded(self, job: Job) -> None: ...

    def failed(self, job: Job, error: BaseException) -> None: ...

    def skipped(self, job: Job, reason: str) -> None: ...


@runtime_checkable
class Submitted(Protocol[T_co]):
    """A step handed to an executor and not computed yet (what `load_or_create(executor=)` returns).

    `result()` waits until the step is done and returns what `load_or_create()` would.
    """

    def done(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> None: ...

    def result(self, timeout: float | None = None) -> T_co: ...


@runtime_checkable
class Executor(Protocol):
    """Runs a batch's jobs in dependency order, or one step (see the module docstring)."""

    def run(self, jobs: Sequence[Job], reporter: Reporter) -> None: ...

    def submit_step(self, step: Furu[T]) -> Submitted[T]: ...


def as_executor(executor: Any) -> Executor:
    """`executor` itself when it is a furu executor; else an installed package's adapter of it.

    Raises:
        FuruConfigError: no installed package adapts this kind of executor.
    """
    if isinstance(executor, Executor):
        return executor
    from importlib.metadata import entry_points

    package = type(executor).__module__.split(".")[0]
    for point in entry_points(group=ENTRY_POINT_GROUP, name=package):
        adapted = point.load()(executor)
        if isinstance(adapted, Executor):
            return adapted
    kind = f"{type(executor).__module__}.{type(executor).__qualname__}"
    raise FuruConfigError(
        f"load_or_create(executor=...) got a {kind}, which is not a furu executor (it has no "
        f"run() and submit_step() methods), and no installed package registers an adapter for "
        f"{package!r} executors (entry point group {ENTRY_POINT_GROUP!r}). Install the furu "
        "package for that scheduler, pass a furu executor (e.g. furu.LocalExecutor()), or call "
        "load_or_create() without executor."
    )


class _ThreadSubmission(Generic[T]):
    """A step running through an in-process executor on a background thread."""

    def __init__(self, step: Furu[T], executor: Executor) -> None:
        from concurrent.futures import Future

        self.step = step
        self._future: Future[None] = Future()
        name = f"furu-submit-{type(step).__qualname__}"
        threading.Thread(target=self._run, args=(executor,), name=name, daemon=True).start()

    def _run(self, executor: Executor) -> None:
        from furu._batch import load_or_create_many

        try:
            load_or_create_many([self.step], executor=executor, progress=False)
        except BaseException as exc:
            self._future.set_exception(exc)
        else:
            self._future.set_result(None)

    def done(self) -> bool:
        return self._future.done()

    def wait(self, timeout: float | None = None) -> None:
        from concurrent.futures import wait

        wait([self._future], timeout=timeout)

    def result(self, timeout: float | None = None) -> T:
        self._future.result(timeout)
        return self.step.load_or_create()


def _modules_being_imported(jobs: Sequence[Job]) -> set[str]:
    """Modules defining the jobs' steps whose import has not finished yet."""
    names = {type(job.step).__module__ for job in jobs}
    found = set()
    for name in names:
        spec = getattr(sys.modules.get(name), "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False):
            found.add(name)
    return found


def _forced_ancestors(jobs: Sequence[Job], job: Job) -> list[tuple[str, str]]:
    """Identities of the jobs `job` transitively depends on, when FURU_FORCE_RECOMPUTE is set.

    They were created by this batch before `job` started (else it would not be ready).
    """
    from furu._settings import FURU_CONFIG

    if not FURU_CONFIG.force_recompute:
        return []
    seen: set[int] = set()
    stack = list(job.deps)
    while stack:
        index = stack.pop()
        if index not in seen:
            seen.add(index)
            stack.extend(jobs[index].deps)
    return [jobs[i].step._furu_identity() for i in sorted(seen)]


def _create_step(step: Furu[Any], context: RunContext | None = None) -> None:
    """Worker entry point: results stay on disk; only success or the error comes back.

    `context` is the parent's settings and policy (a spawned worker would otherwise re-read
    only the environment), including the steps this batch already created: a `_create` that
    loads them must not recompute them again in this worker under FURU_FORCE_RECOMPUTE.
    """
    if context is not None:
        context.adopt()
    step.load_or_create()


@dataclass
class _Ledger:
    """Which jobs are done, failed or waiting, shared by the in-process schedulers."""

    jobs: Sequence[Job]
    reporter: Reporter
    done: set[int] = field(default_factory=set)
    dead: set[int] = field(default_factory=set)
    pending: list[Job] = field(init=False)

    def __post_init__(self) -> None:
        self.pending = list(self.jobs)

    def ready(self) -> list[Job]:
        """Jobs whose dependencies all succeeded; jobs behind a failure are reported skipped."""
        ready, waiting = [], []
        for job in self.pending:
            failed = [d for d in job.deps if d in self.dead]
            if failed:
                self.dead.add(job.index)
                blocker = self.jobs[failed[0]].step._furu_short()
                self.reporter.skipped(job, f"dependency {blocker} did not succeed")
            elif all(d in self.done for d in job.deps):
                ready.append(job)
            else:
                waiting.append(job)
        self.pending = waiting
        return ready

    def finish(self, job: Job, error: BaseException | None) -> None:
        if error is None:
            self.done.add(job.index)
            self.reporter.succeeded(job)
        else:
            self.dead.add(job.index)
            self.reporter.failed(job, error)


class InlineExecutor:
    """Runs each job in this process, one after another (easy to debug, no pickling)."""

    def submit_step(self, step: Furu[T]) -> Submitted[T]:
        """Create `step` (and what it needs) on a background thread of this process."""
        return _ThreadSubmission(step, self)

    def run(self, jobs: Sequence[Job], reporter: Reporter) -> None:
        ledger = _Ledger(jobs, reporter)
        while ready := ledger.ready():
            for job in ready:
                reporter.started(job)
                try:
                    _create_step(job.step)
                except Exception as exc:
                    ledger.finish(job, exc)
                else:
                    ledger.finish(job, None)


class LocalExecutor:
    """Runs jobs in up to `max_workers` worker processes on this machine.

    Args:
        max_workers: worker processes (default: the number of CPUs).
        start_method: `fork`, `forkserver` or `spawn`; default `fork` when this process has no
            other threads (fast, and scripts need no `__main__` guard), else `spawn`.
    """

    def __init__(self, max_workers: int | None = None, start_method: str | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self.start_method = start_method

    def _context(self) -> Any:
        import multiprocessing

        method = self.start_method
        if method is None:
            alone = threading.active_count() == 1 and os.name == "posix"
            method = "fork" if alone else "spawn"
        return multiprocessing.get_context(method)

    def submit_step(self, step: Furu[T]) -> Submitted[T]:
        """Create `step` (and what it needs) in worker processes; returns at once."""
        return _ThreadSubmission(step, self)

    def run(self, jobs: Sequence[Job], reporter: Reporter) -> None:
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        importing = _modules_being_imported(jobs)
        if importing:
            # A worker would block forever on the import lock its parent holds (fork) or
            # re-run the import, and with it this batch (spawn): run here instead.
            _log.warning(
                "load_or_create_many was called while %s is still being imported; running the "
                "batch in this process. Call it from a function or an `if __name__ == "
                '"__main__":` block to use worker processes.',
                ", ".join(sorted(importing)),
            )
            InlineExecutor().run(jobs, reporter)
            return
        ledger = _Ledger(jobs, reporter)
        workers = min(self.max_workers, max(1, len(jobs)))
        pool = ProcessPoolExecutor(workers, mp_context=self._context())
        with pool:
            running: dict[Future[None], Job] = {}
            while True:
                for job in ledger.ready():
                    reporter.started(job)
                    context = RunContext.capture(recomputed=_forced_ancestors(jobs, job))
                    running[pool.submit(_create_step, job.step, context)] = job
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    ledger.finish(running.pop(future), future.exception())
