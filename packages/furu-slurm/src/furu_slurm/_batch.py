"""A submitted batch, watched: which steps are queued, running, done, failed or skipped.

Watching is cheap for the cluster. Files tell most of the story and are checked often: a step's
`SUCCESS.json` (done), submitit's result file (the job function returned or raised), the
compute lock (a live holder). `sacct` is asked at most once per poll interval, for every job of
the batch in one call, only for what files cannot show: jobs cancelled, killed, timed out or
lost with their node, and requeues.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from furu import AttemptStatus, FuruError, get_logger
from furu_slurm import _claim, _records
from furu_slurm._errors import SlurmJobError, SlurmWaitTimeout
from furu_slurm._scheduler import FINAL, PENDING, RUNNING, Scheduler
from furu_slurm._settings import SLURM_CONFIG
from furu_slurm._submission import Tracked

# SLURM's requeue delay after a preemption is `cred_expire` (120 s by default).
_REQUEUE_GRACE_SEC = 180.0

_log = get_logger()
FILE_CHECK_SEC = 0.2


class _Reporter(Protocol):
    def started(self, job: Any) -> None: ...
    def succeeded(self, job: Any) -> None: ...
    def failed(self, job: Any, error: BaseException) -> None: ...
    def skipped(self, job: Any, reason: str) -> None: ...


class Batch:
    """Steps submitted together (returned by `submit_many`; `SlurmExecutor.run` waits on one).

    Attributes:
        tracked: one entry per step, in dependency order.
        sbatch_calls: how many `sbatch` calls the submission made (one per array).
    """

    def __init__(
        self,
        tracked: Sequence[Tracked],
        scheduler: Scheduler,
        resubmit: Callable[[Tracked], None] | None = None,
        sbatch_calls: int = 0,
    ) -> None:
        self.tracked = list(tracked)
        self.scheduler = scheduler
        self.sbatch_calls = sbatch_calls
        self._resubmit = resubmit
        self._reported: set[int] = set()
        self._by_index = {t.index: t for t in self.tracked}

    # ------------------------------------------------------------ public

    @property
    def job_ids(self) -> list[str]:
        """Every scheduler job id the batch follows (its own and other submitters')."""
        return sorted({t.job_id for t in self.tracked if t.job_id})

    def counts(self) -> dict[str, int]:
        """How many steps are queued, running, done, failed and skipped."""
        counts = dict.fromkeys(("queued", "running", "done", "failed", "skipped"), 0)
        for t in self.tracked:
            key = t.outcome or ("running" if t.started else "queued")
            counts[key] += 1
        return counts

    def done(self) -> bool:
        self.refresh()
        return all(t.finished for t in self.tracked)

    def wait(
        self,
        *,
        timeout: float | None = None,
        progress: bool | None = None,
        cancel_on_interrupt: bool = True,
        reporter: _Reporter | None = None,
    ) -> dict[str, int]:
        """Wait until every step finished; show live counts; return the final counts.

        Args:
            timeout: seconds; `SlurmWaitTimeout` after that (the jobs keep running).
            progress: show a live line of counts (default: when stderr is a terminal).
            cancel_on_interrupt: on Ctrl-C, cancel this batch's own jobs that have not
                finished (pass False to leave them running) before re-raising.
            reporter: also tell a furu batch reporter (used by `SlurmExecutor.run`).
        """
        import sys

        show = sys.stderr.isatty() if progress is None else progress
        view = _ProgressView() if show else None
        start = time.monotonic()
        try:
            while True:
                self.refresh(reporter)
                if view is not None:
                    view.update(self.counts())
                if all(t.finished for t in self.tracked):
                    return self.counts()
                if timeout is not None and time.monotonic() - start > timeout:
                    raise self._timeout(time.monotonic() - start)
                time.sleep(FILE_CHECK_SEC)
        except KeyboardInterrupt:
            if cancel_on_interrupt:
                cancelled = self.cancel()
                _log.warning("furu-slurm: interrupted; cancelled %d job(s)", cancelled)
            else:
                _log.warning(
                    "furu-slurm: interrupted; leaving job(s) %s running", ", ".join(self._own())
                )
            raise
        finally:
            if view is not None:
                view.close()

    def cancel(self) -> int:
        """Cancel this batch's own unfinished jobs (one `scancel`); return how many."""
        ids = self._own()
        if ids and self.scheduler.cancel(ids):
            for t in self.tracked:
                if t.origin == "submitted" and not t.finished and t.job_id:
                    self._finish_cancelled(t, "cancelled by the submitter")
        return len(ids)

    def errors(self) -> list[tuple[str, BaseException | str]]:
        """`(step, error or reason)` of every step that failed or was skipped."""
        out: list[tuple[str, BaseException | str]] = []
        for t in self.tracked:
            if t.outcome == "failed":
                out.append((t.describe(), t.error or t.reason))
            elif t.outcome == "skipped":
                out.append((t.describe(), t.reason))
        return out

    # ------------------------------------------------------------ watching

    def refresh(self, reporter: _Reporter | None = None) -> None:
        """Look at the files (always) and at sacct (when a poll interval has passed)."""
        for t in self.tracked:
            if not t.finished:
                self._check_files(t)
        live = [t.job_id for t in self.tracked if not t.finished and t.job_id]
        if live:
            states = self.scheduler.states(live)  # calls sacct only once per poll interval
            for t in self.tracked:
                if not t.finished and t.job_id:
                    self._check_state(t, states.get(t.job_id))
        self._propagate()
        if reporter is not None:
            self._report(reporter)

    def _own(self) -> list[str]:
        return sorted(
            t.job_id
            for t in self.tracked
            if t.origin == "submitted" and t.job_id and not t.finished
        )

    def _check_files(self, t: Tracked) -> None:
        where = t.where
        if where.has_result():
            t.outcome, t.started = "done", True
            return
        if t.result_path is not None and t.result_path.exists():
            self._read_result(t)
            return
        if t.origin == "local" or (t.origin == "foreign" and t.job_id is None):
            claim = _claim.read_claim(where)
            if claim is not None and claim.job_id:
                t.origin, t.job_id = "foreign", claim.job_id
            elif claim is None and where.live_holder() is None:
                self._finish_from_state(t, "the process computing it ended without a result")
            return
        if not t.started:
            attempt = _records.latest_attempt(where)
            if (
                attempt is not None
                and attempt.status is AttemptStatus.RUNNING
                and (t.job_id is None or attempt.job_id == t.job_id)
            ):
                t.started = True

    def _read_result(self, t: Tracked) -> None:
        try:
            with open(t.result_path or "", "rb") as f:
                kind, payload = pickle.load(f)
        except Exception:  # still being written, or unreadable: sacct decides later
            return
        t.started = True
        if kind == "success" and isinstance(payload, dict):
            outcome = payload.get("outcome")
            if outcome == "done":
                t.outcome = "done"
            elif outcome == "skipped":
                t.outcome, t.reason = "skipped", str(payload.get("reason", ""))
            else:
                self._fail(t, str(payload.get("reason", "the job reported a failure")), "FAILED")
        else:
            self._finish_from_state(t, _last_line(str(payload)))

    def _check_state(self, t: Tracked, state: str | None) -> None:
        if state is None:
            return
        if state in RUNNING:
            t.started = t.seen_running = True
        elif state in PENDING and (t.seen_running or t.started):
            # back in the queue after running (requeue, preemption): sacct may never have
            # shown RUNNING in between, so the step's own record of running counts too
            self._requeued(t)
        elif state in FINAL and not (t.result_path is not None and t.result_path.exists()):
            self._ended_without_result(t, state)

    def _requeued(self, t: Tracked) -> None:
        where = t.where
        if where.live_holder() is not None:
            return  # the requeued process is still dying (or already back): look again later
        attempt = _records.latest_attempt(where)
        if (
            attempt is not None
            and attempt.status is AttemptStatus.RUNNING
            and attempt.job_id == t.job_id
        ):
            reason = f"job {t.job_id} was requeued by the scheduler"
            if _records.record(where, AttemptStatus.PREEMPTED, reason=reason, only_if_job=t.job_id):
                _records.log(where, f"{t.describe()}: {reason}")
        t.seen_running = False

    def _ended_without_result(self, t: Tracked, state: str) -> None:
        where = t.where
        if where.has_result():
            t.outcome = "done"
            return
        holder = where.live_holder()
        if holder is not None and holder.job_id == t.job_id:
            return  # the job's process is still dying (submitit waits out SIGTERM): look again
        if state == "PREEMPTED" and self._requeue_may_follow(t):
            return  # sacct shows PREEMPTED until a requeued job is PENDING again: look again
        limit = SLURM_CONFIG.preempt_max
        requeue = state == "CANCELLED" and SLURM_CONFIG.cancelled_is_preempted
        if (
            requeue
            and t.resubmits < limit
            and t.origin == "submitted"
            and self._resubmit is not None
        ):
            t.resubmits += 1
            reason = (
                f"job {t.job_id} CANCELLED; FURU_CANCELLED_IS_PREEMPTED=1: resubmitted "
                f"({t.resubmits} of FURU_PREEMPT_MAX={limit})"
            )
            _records.record(where, AttemptStatus.PREEMPTED, reason=reason, only_if_job=t.job_id)
            _records.log(where, f"{t.describe()}: {reason}")
            _claim.release(where, t.job_id)
            self._resubmit(t)
            return
        if state == "CANCELLED" and t.origin == "submitted":
            self._finish_cancelled(t, f"job {t.job_id} was cancelled in SLURM (scancel)")
            return
        _claim.release(where, t.job_id)
        self._finish_from_state(t, f"job {t.job_id} ended {state} without a result", state)

    def _requeue_may_follow(self, t: Tracked) -> bool:
        """A preemption the job recorded itself is followed by a requeue; give it a while."""
        attempt = _records.latest_attempt(t.where)
        if attempt is None or attempt.status is not AttemptStatus.PREEMPTED:
            return False
        first_seen = t.extra.setdefault("preempted_seen_at", time.monotonic())
        return bool(time.monotonic() - first_seen < _REQUEUE_GRACE_SEC)

    def _finish_cancelled(self, t: Tracked, reason: str) -> None:
        _records.record(t.where, AttemptStatus.CANCELLED, reason=reason, only_if_job=t.job_id)
        _claim.release(t.where, t.job_id)
        self._fail(t, reason, "CANCELLED")

    def _finish_from_state(self, t: Tracked, fallback: str, sched_state: str = "FAILED") -> None:
        try:
            attempt = t.where.read_state().attempt  # healed: a dead holder's attempt is crashed
        except (FuruError, OSError):
            attempt = None
        if attempt is not None and attempt.error:
            message = f"{attempt.error.get('type')}: {attempt.error.get('message')}"
            self._fail(t, message, sched_state)
        else:
            self._fail(t, fallback, sched_state)

    def _fail(self, t: Tracked, reason: str, state: str) -> None:
        log = t.where.log_path
        where = f" (job {t.job_id}; stderr {t.stderr})" if t.job_id else ""
        t.outcome, t.reason = "failed", reason
        t.error = SlurmJobError(
            f"{t.describe()} failed{where}: {reason}. Its log is {log}.",
            step=t.describe(),
            job_id=t.job_id,
            state=state,
        )

    def _propagate(self) -> None:
        """Skip (and cancel) every unfinished step behind a failed or skipped one."""
        doomed: list[Tracked] = []
        changed = True
        while changed:
            changed = False
            for t in self.tracked:
                if t.finished:
                    continue
                bad = [self._by_index[d] for d in t.deps if d in self._by_index]
                blocker = next((d for d in bad if d.outcome in ("failed", "skipped")), None)
                if blocker is None:
                    continue
                t.outcome, t.reason = "skipped", f"dependency {blocker.describe()} did not succeed"
                doomed.append(t)
                changed = True
        own = [t for t in doomed if t.origin == "submitted" and t.job_id]
        if own:
            self.scheduler.cancel([t.job_id for t in own if t.job_id])
        for t in own:
            reason = f"cancelled: {t.reason}"
            _records.record(t.where, AttemptStatus.CANCELLED, reason=reason, only_if_job=t.job_id)
            _records.log(t.where, f"{t.describe()}: {reason}")
            _claim.release(t.where, t.job_id)

    def _report(self, reporter: _Reporter) -> None:
        for t in self.tracked:
            job = t.extra.get("job")
            if job is None or t.index in self._reported:
                continue
            if t.outcome == "skipped":
                self._reported.add(t.index)
                if t.extra.get("started_reported"):
                    reporter.failed(
                        job,
                        SlurmJobError(
                            t.reason, step=t.describe(), job_id=t.job_id, state="SKIPPED"
                        ),
                    )
                else:
                    reporter.skipped(job, t.reason)
                continue
            if (t.started or t.finished) and not t.extra.get("started_reported"):
                t.extra["started_reported"] = True
                reporter.started(job)
            if t.outcome == "done":
                self._reported.add(t.index)
                reporter.succeeded(job)
            elif t.outcome == "failed":
                self._reported.add(t.index)
                reporter.failed(
                    job,
                    t.error
                    or SlurmJobError(t.reason, step=t.describe(), job_id=t.job_id, state="FAILED"),
                )

    def _timeout(self, waited: float) -> SlurmWaitTimeout:
        unfinished = [t.job_id or t.describe() for t in self.tracked if not t.finished]
        return SlurmWaitTimeout(
            f"waited {waited:.0f}s for {len(unfinished)} unfinished step(s) "
            f"({', '.join(unfinished[:5])}); they keep running. Wait again, or cancel them.",
            waited_sec=waited,
            unfinished=unfinished,
        )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the job raised"


class _ProgressView:
    """One live line of counts on stderr (rich), refreshed as they change."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        self._text = Text
        self._live = Live(Text(""), console=Console(stderr=True), auto_refresh=False)
        self._live.start()
        self._last: dict[str, int] | None = None

    def update(self, counts: dict[str, int]) -> None:
        if counts == self._last:
            return
        self._last = dict(counts)
        line = "furu-slurm: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        self._live.update(self._text(line), refresh=True)

    def close(self) -> None:
        self._live.stop()
