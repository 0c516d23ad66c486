"""Turning the misses of a batch into as few `sbatch` calls as possible.

Each step is first *resolved*: already done (skip), being computed by a live process (follow
it), queued by another submitter (follow that job), or claimed by us (submit it). The steps to
submit are grouped by their depth in the graph and their resources; each group is one job array
(one `sbatch`). An array depends (`afterany`) on the exact jobs its members' dependencies run in,
so SLURM runs the graph with no client watching; on the node, a step whose dependency did not
succeed is not run (see `_node.py`), and a watching client cancels such jobs early.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import furu
from furu import AttemptStatus, Furu, StepDir, get_logger
from furu_slurm import _claim, _records
from furu_slurm._errors import SlurmSubmitError
from furu_slurm._node import NodeTask, write_settings
from furu_slurm._resources import Resources, resources_of, time_minutes
from furu_slurm._scheduler import FINAL, Scheduler

_log = get_logger()
_MAX_TASK_DEPENDENCIES = 64  # beyond this, depend on whole arrays (sbatch lines stay short)
_CLAIM_ID_WAIT_SEC = 30.0


@dataclass
class Tracked:
    """One step of a batch and where it stands.

    `origin`: `submitted` (our job), `foreign` (another submitter's job, or a job holding the
    lock), `local` (a process holding the lock outside SLURM), `cached` (done before we could
    submit). `outcome`: None while unfinished, else `done`, `failed` or `skipped`. `where` is
    the step's directory in the store the batch was submitted to.
    """

    index: int
    step: Furu[Any]
    deps: tuple[int, ...]
    where: StepDir
    origin: str = ""
    job_id: str | None = None
    stdout: Path | None = None
    stderr: Path | None = None
    result_path: Path | None = None
    started: bool = False
    seen_running: bool = False
    outcome: str | None = None
    error: BaseException | None = None
    reason: str = ""
    resubmits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def describe(self) -> str:
        return self.short

    @cached_property
    def short(self) -> str:
        """`Class 3f9a1c2b0`, for messages."""
        return self.where.id.short


def _job_folder(folder: Path) -> Path:
    """The part of submitit's folder before any `%j`: shared by every job of a submission."""
    from submitit.core.utils import JobPaths

    return Path(JobPaths.get_first_id_independent_folder(folder))


class Submitter:
    """Submits resolved steps as job arrays through a copy of a submitit SLURM executor."""

    def __init__(
        self,
        base: Any,
        resources: Resources,
        overrides: Resources | None,
        scheduler: Scheduler,
    ) -> None:
        self.base = base
        self.resources = resources
        self.overrides = overrides
        self.scheduler = scheduler
        self.sbatch_calls = 0
        self._started = 0.0  # when this submitter began claiming (see _settle_claims)
        self._settings_path: str | None = None  # written once, read by every task

    # ------------------------------------------------------------ resolving

    def resolve(self, tracked: Sequence[Tracked]) -> list[Tracked]:
        """Decide each step's origin; return those claimed by us, to submit."""
        mine: list[Tracked] = []
        pending_claims: list[tuple[Tracked, _claim.Claim]] = []
        self._started = time.time()
        for t in tracked:
            if not self._resolve_one(t, pending_claims):
                continue
            mine.append(t)
        if pending_claims:
            mine.extend(self._settle_claims(pending_claims))
        return sorted(mine, key=lambda t: t.index)

    def _resolve_one(self, t: Tracked, pending: list[tuple[Tracked, _claim.Claim]]) -> bool:
        where = t.where
        if where.has_result():
            t.origin, t.outcome = "cached", "done"
            return False
        holder = where.live_holder()
        if holder is not None:
            t.origin, t.job_id = ("foreign", holder.job_id) if holder.job_id else ("local", None)
            return False
        if _claim.try_claim(where):
            if where.has_result():  # finished between our check and our claim
                _claim.release(where)
                t.origin, t.outcome = "cached", "done"
                return False
            t.origin = "submitted"
            return True
        claim = _claim.read_claim(where)
        if claim is None:  # released meanwhile: try once more
            return self._resolve_one(t, pending)
        pending.append((t, claim))
        return False

    def _settle_claims(self, pending: list[tuple[Tracked, _claim.Claim]]) -> list[Tracked]:
        """Follow live claims of other submitters; break stale ones and claim those steps."""
        deadline = time.monotonic() + _CLAIM_ID_WAIT_SEC
        while True:
            # Wait only for submitters that started claiming before us: two submitters that
            # split the steps between them would otherwise each wait for the other to name its
            # jobs, and neither would submit until the wait ran out.
            unnamed = [
                (t, c)
                for t, c in pending
                if c.job_id is None and c.submitter_alive() and c.claimed_at < self._started
            ]
            if not unnamed or time.monotonic() > deadline:
                break
            time.sleep(0.1)
            pending = [(t, _claim.read_claim(t.where) or c) for t, c in pending]
        named = [c.job_id for _, c in pending if c.job_id]
        states = self.scheduler.states(named, force=True) if named else {}
        retry: list[Tracked] = []
        for t, claim in pending:
            if claim.job_id is None and claim.submitter_alive():
                t.origin, t.job_id = "foreign", None  # its job id is read from the claim later
                continue
            state = states.get(claim.job_id or "", "")
            if claim.job_id and state not in FINAL:
                t.origin, t.job_id = "foreign", claim.job_id
                t.stdout = Path(claim.info["stdout"]) if claim.info.get("stdout") else None
                continue
            _log.info(
                "furu-slurm: %s: breaking a stale submission claim (%s)",
                t.describe(),
                f"job {claim.job_id} is {state}" if claim.job_id else "no job was ever named",
            )
            _claim.drop(t.where, claim)
            retry.append(t)
        again: list[Tracked] = []
        for t in retry:
            if self._resolve_one(t, []):
                again.append(t)
            elif t.origin == "":
                t.origin, t.job_id = "foreign", None  # lost the race to a third submitter
        return again

    # ------------------------------------------------------------ submitting

    def submit(self, all_tracked: Sequence[Tracked], mine: Sequence[Tracked]) -> None:
        """Submit `mine` as arrays, dependencies first; a failed sbatch fails its group."""
        depth: dict[int, int] = {}
        by_index = {t.index: t for t in all_tracked}
        mine_idx = {t.index for t in mine}
        for t in sorted(mine, key=lambda t: t.index):
            depth[t.index] = 1 + max(
                (depth.get(d, -1) for d in t.deps if d in mine_idx), default=-1
            )
        groups: dict[tuple[int, Any], list[Tracked]] = {}
        for t in mine:
            res = self._resources_for(t.step)
            groups.setdefault((depth[t.index], res.key()), []).append(t)
        for key in sorted(groups, key=lambda k: k[0]):
            members = groups[key]
            dead = [t for t in members if self._dead_dependency(t, by_index)]
            for t in dead:
                self._give_up(t, by_index)
            live = [t for t in members if t not in dead]
            if live:
                self._submit_group(live, by_index)

    def _resources_for(self, step: Furu[Any]) -> Resources:
        return self.resources.merged(resources_of(step)).merged(self.overrides)

    def _dead_dependency(self, t: Tracked, by_index: dict[int, Tracked]) -> bool:
        return any(by_index[d].outcome in ("failed", "skipped") for d in t.deps)

    def _give_up(self, t: Tracked, by_index: dict[int, Tracked]) -> None:
        blocker = next(by_index[d] for d in t.deps if by_index[d].outcome in ("failed", "skipped"))
        t.outcome, t.reason = "skipped", f"dependency {blocker.describe()} was not submitted"
        _claim.release(t.where)

    def _dependency_spec(self, members: Sequence[Tracked], by_index: dict[int, Tracked]) -> str:
        ids: list[str] = []
        for t in members:
            for d in t.deps:
                job = by_index[d].job_id
                if job and by_index[d].outcome is None and job not in ids:
                    ids.append(job)
        if len(ids) > _MAX_TASK_DEPENDENCIES:
            ids = sorted({j.split("_", 1)[0] for j in ids})
        return "afterany:" + ":".join(ids) if ids else ""

    def _executor_for(self, members: Sequence[Tracked], dependency: str) -> Any:
        import submitit

        base = self.base
        ex = submitit.SlurmExecutor(
            folder=base.folder, max_num_timeout=base.max_num_timeout, python=base.python
        )
        params = dict(base.parameters)
        res = self._resources_for(members[0].step)
        extra = dict(params.pop("additional_parameters", None) or {})
        extra.update(res.sbatch_flags())
        if dependency:
            extra["dependency"] = dependency
        if res.time is not None:
            params["time"] = time_minutes(res.time)
        if res.array_parallelism is not None:
            params["array_parallelism"] = res.array_parallelism
        names = sorted({type(t.step).__qualname__ for t in members})
        if params.get("job_name", "submitit") == "submitit":
            params["job_name"] = "furu:" + ",".join(names)[:100]
        params["additional_parameters"] = extra
        ex.parameters.update(params)
        return ex

    def _submit_group(self, members: Sequence[Tracked], by_index: dict[int, Tracked]) -> None:
        dependency = self._dependency_spec(members, by_index)
        ex = self._executor_for(members, dependency)
        try:
            settings_path = self._settings_file(Path(ex.folder))
        except OSError as exc:
            self._submission_failed(
                members,
                f"could not write the submitter's settings beside the job files ({exc}). Free "
                "space there, or give furu_slurm.SlurmExecutor another folder.",
                exc,
            )
            return
        tasks = [
            NodeTask(
                step=t.step,
                deps=tuple((by_index[d].describe(), by_index[d].where) for d in t.deps),
                settings_path=settings_path,
                recomputed=_forced_ancestors(t, by_index),
            )
            for t in members
        ]
        self.sbatch_calls += 1
        Scheduler.calls["sbatch"] += 1
        try:
            jobs = ex.submit_array(tasks)
        except Exception as exc:
            output = str(getattr(exc, "output", "") or exc)
            self._submission_failed(
                members,
                f"sbatch refused it: {output.strip()[:2000]}. Check the resources (partition, "
                "time, account) given to furu_slurm.SlurmExecutor or the step's "
                "_slurm_resources.",
                exc,
            )
            return
        partition = ex.parameters["additional_parameters"].get("partition") or ex.parameters.get(
            "partition"
        )
        for t, job in zip(members, jobs, strict=True):
            self._record_submitted(t, job, partition)

    def _settings_file(self, folder: Path) -> str:
        """The submitter's settings, written once for every task this submitter sends."""
        if self._settings_path is None:
            self._settings_path = write_settings(_job_folder(folder))
        return self._settings_path

    def _submission_failed(self, members: Sequence[Tracked], why: str, exc: Exception) -> None:
        names = ", ".join(t.describe() for t in members[:3]) + (", ..." if len(members) > 3 else "")
        error = SlurmSubmitError(
            f"could not submit the array of {len(members)} step(s) ({names}): {why}",
            command="sbatch",
            output=str(getattr(exc, "output", "") or exc),
        )
        for t in members:
            t.outcome, t.error = "failed", error
            _claim.release(t.where)

    def _record_submitted(self, t: Tracked, job: Any, partition: str | None) -> None:
        t.job_id = str(job.job_id)
        t.stdout, t.stderr = Path(job.paths.stdout), Path(job.paths.stderr)
        t.result_path = Path(job.paths.result_pickle)
        array, _, task = t.job_id.partition("_")
        info = {
            "name": "slurm",
            "job_id": t.job_id,
            "array_job_id": array if task else None,
            "array_task_id": task or None,
            "partition": partition,
            "node": None,
            "stdout": str(t.stdout),
            "stderr": str(t.stderr),
        }
        try:
            _claim.name_job(t.where, t.job_id, {"stdout": info["stdout"], "stderr": info["stderr"]})
            _records.record(t.where, AttemptStatus.QUEUED, scheduler=info)
            _records.log(
                t.where,
                f"submitted {t.describe()} as slurm job {t.job_id}; "
                f"stdout {t.stdout}, stderr {t.stderr}",
            )
        except OSError as exc:
            _log.warning(
                "furu-slurm: could not record job %s of %s: %s", t.job_id, t.describe(), exc
            )


def _forced_ancestors(t: Tracked, by_index: dict[int, Tracked]) -> tuple[tuple[str, str], ...]:
    """`(namespace, hash)` of the batch steps `t` needs, when FURU_FORCE_RECOMPUTE is set.

    The batch computes them before `t` runs, so its job must load, not recompute, them.
    """
    if not furu.FURU_CONFIG.force_recompute:
        return ()
    seen: set[int] = set()
    stack = list(t.deps)
    while stack:
        index = stack.pop()
        if index not in seen and index in by_index:
            seen.add(index)
            stack.extend(by_index[index].deps)
    ids = (by_index[i].where.id for i in sorted(seen))
    return tuple((i.namespace, i.hash) for i in ids)
