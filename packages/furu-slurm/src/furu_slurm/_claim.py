"""The submission claim: one submitter per step, so racing submitters never queue it twice.

Before submitting a step, a submitter claims `.furu/slurm.claim` (created atomically by a hard
link, like the compute lock: `furu.StepDir.create_file_exclusive`). After `sbatch` returns it
writes the job id into the claim; the job removes the claim when it ends. Another submitter that
finds a claim does not submit the step: it follows the job named there (or waits a moment for
the id to appear). A claim whose job has ended, or whose submitter died before naming a job, is
stale and is broken by whoever finds it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from furu import StepDir

CLAIM_FILE = "slurm.claim"
# A claim without a job id is a submitter between claim and sbatch: give it this long.
UNNAMED_CLAIM_GRACE_SEC = 120.0
HOSTNAME = os.uname().nodename


@dataclass(frozen=True)
class Claim:
    """A claim as read from disk."""

    host: str
    pid: int
    claimed_at: float
    job_id: str | None
    info: dict[str, Any]
    raw: bytes

    def submitter_alive(self) -> bool:
        """Whether the submitter that has not yet named a job may still name one."""
        if time.time() - self.claimed_at > UNNAMED_CLAIM_GRACE_SEC:
            return False
        if self.host != HOSTNAME:
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _payload(job_id: str | None, info: dict[str, Any], claimed_at: float) -> bytes:
    data = {"host": HOSTNAME, "pid": os.getpid(), "claimed_at": claimed_at, "job_id": job_id}
    return json.dumps({**data, **info}).encode()


def try_claim(where: StepDir) -> bool:
    """Claim the step for this process; False if someone holds a claim."""
    return where.create_file_exclusive(CLAIM_FILE, _payload(None, {}, time.time()))


def name_job(where: StepDir, job_id: str, info: dict[str, Any]) -> None:
    """Record the job that will compute the step in our own claim (atomic replace)."""
    where.replace_file(CLAIM_FILE, _payload(job_id, info, time.time()))


def read_claim(where: StepDir) -> Claim | None:
    raw = where.read_file(CLAIM_FILE)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        job = data.get("job_id")
        return Claim(
            host=str(data["host"]),
            pid=int(data["pid"]),
            claimed_at=float(data["claimed_at"]),
            job_id=str(job) if job else None,
            info=data,
            raw=raw,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return Claim("?", -1, 0.0, None, {}, raw)  # damaged: reads as stale


def release(where: StepDir, job_id: str | None = None) -> None:
    """Remove the claim (only if it names `job_id`, when given)."""
    claim = read_claim(where)
    if claim is None or (job_id is not None and claim.job_id != job_id):
        return
    drop(where, claim)


def drop(where: StepDir, seen: Claim) -> bool:
    """Remove the claim if it is still exactly `seen` (a stale claim found by someone else)."""
    return where.remove_file(CLAIM_FILE, if_content=seen.raw)
