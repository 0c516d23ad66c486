"""Step classes the integration tests run in real subprocesses (and sometimes in-process).

They live in an importable module (not `__main__`) so every process gives them the same
namespace, `furu_steps.<Class>`. Each records what happened in files outside its `furu_dir`:

- `counter_path`: one line per run of `_create` (the pid), so a test counts computations;
- `started_path`: written first thing in `_create`, so a test knows the holder is inside it;
- `release_path`: `_create` waits until this file exists, so a test decides when it ends;
- `fail_flag`: `_create` raises `ValueError` while this file exists.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import furu

_log = logging.getLogger("furu_steps")
RELEASE_DEADLINE_SEC = 120.0


def append_line(path: str | Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text + "\n")


def write_marker(path: str | Path, text: str) -> None:
    """Write a marker file atomically, so a poller never sees it half written."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def wait_for_file(path: str | Path, deadline_sec: float = RELEASE_DEADLINE_SEC) -> None:
    deadline = time.monotonic() + deadline_sec
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {deadline_sec:g}s")
        time.sleep(0.01)


class Counted(furu.Furu[str]):
    """Counts its runs; can announce itself, wait to be released, sleep, or fail on demand."""

    name: str
    counter_path: str
    started_path: str = ""
    release_path: str = ""
    sleep_secs: float = 0.0
    fail_flag: str = ""

    def _create(self) -> str:
        append_line(self.counter_path, str(os.getpid()))
        _log.info("creating %s in pid %d", self.name, os.getpid())
        if self.started_path:
            write_marker(self.started_path, str(os.getpid()))
        if self.release_path:
            wait_for_file(self.release_path)
        if self.sleep_secs:
            time.sleep(self.sleep_secs)
        if self.fail_flag and os.path.exists(self.fail_flag):
            raise ValueError(f"{self.name} was told to fail by {self.fail_flag}")
        value = f"{self.name} made by pid {os.getpid()}"
        (self.furu_dir / "result.txt").write_text(value, encoding="utf-8")
        return value

    def _load(self) -> str:
        return (self.furu_dir / "result.txt").read_text(encoding="utf-8")


class QuickWait(Counted):
    """A `Counted` that gives up waiting for another holder after two seconds."""

    _max_wait_time_sec = 2.0


class Inner(furu.Furu[str]):
    """The inner step of a nested pipeline: logs `inner-work` through a stdlib logger."""

    counter_path: str

    def _create(self) -> str:
        logging.getLogger("furu_steps.inner").info("inner-work")
        append_line(self.counter_path, "inner")
        (self.furu_dir / "inner.txt").write_text("inner result", encoding="utf-8")
        return "inner result"

    def _load(self) -> str:
        return (self.furu_dir / "inner.txt").read_text(encoding="utf-8")


class Outer(furu.Furu[str]):
    """Logs `outer-start`, creates its `Inner` from inside `_create`, logs `outer-end`."""

    inner: Inner
    counter_path: str

    def _create(self) -> str:
        log = logging.getLogger("furu_steps.outer")
        log.info("outer-start")
        got = self.inner.load_or_create()
        log.info("outer-end")
        append_line(self.counter_path, "outer")
        value = f"outer of [{got}]"
        (self.furu_dir / "outer.txt").write_text(value, encoding="utf-8")
        return value

    def _load(self) -> str:
        return (self.furu_dir / "outer.txt").read_text(encoding="utf-8")


class Node(furu.Furu[str]):
    """A node of a batch graph: counts runs in `<counter_dir>/<name>`, needs `deps` first."""

    name: str
    counter_dir: str
    deps: tuple[Any, ...] = ()
    fail_flag: str = ""
    sleep_secs: float = 0.0

    def _create(self) -> str:
        for dep in self.deps:
            if not dep.exists():
                raise RuntimeError(f"{self.name} started before its dependency {dep.name}")
        append_line(Path(self.counter_dir) / self.name, str(os.getpid()))
        if self.sleep_secs:
            time.sleep(self.sleep_secs)
        if self.fail_flag and os.path.exists(self.fail_flag):
            raise ValueError(f"{self.name} was told to fail by {self.fail_flag}")
        value = f"{self.name}(" + ",".join(dep.load_or_create() for dep in self.deps) + ")"
        (self.furu_dir / "node.txt").write_text(value, encoding="utf-8")
        return value

    def _load(self) -> str:
        return (self.furu_dir / "node.txt").read_text(encoding="utf-8")


def build_graph(counter_dir: str, fail_flag: str = "", sleep_secs: float = 0.0) -> dict[str, Node]:
    """`shared` <- `dep0..dep5`; `bad` (fails while `fail_flag` exists) <- `bad-dep0..1`."""
    shared = Node(name="shared", counter_dir=counter_dir, sleep_secs=sleep_secs)
    nodes = {"shared": shared}
    for i in range(6):
        nodes[f"dep{i}"] = Node(
            name=f"dep{i}", counter_dir=counter_dir, deps=(shared,), sleep_secs=sleep_secs
        )
    bad = Node(name="bad", counter_dir=counter_dir, fail_flag=fail_flag)
    nodes["bad"] = bad
    for j in range(2):
        nodes[f"bad-dep{j}"] = Node(name=f"bad-dep{j}", counter_dir=counter_dir, deps=(bad,))
    return nodes


def make_local_step_class() -> type[furu.Furu[str]]:
    """A step class defined inside a function: furu refuses it unless FURU_ALLOW_LOCALS=1."""

    class LocalStep(furu.Furu[str]):
        name: str

        def _create(self) -> str:
            (self.furu_dir / "local.txt").write_text(self.name, encoding="utf-8")
            return self.name

        def _load(self) -> str:
            return (self.furu_dir / "local.txt").read_text(encoding="utf-8")

    return LocalStep


class Sharded(furu.Furu[list[str]]):
    """Writes `parts` files, one at a time, each naming its writer; `_load` checks they agree.

    `announce_after` parts in, it writes `started_path` and pauses `pause_secs`, so a test can
    freeze the process at a known point (`-1`: after the last part, just before returning).
    """

    name: str
    counter_path: str
    parts: int = 4
    started_path: str = ""
    announce_after: int = 0
    pause_secs: float = 0.0

    def _create(self) -> list[str]:
        append_line(self.counter_path, str(os.getpid()))
        announce_at = self.parts if self.announce_after < 0 else self.announce_after
        for index in range(self.parts + 1):
            if index == announce_at and self.started_path:
                write_marker(self.started_path, str(os.getpid()))
                time.sleep(self.pause_secs)
            if index < self.parts:
                (self.furu_dir / f"part-{index}.txt").write_text(str(os.getpid()))
        return self._load()

    def _load(self) -> list[str]:
        names = sorted(p.name for p in self.furu_dir.iterdir() if p.name != ".furu")
        expected = [f"part-{index}.txt" for index in range(self.parts)]
        writers = {(self.furu_dir / name).read_text() for name in names}
        if names != expected or len(writers) != 1:
            raise ValueError(f"{self.furu_dir} holds {names} written by {sorted(writers)}")
        return [writers.pop()] * self.parts
