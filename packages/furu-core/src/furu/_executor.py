"""Executors: where the missing steps of a batch run.

An executor receives the steps to create, in dependency order, each with the indices of the
steps it must wait for, and reports what happens to each through a `Reporter`. It must never
start a step before its dependencies succeeded, and must report a step whose dependency failed
as skipped. The core ships two: `LocalExecutor` (worker processes) and `InlineExecutor` (this
process, one at a time, for debugging). furu-slurm implements the same protocol with SLURM jobs.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from furu._furu import Furu
from furu._logging import get_logger

_log = get_logger()


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
class Executor(Protocol):
    """Runs a batch's jobs in dependency order (see the module docstring)."""

    def run(self, jobs: Sequence[Job], reporter: Reporter) -> None: ...


def _modules_being_imported(jobs: Sequence[Job]) -> set[str]:
    """Modules defining the jobs' steps whose import has not finished yet."""
    names = {type(job.step).__module__ for job in jobs}
    found = set()
    for name in names:
        spec = getattr(sys.modules.get(name), "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False):
            found.add(name)
    return found


def _settings_snapshot() -> dict[str, Any]:
    """This process's settings, including changes made in code (e.g. `set_furu_root`)."""
    from dataclasses import fields

    from furu._settings import FURU_CONFIG

    return {f.name: getattr(FURU_CONFIG, f.name) for f in fields(FURU_CONFIG)}


def _adopt_settings(snapshot: dict[str, Any]) -> None:
    """Worker initializer: a spawned worker would otherwise re-read only the environment."""
    from furu._settings import FURU_CONFIG

    for name, value in snapshot.items():
        setattr(FURU_CONFIG, name, value)


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


def _create_step(step: Furu[Any], created: Sequence[tuple[str, str]] = ()) -> None:
    """Worker entry point: results stay on disk; only success or the error comes back.

    `created` are the steps this batch already created: a `_create` that loads them must not
    recompute them again in this worker under FURU_FORCE_RECOMPUTE.
    """
    from furu._compute import mark_forced_done

    mark_forced_done(created)
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
        pool = ProcessPoolExecutor(
            workers,
            mp_context=self._context(),
            initializer=_adopt_settings,
            initargs=(_settings_snapshot(),),
        )
        with pool:
            running: dict[Future[None], Job] = {}
            while True:
                for job in ledger.ready():
                    reporter.started(job)
                    created = _forced_ancestors(jobs, job)
                    running[pool.submit(_create_step, job.step, created)] = job
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    ledger.finish(running.pop(future), future.exception())
