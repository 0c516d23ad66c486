"""`SlurmExecutor`: furu's executor protocol on SLURM, and the single-step handle `StepJob`.

```python
ex = furu_slurm.SlurmExecutor(folder="slurm-logs", resources=furu_slurm.Resources(partition="gpu"))
job = TrainModel(lr=3e-4).load_or_create(executor=ex)     # submits, returns at once
furu.load_or_create_many(sweep, executor=ex)               # arrays, dependencies, waits
batch = furu_slurm.submit_many(sweep, executor=ex)         # submits, returns at once
batch.wait()                                               # live counts; Ctrl-C cancels
```
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import furu
from furu import Furu, plan
from furu_slurm._batch import Batch
from furu_slurm._errors import SlurmConfigError, SlurmJobError
from furu_slurm._resources import Resources
from furu_slurm._scheduler import Scheduler
from furu_slurm._settings import SLURM_CONFIG
from furu_slurm._submission import Submitter, Tracked

T = TypeVar("T")


def _slurm_base(executor: Any) -> Any:
    """The `submitit.SlurmExecutor` inside `executor` (an AutoExecutor or itself)."""
    import submitit

    inner = getattr(executor, "_executor", executor)
    if isinstance(inner, submitit.SlurmExecutor):
        return inner
    raise SlurmConfigError(
        f"furu_slurm.SlurmExecutor needs a submitit executor for SLURM, got "
        f"{type(inner).__module__}.{type(inner).__qualname__}"
        + (
            f" (AutoExecutor picked cluster {executor.cluster!r})"
            if hasattr(executor, "cluster")
            else ""
        )
        + ". Run where `srun` is on PATH, or pass submitit.AutoExecutor(folder, cluster='slurm')."
    )


class SlurmExecutor:
    """Runs furu steps as SLURM jobs through submitit (a `furu.Executor`).

    furu-slurm registers it as the adapter of submitit's executors (entry point group
    `furu.executors`), so `step.load_or_create(executor=submitit.AutoExecutor(...))` builds one.

    Args:
        executor: a `submitit.AutoExecutor` or `submitit.SlurmExecutor` whose parameters
            (partition, time, setup lines...) every job starts from; built from `folder` when
            omitted.
        folder: where submitit writes job scripts, pickles and logs (when `executor` is omitted).
        resources: defaults for every step (a step class's `_slurm_resources` overrides them).
        poll_interval: seconds between `sacct` calls while waiting (default
            `furu_slurm.SLURM_CONFIG.poll_interval`, from `FURU_POLL_INTERVAL_SECS`).
        progress: show live counts while `run` waits (default: when stderr is a terminal).
        cancel_on_interrupt: on Ctrl-C during `run`, cancel the batch's own jobs.
    """

    def __init__(
        self,
        executor: Any = None,
        *,
        folder: str | Path | None = None,
        resources: Resources | None = None,
        poll_interval: float | None = None,
        cancel_on_interrupt: bool = True,
        _overrides: Resources | None = None,
    ) -> None:
        if executor is None:
            if folder is None:
                raise SlurmConfigError(
                    "furu_slurm.SlurmExecutor needs a submitit executor or a folder for its job "
                    "files and logs, e.g. SlurmExecutor(folder='slurm-logs')."
                )
            import submitit

            executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
        self.executor = executor
        self._base = _slurm_base(executor)
        self.resources = resources or Resources()
        self.poll_interval = (
            poll_interval if poll_interval is not None else SLURM_CONFIG.poll_interval
        )
        self.cancel_on_interrupt = cancel_on_interrupt
        self._overrides = _overrides

    @property
    def folder(self) -> Path:
        return Path(self._base.folder)

    def with_resources(self, resources: Resources | None = None, **changes: Any) -> SlurmExecutor:
        """This executor with `resources` (or fields given by name) overriding every step's."""
        extra = resources or Resources(**changes)
        merged = extra if self._overrides is None else self._overrides.merged(extra)
        return SlurmExecutor(
            self.executor,
            resources=self.resources,
            poll_interval=self.poll_interval,
            cancel_on_interrupt=self.cancel_on_interrupt,
            _overrides=merged,
        )

    # ------------------------------------------------------------ protocol

    def run(self, jobs: Sequence[Any], reporter: Any) -> None:
        """furu's executor protocol: submit every job at once, then wait for all of them."""
        batch = self._submit([(job.index, job.step, tuple(job.deps)) for job in jobs])
        for t, job in zip(batch.tracked, jobs, strict=True):
            t.extra["job"] = job
        batch.wait(progress=False, cancel_on_interrupt=self.cancel_on_interrupt, reporter=reporter)

    def submit_step(self, step: Furu[T]) -> StepJob[T]:
        """Submit `step` (and its missing dependencies, as their own jobs); return at once."""
        entries, renumber, roots = _misses([step])
        if not entries:
            return StepJob(step, None, None)
        batch = self._submit(entries)
        return StepJob(step, batch, batch.tracked[renumber[roots[0]]])

    def submit_many(self, objs: Iterable[Furu[Any]]) -> Batch:
        """Submit every missing step among `objs` and their dependencies; return at once."""
        entries, _, _ = _misses(list(objs))
        return self._submit(entries)

    # ------------------------------------------------------------ internals

    def _submitter(self, scheduler: Scheduler) -> Submitter:
        return Submitter(self._base, self.resources, self._overrides, scheduler)

    def _submit(self, entries: Sequence[tuple[int, Furu[Any], tuple[int, ...]]]) -> Batch:
        scheduler = Scheduler(self.poll_interval)
        submitter = self._submitter(scheduler)
        store = furu.Store.current()  # resolved once: every step's directory in one store
        tracked = [
            Tracked(index, step, deps, store.step_dir_of(step)) for index, step, deps in entries
        ]
        mine = submitter.resolve(tracked)
        submitter.submit(tracked, mine)

        def resubmit(t: Tracked) -> None:
            t.job_id, t.result_path, t.started, t.seen_running = None, None, False, False
            if submitter.resolve([t]):
                submitter.submit(tracked, [t])

        return Batch(tracked, scheduler, resubmit, submitter.sbatch_calls)


def _misses(
    objs: Sequence[Furu[Any]],
) -> tuple[list[tuple[int, Furu[Any], tuple[int, ...]]], dict[int, int], list[int]]:
    """The steps to create among `objs` and their dependencies, numbered from 0 in plan order.

    Returns `(index, step, dependency indexes)` per miss, the plan's index -> that index, and the
    plan's roots.
    """
    the_plan = plan(list(objs))
    creates = [i for i, s in enumerate(the_plan.steps) if s.action == "create"]
    renumber = {old: new for new, old in enumerate(creates)}
    entries = [
        (renumber[i], the_plan.steps[i].step, tuple(renumber[d] for d in the_plan.steps[i].deps))
        for i in creates
    ]
    return entries, renumber, list(the_plan.roots)


def submit_many(objs: Iterable[Furu[Any]], *, executor: SlurmExecutor) -> Batch:
    """Submit the missing steps among `objs` (and their dependencies) and return at once.

    Returns:
        A `Batch`: `wait()` it for live counts (Ctrl-C cancels its jobs unless told not to).
    """
    return executor.submit_many(objs)


class StepJob(Generic[T]):
    """The handle `load_or_create(executor=...)` returns: one step's job on the cluster.

    A `furu.Submitted`: `done()`, `wait(timeout)` and `result(timeout)`.

    Attributes:
        step: the step.
        job_id: the scheduler job computing it (`123` or `123_4`); None when nothing needed
            submitting (already done) or a process outside SLURM computes it.
        submitted: whether this call submitted a job (False when it follows someone else's).
    """

    def __init__(self, step: Furu[T], batch: Batch | None, tracked: Tracked | None) -> None:
        self.step = step
        self._batch = batch
        self._tracked = tracked
        self.job_id = tracked.job_id if tracked else None
        self.submitted = bool(tracked and tracked.origin == "submitted")

    def __repr__(self) -> str:
        name = furu.step_id(self.step).short
        return f"StepJob({name}, job_id={self.job_id!r}, state={self.state!r})"

    @property
    def stdout_path(self) -> Path | None:
        return self._tracked.stdout if self._tracked else None

    @property
    def stderr_path(self) -> Path | None:
        return self._tracked.stderr if self._tracked else None

    @property
    def state(self) -> str:
        """`queued`, `running`, `done`, `failed` or `skipped` (as last observed)."""
        t = self._tracked
        if t is None:
            return "done"
        return t.outcome or ("running" if t.started else "queued")

    def done(self) -> bool:
        """Whether the job has finished (refreshes from files, and sacct at most per interval)."""
        if self._batch is None or self._tracked is None:
            return True
        self._batch.refresh()
        return self._tracked.finished

    def wait(self, timeout: float | None = None) -> None:
        """Block until the step (and what it waits for) finished; see `Batch.wait`."""
        if self._batch is not None:
            self._batch.wait(timeout=timeout, progress=False)

    def result(self, timeout: float | None = None) -> T:
        """Wait, then load the step's result; raise `SlurmJobError` if it has none."""
        self.wait(timeout)
        t = self._tracked
        if t is not None and t.outcome != "done":
            if isinstance(t.error, BaseException):
                raise t.error
            raise SlurmJobError(
                f"{t.describe()} was not created: {t.reason}",
                step=t.describe(),
                job_id=t.job_id,
                state=(t.outcome or "unknown").upper(),
            )
        return self.step.load_or_create()

    def cancel(self) -> bool:
        """Cancel the job if this call submitted it; False when it was not ours to cancel."""
        if self._batch is None or not self.submitted:
            return False
        return self._batch.cancel() > 0


if TYPE_CHECKING:  # furu's protocols, checked by the type checker

    def _satisfies(executor: SlurmExecutor, job: StepJob[int]) -> None:
        _: tuple[furu.Executor, furu.Submitted[int]] = (executor, job)
