"""Steps the SLURM integration tests and benchmarks run on the cluster.

They live in an importable module (on the jobs' PYTHONPATH) so the node finds the same classes.
Each records what happened in files outside its `furu_dir` (a test counts computations, reads
the order things started in, or releases a step that waits), always with a wall-clock deadline.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import furu

_log = logging.getLogger("slurm_steps")
DEADLINE_SEC = 120.0


def append_line(path: str | Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text + "\n")


def lines(path: str | Path) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def wait_for_file(path: str | Path, deadline_sec: float = DEADLINE_SEC) -> None:
    deadline = time.monotonic() + deadline_sec
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {deadline_sec:g}s")
        time.sleep(0.05)


def _whoami() -> dict[str, Any]:
    env = os.environ
    return {
        "pid": os.getpid(),
        "job": env.get("SLURM_JOB_ID"),
        "array": env.get("SLURM_ARRAY_JOB_ID"),
        "task": env.get("SLURM_ARRAY_TASK_ID"),
        "restart": env.get("SLURM_RESTART_COUNT", "0"),
        "t": time.time(),
    }


class Dataset(furu.Furu[str]):
    """The shared dependency: writes a file after `sleep_secs`; counts its runs."""

    name: str
    log_path: str
    sleep_secs: float = 0.0

    def _create(self) -> str:
        append_line(self.log_path, json.dumps({"event": "dataset-start", **_whoami()}))
        _log.info("building dataset %s", self.name)
        time.sleep(self.sleep_secs)
        (self.furu_dir / "data.txt").write_text(f"data of {self.name}\n", encoding="utf-8")
        append_line(self.log_path, json.dumps({"event": "dataset-end", **_whoami()}))
        return self._load()

    def _load(self) -> str:
        return (self.furu_dir / "data.txt").read_text(encoding="utf-8")


class Train(furu.Furu[int]):
    """One point of a sweep over a dataset: records whether the dataset was done at its start."""

    dataset: Dataset
    i: int
    log_path: str

    def _create(self) -> int:
        ready = self.dataset.exists()
        append_line(
            self.log_path, json.dumps({"event": "train", "i": self.i, "ready": ready, **_whoami()})
        )
        self.dataset.load_or_create()
        (self.furu_dir / "out.json").write_text(json.dumps(self.i * self.i), encoding="utf-8")
        return self._load()

    def _load(self) -> int:
        return int(json.loads((self.furu_dir / "out.json").read_text(encoding="utf-8")))


class Square(furu.Furu[int]):
    """x*x; counts its runs in `log_path`; may sleep first."""

    x: int
    log_path: str
    sleep_secs: float = 0.0

    def _create(self) -> int:
        append_line(self.log_path, json.dumps({"event": "square", "x": self.x, **_whoami()}))
        _log.info("squaring %d", self.x)
        time.sleep(self.sleep_secs)
        (self.furu_dir / "out.json").write_text(json.dumps(self.x * self.x), encoding="utf-8")
        return self.x * self.x

    def _load(self) -> int:
        return int(json.loads((self.furu_dir / "out.json").read_text(encoding="utf-8")))


class Broken(furu.Furu[int]):
    """Always raises."""

    name: str

    def _create(self) -> int:
        raise ValueError(f"broken on purpose: {self.name}")

    def _load(self) -> int:
        return 0


class After(furu.Furu[int]):
    """Depends on `upstream`; counts its runs (it must never run after a failed upstream)."""

    upstream: furu.Furu[Any]
    tag: int
    log_path: str

    def _create(self) -> int:
        append_line(self.log_path, json.dumps({"event": "after", "tag": self.tag, **_whoami()}))
        self.upstream.load_or_create()
        (self.furu_dir / "out.json").write_text(json.dumps(self.tag), encoding="utf-8")
        return self.tag

    def _load(self) -> int:
        return int(json.loads((self.furu_dir / "out.json").read_text(encoding="utf-8")))


class Hold(furu.Furu[str]):
    """Announces itself in `started_path`, then waits for `release_path` (or sleeps)."""

    name: str
    started_path: str
    release_path: str = ""
    log_path: str = ""

    def _create(self) -> str:
        if self.log_path:
            append_line(
                self.log_path, json.dumps({"event": "hold", "name": self.name, **_whoami()})
            )
        append_line(self.started_path, json.dumps(_whoami()))
        if self.release_path:
            wait_for_file(self.release_path)
        (self.furu_dir / "out.txt").write_text(self.name, encoding="utf-8")
        return self.name

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text(encoding="utf-8")


class CountTo(furu.Furu[dict]):
    """Counts to `n`, one step per `step_secs`, saving progress in its `furu_dir` as it goes.

    The checkpointing pattern: progress lives in `furu_dir/progress.json`, written atomically
    after each unit of work and by `_checkpoint()` (which furu-slurm calls on preemption);
    `_create` resumes from it. `history_path` (outside the store) gets the count each run
    started from.
    """

    n: int
    step_secs: float
    history_path: str

    def _progress_path(self) -> Path:
        return self.furu_dir / "progress.json"

    def _read_progress(self) -> int:
        try:
            return int(json.loads(self._progress_path().read_text(encoding="utf-8"))["count"])
        except FileNotFoundError:
            return 0

    def _save(self, count: int) -> None:
        tmp = self.furu_dir / f".progress.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"count": count}), encoding="utf-8")
        os.replace(tmp, self._progress_path())

    def _checkpoint(self) -> None:
        append_line(self.history_path, json.dumps({"event": "checkpoint", **_whoami()}))

    def _create(self) -> dict:
        start = self._read_progress()
        append_line(self.history_path, json.dumps({"event": "start", "from": start, **_whoami()}))
        count = start
        while count < self.n:
            time.sleep(self.step_secs)
            count += 1
            self._save(count)
        result = {"count": count, "resumed_from": start}
        (self.furu_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
        return result

    def _load(self) -> dict:
        return dict(json.loads((self.furu_dir / "result.json").read_text(encoding="utf-8")))
