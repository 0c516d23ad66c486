"""Reruns: an experiment recomputed in the project's environment, as a subprocess.

The server never imports user code, so a rerun is `<project python> -c <RUNNER> <spec file>`: the
child imports furu and the user's classes, rebuilds the step with `Furu.from_dict` from the
recorded config (with overrides; its names checked by `_snippet.check_config` first), and calls
`load_or_create()` (forced when asked). The interpreter is `--rerun-python`, or the recorded
one when it is trustworthy (`Runs.python_for`). Its output
goes to a file in the server's cache directory; `GET /api/runs/{id}` reports progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Run
from furu_server.index._index import Index, Located

RUNNER = """\
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    spec = json.load(f)
import furu
if spec["force"]:
    furu.FURU_CONFIG.force_recompute = frozenset([spec["force"]])
step = furu.Furu.from_dict(spec["config"])
print("furu-rerun: computing", furu.step_id(step), flush=True)
step.load_or_create()
print("furu-rerun-result " + json.dumps({"hash": furu.step_id(step).hash}), flush=True)
"""
TAIL_BYTES = 8192
_PYTHON_NAME = re.compile(r"python[0-9.]*|pypy[0-9.]*")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class _Run:
    id: str
    where: Located
    command: list[str]
    output: Path
    popen: subprocess.Popen[bytes]
    started_at: str
    ended_at: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to_model(self) -> Run:
        code = self.popen.poll()
        status: Literal["running", "succeeded", "failed"] = (
            "running" if code is None else "succeeded" if code == 0 else "failed"
        )
        return Run(
            id=self.id,
            namespace=self.where.namespace,
            hash=self.where.hash,
            status=status,
            pid=self.popen.pid,
            started_at=self.started_at,
            ended_at=self.ended_at if code is not None else None,
            returncode=code,
            command=[*self.command[:2], "<runner>", "<spec>"],
            output_tail=tail_of(self.output),
            result_hash=_result_hash(self.output),
        )


def tail_of(path: Path, size: int = TAIL_BYTES) -> str:
    """The last `size` bytes of a command's output file, as text ("" when unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - size))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _result_hash(path: Path) -> str | None:
    for line in reversed(tail_of(path).splitlines()):
        if line.startswith("furu-rerun-result "):
            try:
                value = json.loads(line.split(" ", 1)[1]).get("hash")
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


class Runs:
    """The reruns this server started."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings = index.settings
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    def python_for(self, metadata: dict[str, Any] | None) -> str:
        """The interpreter of a rerun: `--rerun-python`, else the one the metadata records,
        when it is a trustworthy Python (`_trusted_python`)."""
        if self.settings.rerun_python:
            return self.settings.rerun_python
        recorded = (metadata or {}).get("executable")
        problem = self._trusted_python(recorded)
        if problem is None:
            assert isinstance(recorded, str)
            return recorded
        shown = repr(recorded) if len(repr(recorded)) <= 300 else repr(recorded)[:300] + "..."
        raise ServerError(
            ErrorCode.RERUN_UNAVAILABLE,
            f"no project environment to rerun in: the Python recorded in the experiment's "
            f"metadata ({shown}) {problem}. Start the server with "
            "--rerun-python /path/to/project/.venv/bin/python.",
        )

    def _trusted_python(self, recorded: Any) -> str | None:
        """Why the recorded interpreter is not run (None: it is).

        `metadata.json` may have been planted, so its `executable` is run only when it is an
        existing `python*` executable outside the store, owned by root or by this server's
        user and writable by no one else.
        """
        if not isinstance(recorded, str) or not os.path.isabs(recorded) or "\x00" in recorded:
            return "is not an absolute path"
        if not _PYTHON_NAME.fullmatch(os.path.basename(recorded)):
            return "is not named like a Python interpreter (python, python3, python3.11)"
        real = os.path.realpath(recorded)
        for root in (self.settings.resolved_root, self.settings.resolved_vc_root):
            if root is not None and (real + os.sep).startswith(str(root) + os.sep):
                return "is inside the store, where anyone who writes the store could replace it"
        try:
            st = os.stat(real)
        except OSError:
            return "does not exist here"
        if not stat.S_ISREG(st.st_mode) or not os.access(real, os.X_OK):
            return "is not an executable file"
        if st.st_uid not in (0, os.getuid()) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return "belongs to another user (or others may change it)"
        return None

    def env(self) -> dict[str, str]:
        """The environment of a child process: the server's, without its FURU_* settings but
        the store's paths."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        env["FURU_PATH"] = str(self.settings.resolved_root)
        vc = self.settings.resolved_vc_root
        if vc is not None:
            env["FURU_VERSION_CONTROLLED_PATH"] = str(vc)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(
        self, where: Located, config: dict[str, Any], metadata: dict[str, Any] | None, force: bool
    ) -> Run:
        python = self.python_for(metadata)
        with self._lock:
            active = sum(1 for r in self._runs.values() if r.popen.poll() is None)
            if active >= self.settings.max_runs:
                raise ServerError(
                    ErrorCode.TOO_MANY_RUNS,
                    f"{active} reruns are running (the limit is {self.settings.max_runs}); wait "
                    "for one to finish, or start the server with a higher --max-runs.",
                )
            run_id = os.urandom(8).hex()
            spec = {"config": config, "force": where.namespace if force else None}
            out_dir = self.settings.runs_dir()
            out_dir.mkdir(parents=True, exist_ok=True)
            # The spec goes in a file: a config of any size (an argument holds 128 KiB at most).
            spec_path = out_dir / f"{run_id}.spec.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            command = [python, "-c", RUNNER, str(spec_path)]
            output = out_dir / f"{run_id}.log"
            cwd = self.settings.rerun_cwd or Path.cwd()
            with open(output, "wb") as out:
                popen = subprocess.Popen(
                    command,
                    cwd=cwd,
                    env=self.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            run = _Run(run_id, where, command, output, popen, _now())
            self._runs[run_id] = run
        threading.Thread(target=self._watch, args=(run,), daemon=True, name="furu-rerun").start()
        return run.to_model()

    def _watch(self, run: _Run) -> None:
        run.popen.wait()
        run.ended_at = _now()
        with contextlib.suppress(Exception):  # else the background refresher catches up
            self.index.refresh()

    def get(self, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None:
            raise ServerError(
                ErrorCode.RUN_NOT_FOUND,
                f"no rerun {run_id!r} was started by this server (runs are forgotten on restart).",
                {"id": run_id},
            )
        return run.to_model()

    def all(self) -> list[Run]:
        return [r.to_model() for r in sorted(self._runs.values(), key=lambda r: r.started_at)]

    def stop_all(self) -> None:
        for run in self._runs.values():
            if run.popen.poll() is None:
                run.popen.terminate()
        for run in self._runs.values():
            try:
                run.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                run.popen.kill()
                run.popen.wait()
