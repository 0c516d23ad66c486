"""`load_or_create_many`: plan many steps, create the missing ones in dependency order, load all."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from furu._errors import FuruBatchError
from furu._executor import Executor, Job, LocalExecutor, as_executor
from furu._furu import Furu
from furu._logging import configure_logging, get_logger
from furu._planning import Plan, plan
from furu._policy import mark_recomputed
from furu._settings import FURU_CONFIG

T = TypeVar("T")
_log = get_logger()


class _BatchReporter:
    """Collects outcomes and shows progress (a rich bar on a terminal, log lines elsewhere)."""

    def __init__(self, total: int, show_bar: bool) -> None:
        self.total = total
        self.counts = {"running": 0, "done": 0, "failed": 0, "skipped": 0}
        self.failures: list[tuple[Job, BaseException]] = []
        self.skips: list[tuple[Job, str]] = []
        self._progress: Any = None
        if show_bar:
            from rich.console import Console
            from rich.progress import Progress

            # stderr, like the log lines and the isatty() check that chose to show it: a bar in
            # stdout would end up in a script's redirected output.
            console = Console(stderr=True)
            self._progress = Progress(console=console, auto_refresh=False, transient=False)
            self._task = self._progress.add_task("furu", total=total)
            self._progress.start()

    def _update(self) -> None:
        if self._progress is None:
            return
        c = self.counts
        text = (
            f"furu: {c['done']}/{self.total} done, {c['running']} running, "
            f"{c['failed']} failed, {c['skipped']} skipped"
        )
        finished = c["done"] + c["failed"] + c["skipped"]
        self._progress.update(self._task, completed=finished, description=text, refresh=True)

    def started(self, job: Job) -> None:
        self.counts["running"] += 1
        self._update()

    def succeeded(self, job: Job) -> None:
        self.counts["running"] -= 1
        self.counts["done"] += 1
        if self._progress is None:
            _log.info("created %s (%d/%d)", job.step._furu_short(), self.counts["done"], self.total)
        self._update()

    def failed(self, job: Job, error: BaseException) -> None:
        self.counts["running"] -= 1
        self.counts["failed"] += 1
        self.failures.append((job, error))
        _log.error("failed %s: %s", job.step._furu_short(), error)
        self._update()

    def skipped(self, job: Job, reason: str) -> None:
        self.counts["skipped"] += 1
        self.skips.append((job, reason))
        _log.warning("skipped %s: %s", job.step._furu_short(), reason)
        self._update()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def jobs_of(the_plan: Plan) -> list[Job]:
    """The plan's steps to create as executor jobs (indices renumbered among them)."""
    creates = [i for i, s in enumerate(the_plan.steps) if s.action == "create"]
    renumber = {old: new for new, old in enumerate(creates)}
    return [
        Job(renumber[i], the_plan.steps[i].step, tuple(renumber[d] for d in the_plan.steps[i].deps))
        for i in creates
    ]


def load_or_create_many(
    objs: Iterable[Furu[T]],
    *,
    executor: Executor | Any = None,
    max_workers: int | None = None,
    progress: bool | None = None,
) -> list[T]:
    """Create every missing step among `objs` and their dependencies, then load them all.

    The dependency graph (nested step fields and `_dependencies()`) is planned first; cached
    steps are skipped; the missing ones run on `executor` in dependency order. A failure stops
    only the steps that depend on it; the rest still run, and then every failure is reported.

    Args:
        objs: the steps wanted; duplicates are created once.
        executor: where missing steps run (default: `LocalExecutor(max_workers)`); another
            library's executor works when an installed package adapts it (see `Executor`).
        max_workers: worker processes for the default executor.
        progress: show a progress bar (default: when stderr is a terminal).

    Returns:
        The loaded result of each step of `objs`, in order (None for each under FURU_DRY_RUN).

    Raises:
        FuruBatchError: some steps failed or were skipped; lists each with its error.
    """
    configure_logging()
    steps = list(objs)
    started = time.monotonic()
    the_plan = plan(steps)
    if FURU_CONFIG.dry_run:
        _log.info("FURU_DRY_RUN is set: computing nothing.\n%s", the_plan.describe())
        return [None] * len(steps)  # type: ignore[list-item]
    jobs = jobs_of(the_plan)
    if jobs:
        _log.info("%s", the_plan.describe().splitlines()[0])
        _run(jobs, as_executor(executor) if executor else LocalExecutor(max_workers), progress)
    _log.debug("batch of %d steps took %.2fs", len(steps), time.monotonic() - started)
    # Steps this batch just created are loaded as they are: asking load_or_create again would
    # recompute them a second time under FURU_FORCE_RECOMPUTE or FURU_ALWAYS_RERUN. So are
    # the cached ones: the batch already created the forced steps below them.
    created = {job.step._furu_identity() for job in jobs}
    mark_recomputed(created)
    return [
        step._load()
        if step._furu_identity() in created or step._furu_done()
        else step.load_or_create()
        for step in steps
    ]


def _run(jobs: Sequence[Job], executor: Executor, progress: bool | None) -> None:
    show = sys.stderr.isatty() if progress is None else progress
    reporter = _BatchReporter(len(jobs), show)
    try:
        executor.run(jobs, reporter)
    finally:
        reporter.close()
    if reporter.failures or reporter.skips:
        raise _batch_error(reporter)


def _cause(error: BaseException) -> str:
    """What went wrong, without repeating the step's name (a FuruComputeError carries it)."""
    original = getattr(error, "original_error", None)
    if original is None:
        return str(error)
    kind = getattr(original, "type_name", None) or type(original).__qualname__
    return f"{kind}: {original}"


def _batch_error(reporter: _BatchReporter) -> FuruBatchError:
    lines = [
        f"{len(reporter.failures)} step(s) failed and {len(reporter.skips)} were skipped "
        "because a dependency failed; everything else was created:"
    ]
    lines += [
        f"  failed  {job.step._furu_short()}: {_cause(err)}" for job, err in reporter.failures
    ]
    lines += [f"  skipped {job.step._furu_short()}: {why}" for job, why in reporter.skips]
    lines.append("Fix the failures and call again: what succeeded is cached.")
    return FuruBatchError(
        "\n".join(lines),
        failures=[(job.step._furu_short(), err) for job, err in reporter.failures],
        skipped=[job.step._furu_short() for job, _ in reporter.skips],
    )
