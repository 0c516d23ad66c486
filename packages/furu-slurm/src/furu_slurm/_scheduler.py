"""Talking to SLURM's command-line tools: rarely, with timeouts, and never crashing the run.

`sacct` is the one source of final job states; it lags a few seconds behind reality and may
time out or fail while `slurmdbd` is busy. A `Scheduler` therefore asks it at most once per
poll interval for a whole batch (one call, every job id on it), keeps the last answer when a
call fails, and logs the failure instead of raising. Liveness between two calls comes from the
files the jobs write (the compute lock's heartbeat, `SUCCESS.json`, submitit's result file).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import ClassVar

from furu import get_logger

_log = get_logger()

PENDING = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED"})
RUNNING = frozenset({"RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING"})
# PREEMPTED is final only when the partition does not requeue; a requeued job shows PENDING.
FINAL = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "PREEMPTED",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)
_ARRAY = re.compile(r"^(?P<job>\d+)_\[(?P<ranges>[0-9,\-]+)(?:%\d+)?\]$")
_PLAIN = re.compile(r"^(?P<job>\d+)(?:_(?P<task>\d+))?(?:\+\d+)?$")


def normalize_state(raw: str) -> str:
    """`CANCELLED by 0` -> `CANCELLED`; `RUNNING+` -> `RUNNING`."""
    word = raw.strip().split(" ")[0] if raw.strip() else "UNKNOWN"
    return word.rstrip("+").upper() or "UNKNOWN"


def expand_job_id(raw: str) -> list[str]:
    """The job ids a sacct/squeue JobID names: `123`, `123_4`, or every task of `123_[1-4%2]`.

    Step rows (`123.batch`, `123_4.extern`, `123.0`) and unreadable ids give `[]`.
    """
    text = raw.strip()
    if not text or "." in text:
        return []
    match = _ARRAY.match(text)
    if match is not None:
        ids: list[str] = []
        for part in match.group("ranges").split(","):
            if not part:
                continue
            low, _, high = part.partition("-")
            ids.extend(f"{match.group('job')}_{i}" for i in range(int(low), int(high or low) + 1))
        return ids
    match = _PLAIN.match(text)
    if match is None:
        return []
    task = match.group("task")
    return [f"{match.group('job')}_{task}" if task is not None else match.group("job")]


def parse_sacct(output: str) -> dict[str, str]:
    """`{job id: state}` from `sacct --parsable2 --noheader -o JobID,State` output.

    Tolerates step rows, array ranges, blank and malformed lines, and a header if present. When
    a job appears twice (a requeued job listed with `--duplicates`), the last row wins.
    """
    states: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.split("|")
        if len(parts) < 2 or parts[0].strip() == "JobID":
            continue
        state = normalize_state(parts[1])
        for job_id in expand_job_id(parts[0]):
            states[job_id] = state
    return states


def array_of(job_id: str) -> str:
    """`123` for `123_4` and for `123`."""
    return job_id.split("_", 1)[0]


class Scheduler:
    """SLURM's CLI behind a rate limit and timeouts (one instance per batch or handle).

    Args:
        poll_interval: `states()` calls `sacct` at most once per this many seconds.
        timeout: seconds before a CLI call is abandoned (the run goes on without its answer).
    """

    # every CLI call by any Scheduler in this process (benchmarks and tests read it)
    calls: ClassVar[Counter[str]] = Counter()

    def __init__(self, poll_interval: float, timeout: float = 30.0) -> None:
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._last_call = -float("inf")
        self._known: dict[str, str] = {}
        self.sacct_times: list[float] = []

    def _run(self, argv: Sequence[str]) -> str | None:
        Scheduler.calls[argv[0]] += 1
        try:
            out = subprocess.run(
                list(argv), capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            _log.warning("furu-slurm: `%s` failed (%s); will ask again later", argv[0], exc)
            return None
        if out.returncode != 0:
            _log.warning(
                "furu-slurm: `%s` exited %d: %s; will ask again later",
                " ".join(argv[:3]),
                out.returncode,
                out.stderr.strip()[:500],
            )
            return None
        return out.stdout

    def due(self) -> bool:
        return time.monotonic() - self._last_call >= self.poll_interval

    def states(self, job_ids: Iterable[str], *, force: bool = False) -> dict[str, str]:
        """Latest known state of each job (one `sacct` call when the interval has passed)."""
        wanted = sorted({array_of(j) for j in job_ids})
        if wanted and (force or self.due()):
            self._last_call = time.monotonic()
            self.sacct_times.append(time.time())
            out = self._run(
                [
                    "sacct",
                    "--noheader",
                    "--parsable2",
                    "-X",
                    "-o",
                    "JobID,State",
                    "-j",
                    ",".join(wanted),
                ]
            )
            if out is not None:
                self._known.update(parse_sacct(out))
        return self._known

    def cancel(self, job_ids: Iterable[str]) -> bool:
        """`scancel` every id in one call; False (logged) when it failed."""
        ids = sorted(set(job_ids))
        return not ids or self._run(["scancel", *ids]) is not None
