"""Process and store helpers shared by the integration tests (see conftest.py's `store`).

Every subprocess runs `python -m furu_driver` (or a small `-c` script) from a working directory
under the test's `tmp_path`, with its stdout and stderr in files there and `FURU_PATH` and
`FURU_VERSION_CONTROLLED_PATH` pointing under it, so nothing is written into the repository.
Waits poll files with a wall-clock deadline; none relies on a sleep being long enough.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from furu import FURU_CONFIG

HERE = Path(__file__).resolve().parent
PROCESS_TIMEOUT_SEC = 90.0
WAIT_TIMEOUT_SEC = 60.0


class Proc:
    """A subprocess whose output goes to files (no pipe can fill up and block it)."""

    def __init__(self, argv: list[str], *, name: str, cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.stdout_path = cwd / f"{name}.stdout"
        self.stderr_path = cwd / f"{name}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def describe(self) -> str:
        return (
            f"process {self.name} (pid {self.pid}, returncode {self.popen.returncode})\n"
            f"--- stdout ---\n{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-6000:]}"
        )

    def wait(self, timeout: float = PROCESS_TIMEOUT_SEC) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"still running after {timeout:g}s: {self.describe()}") from None

    def result(self, timeout: float = PROCESS_TIMEOUT_SEC) -> dict[str, Any]:
        """Wait for the driver and return the JSON object it printed last."""
        self.wait(timeout)
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"printed no result: {self.describe()}")
        try:
            out: dict[str, Any] = json.loads(lines[-1])
        except ValueError:
            raise AssertionError(f"printed no JSON result: {self.describe()}") from None
        return out

    def ok(self, timeout: float = PROCESS_TIMEOUT_SEC) -> dict[str, Any]:
        """Wait, and assert the process exited 0 with a successful result."""
        out = self.result(timeout)
        assert self.popen.returncode == 0, self.describe()
        assert out["ok"], self.describe()
        return out

    def stop(self) -> None:
        if self.alive():
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)


def wait_until(
    predicate: Callable[[], bool],
    *,
    what: str,
    timeout: float = WAIT_TIMEOUT_SEC,
    procs: Iterable[Proc] = (),
) -> None:
    """Poll `predicate`; fail after `timeout`, or at once if one of `procs` exits first."""
    deadline = time.monotonic() + timeout
    watched = list(procs)
    while not predicate():
        for proc in watched:
            if not proc.alive():
                raise AssertionError(f"exited while waiting for {what}: {proc.describe()}")
        if time.monotonic() > deadline:
            details = "\n".join(proc.describe() for proc in watched)
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{details}")
        time.sleep(0.01)


@contextlib.contextmanager
def furu_config(**changes: Any) -> Iterator[None]:
    """Change `furu.FURU_CONFIG` in this process for a while, restoring every field after."""
    saved = {f.name: getattr(FURU_CONFIG, f.name) for f in dataclasses.fields(FURU_CONFIG)}
    try:
        for name, value in changes.items():
            setattr(FURU_CONFIG, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(FURU_CONFIG, name, value)


def store_config(root: Path) -> dict[str, Any]:
    """The in-process settings matching `Store.env()` for a store at `root`."""
    return {
        "base_root": root,
        "version_controlled_root": root / "vc",
        "ignore_git_diff": True,
        "rich_uncaught_tracebacks": False,
    }


class Store:
    """A furu store under a test's `tmp_path`, and the processes a test runs against it."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.root = tmp_path / "store"
        self.procs: list[Proc] = []

    def path(self, name: str) -> str:
        """A file under the test's directory (outside the store) as a string."""
        return str(self.dir / name)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a subprocess: no inherited FURU_* except the store's own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["FURU_PATH"] = str(self.root)
        env["FURU_VERSION_CONTROLLED_PATH"] = str(self.root / "vc")
        env["FURU_IGNORE_DIFF"] = "1"
        env["FURU_RICH_UNCAUGHT_TRACEBACKS"] = "0"
        env.update(extra)
        return env

    def start(self, spec: dict[str, Any], *, name: str, **env: str) -> Proc:
        """Start `python -m furu_driver <spec>`."""
        argv = [sys.executable, "-m", "furu_driver", json.dumps(spec)]
        return self._start(argv, name, env)

    def start_code(self, code: str, *, name: str, **env: str) -> Proc:
        """Start `python -c <code>`."""
        return self._start([sys.executable, "-c", code], name, env)

    def _start(self, argv: list[str], name: str, env: dict[str, str]) -> Proc:
        proc = Proc(argv, name=name, cwd=self.dir, env=self.env(**env))
        self.procs.append(proc)
        return proc

    def counted(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """The spec of a `furu_steps.Counted` counting into `<tmp>/<name>.count`."""
        fields = {"name": name, "counter_path": self.path(f"{name}.count"), **kwargs}
        return {"cls": "Counted", "kwargs": fields}

    def count(self, counter_path: str) -> int:
        """How many times a step appended to its counter file."""
        try:
            return len(Path(counter_path).read_text(encoding="utf-8").splitlines())
        except FileNotFoundError:
            return 0

    def files(self) -> list[Path]:
        """Every regular file in the store."""
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.stop()
