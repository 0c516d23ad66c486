"""The submission claim: one submitter per step, so racing submitters never queue it twice.

Before submitting a step, a submitter claims `.furu/slurm.claim` (created atomically by a hard
link, like the compute lock). After `sbatch` returns it writes the job id into the claim; the job
removes the claim when it ends. Another submitter that finds a claim does not submit the step:
it follows the job named there (or waits a moment for the id to appear). A claim whose job has
ended, or whose submitter died before naming a job, is stale and is broken by whoever finds it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from furu._lock import create_exclusive
from furu._store import HOSTNAME, write_bytes_atomic

CLAIM_FILE = "slurm.claim"
# A claim without a job id is a submitter between claim and sbatch: give it this long.
UNNAMED_CLAIM_GRACE_SEC = 120.0


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


def try_claim(meta_dir: Path) -> bool:
    """Claim the step in `meta_dir` for this process; False if someone holds a claim."""
    meta_dir.mkdir(parents=True, exist_ok=True)
    return create_exclusive(meta_dir / CLAIM_FILE, _payload(None, {}, time.time()))


def name_job(meta_dir: Path, job_id: str, info: dict[str, Any]) -> None:
    """Record the job that will compute the step in our own claim (atomic replace)."""
    write_bytes_atomic(meta_dir / CLAIM_FILE, _payload(job_id, info, time.time()))


def read_claim(meta_dir: Path) -> Claim | None:
    path = meta_dir / CLAIM_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
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
    except (ValueError, KeyError, TypeError):
        return Claim("?", -1, 0.0, None, {}, raw)  # damaged: reads as stale


def release(meta_dir: Path, job_id: str | None = None) -> None:
    """Remove the claim (only if it names `job_id`, when given)."""
    claim = read_claim(meta_dir)
    if claim is None or (job_id is not None and claim.job_id != job_id):
        return
    drop(meta_dir, claim)


def drop(meta_dir: Path, seen: Claim) -> bool:
    """Remove the claim if it is still exactly `seen` (a stale claim found by someone else)."""
    path = meta_dir / CLAIM_FILE
    try:
        if path.read_bytes() != seen.raw:
            return False
        path.unlink()
        return True
    except FileNotFoundError:
        return False
