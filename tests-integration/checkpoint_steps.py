"""A long step that saves its progress and resumes from it (tests/test_checkpoint_resume.py).

`CountTo` counts to `n`, one unit of work at a time, and keeps its progress in
`progress.json` inside `self.furu_dir`, written atomically every `save_every` units; its
`_checkpoint()` saves at once. What it did goes to files in `control` (outside the store):
`starts` (the count each attempt started from) and `units` (every unit done, by any attempt).
A test steers it with files there too: `pause-at` (wait at that count until killed) and
`fail-at` (raise once at that count).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import furu

PAUSE_LIMIT_SEC = 60.0


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


class CountTo(furu.Furu[int]):
    n: int
    control: str
    save_every: int = 1

    def _create(self) -> int:
        count = self._saved()
        _append(self._control("starts"), str(count))
        while count < self.n:
            count += 1
            _append(self._control("units"), str(count))  # one unit of work, done
            vars(self)["_count"] = count  # what _checkpoint() saves
            if count % self.save_every == 0:
                self._save(count)
            self._steer(count)
        self._save(count)
        return count

    def _load(self) -> int:
        return self._saved()

    def _checkpoint(self) -> None:
        _append(self._control("checkpointed"), str(vars(self).get("_count")))
        self._save(vars(self).get("_count", 0))

    def _saved(self) -> int:
        progress = self.furu_dir / "progress.json"
        return json.loads(progress.read_text())["count"] if progress.exists() else 0

    def _save(self, count: int) -> None:
        tmp = self.furu_dir / f"progress.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"count": count}))
        os.replace(tmp, self.furu_dir / "progress.json")

    def _control(self, name: str) -> Path:
        return Path(self.control) / name

    def _steer(self, count: int) -> None:
        fail_at = self._control("fail-at")
        if lines(fail_at) == [str(count)]:
            fail_at.unlink()  # once: the retry goes on
            raise RuntimeError(f"unit {count} failed")
        if lines(self._control("pause-at")) == [str(count)]:
            _append(self._control("paused"), str(count))
            deadline = time.monotonic() + PAUSE_LIMIT_SEC
            while time.monotonic() < deadline:  # until the test kills this process
                time.sleep(0.01)
            raise RuntimeError(f"paused at {count} for {PAUSE_LIMIT_SEC:g}s and nobody came")
