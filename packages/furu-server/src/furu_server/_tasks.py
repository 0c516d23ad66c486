"""Tasks: `furu` commands this server runs in the project's environment, as subprocesses.

The server never imports user code, so what needs the code (`furu manifest`, `furu migrate`)
runs as `<project python> -c <FURU_MAIN> <args>`: the child finds the `furu` console script's
entry point, as the `furu` command would. The interpreter is chosen as a rerun's is
(`--rerun-python`, else a trustworthy one an experiment recorded, `Runs.python_for`), in the
same environment (`Runs.env`) and working directory. A long command (`start`) writes its
stdout (the JSON result) and stderr (progress) to files in the server's cache directory, and
`GET /api/tasks/{id}` reports them; a short one (`run`) is waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from furu_server._code_models import Task
from furu_server._errors import ErrorCode, ServerError
from furu_server._runs import Runs, tail_of

FURU_MAIN = """\
import sys
from importlib.metadata import entry_points
found = list(entry_points(group="console_scripts", name="furu"))
if not found:
    sys.exit("furu is not installed in this environment (" + sys.executable + "): install "
             "furu-core in the project's environment, or start the server with --rerun-python")
sys.argv[0] = "furu"
sys.exit(found[0].load()(sys.argv[1:]))
"""
TaskKind = Literal["manifest", "migration", "sweep", "batch"]
RUN_TIMEOUT_SECS = 300.0
"""How long a short command (a migration's dry run) may take before it is stopped."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Finished:
    """A short command that ended: its return code, stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def parse_json(text: str) -> Any:
    """The JSON a command printed: the whole output, else its last line that parses."""
    with contextlib.suppress(ValueError):
        return json.loads(text)
    for line in reversed(text.strip().splitlines()):
        with contextlib.suppress(ValueError):
            return json.loads(line)
    return None


def failure_of(stderr: str, returncode: int | None) -> str:
    """The command's own message (its last `furu...:` line), else its return code."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("furu"):
            return line[:2000]
    if lines:
        return lines[-1][:2000]
    return f"it exited with code {returncode} without a message"


@dataclass
class _Task:
    id: str
    kind: TaskKind
    command: list[str]
    stdout: Path
    stderr: Path
    popen: subprocess.Popen[bytes]
    started_at: str
    ended_at: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def to_model(self) -> Task:
        code = self.popen.poll() if self.done.is_set() else None
        status: Literal["running", "succeeded", "failed"] = (
            "running" if code is None else "succeeded" if code == 0 else "failed"
        )
        log = tail_of(self.stderr)
        result = parse_json(tail_of(self.stdout, 1 << 20)) if code is not None else None
        lines = [line for line in log.splitlines() if line.strip()]
        return Task(
            id=self.id,
            kind=self.kind,
            status=status,
            pid=self.popen.pid,
            started_at=self.started_at,
            ended_at=self.ended_at if code is not None else None,
            returncode=code,
            command=["furu", *self.command[3:]]
            if self.command[2] == FURU_MAIN
            else [f"furu-{self.kind}", "<runner>", "<spec>"],
            output_tail=log,
            progress=lines[-1][:500] if lines and code is None else None,
            result=result,
            error=failure_of(log, code) if code not in (None, 0) else None,
        )


class Tasks:
    """The `furu` commands this server started (forgotten on restart)."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self.index = runs.index
        self.settings = runs.settings
        self._tasks: dict[str, _Task] = {}
        self._lock = threading.Lock()
        self._waited = threading.BoundedSemaphore(max(1, self.settings.max_runs))

    def python(self, namespace: str | None = None) -> str:
        """The project's interpreter: `--rerun-python`, else the one that wrote the manifest,
        else the one the newest experiment (of `namespace`, when given) recorded; a recorded
        one only when it is trustworthy (`Runs.python_for`)."""
        manifest = self.index.manifest.load().manifest
        if manifest is not None and not self.settings.rerun_python:
            with contextlib.suppress(ServerError):
                return self.runs.python_for({"executable": manifest.python})
        return self.runs.python_for({"executable": self._recorded_python(namespace)})

    def cwd(self) -> Path:
        """Where the commands run: `--rerun-cwd`, else the project directory the manifest
        names (when it exists), else the server's working directory."""
        if self.settings.rerun_cwd is not None:
            return self.settings.rerun_cwd
        manifest = self.index.manifest.load().manifest
        if manifest is not None and self._trusted_project(manifest.project):
            return Path(manifest.project)
        return Path.cwd()

    def _trusted_project(self, project: str) -> bool:
        """Whether the manifest's project directory may be a command's working directory
        (its modules are imported from there): an existing directory of this server's user,
        outside the store (`manifest.json` may have been planted by anyone who writes it)."""
        if not project or not os.path.isabs(project) or "\x00" in project:
            return False
        real = os.path.realpath(project)
        for root in (self.settings.resolved_root, self.settings.resolved_vc_root):
            if root is not None and (real + os.sep).startswith(str(root) + os.sep):
                return False
        try:
            st = os.stat(real)
        except OSError:
            return False
        return os.path.isdir(real) and st.st_uid == os.getuid()

    def _recorded_python(self, namespace: str | None) -> str | None:
        if self.settings.rerun_python:
            return None
        sql = "SELECT json_extract(meta, '$.executable') FROM experiments WHERE meta IS NOT NULL"
        params: list[Any] = []
        if namespace is not None:
            sql += " AND namespace = ?"
            params.append(namespace)
        sql += " ORDER BY updated_at DESC LIMIT 1"
        try:
            row = self.index.conn().execute(sql, params).fetchone()
        except Exception:  # no index yet: no recorded interpreter
            return None
        return row[0] if row and isinstance(row[0], str) else None

    def command(self, python: str, args: list[str], script: str = FURU_MAIN) -> list[str]:
        return [python, "-c", script, *args]

    def run(
        self, args: list[str], namespace: str | None = None, script: str = FURU_MAIN
    ) -> Finished:
        """Run `furu <args>` and wait (at most `RUN_TIMEOUT_SECS`; at most `max_runs` at once).

        Raises:
            ServerError: `too_many_runs`, `migration_failed` (timed out) or
                `rerun_unavailable` (no project Python to run it in).
        """
        command = self.command(self.python(namespace), args, script)
        if not self._waited.acquire(blocking=False):
            raise ServerError(
                ErrorCode.TOO_MANY_RUNS,
                f"{self.settings.max_runs} `furu` commands are being waited for already; "
                "retry when one has answered, or start the server with a higher --max-runs.",
            )
        try:
            return self._run(command, args)
        finally:
            self._waited.release()

    def _run(self, command: list[str], args: list[str]) -> Finished:
        try:
            done = subprocess.run(
                command,
                cwd=self.cwd(),
                env=self.runs.env(),
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=RUN_TIMEOUT_SECS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ServerError(
                ErrorCode.MIGRATION_FAILED,
                f"`furu {' '.join(args[:2])}` did not finish within {RUN_TIMEOUT_SECS:g} s and "
                "was stopped; run it from a shell to see what it waits for.",
            ) from None
        except OSError as exc:
            raise ServerError(
                ErrorCode.RERUN_UNAVAILABLE,
                f"the project's Python {command[0]!r} could not be started ({exc.strerror}); "
                "start the server with --rerun-python /path/to/project/.venv/bin/python.",
            ) from None
        return Finished(
            done.returncode,
            done.stdout.decode("utf-8", errors="replace"),
            done.stderr.decode("utf-8", errors="replace"),
        )

    def start(
        self,
        kind: TaskKind,
        args: list[str],
        namespace: str | None = None,
        script: str = FURU_MAIN,
    ) -> Task:
        """Start `furu <args>` (or `python -c <script> <args>`) in the background; `get(id)`
        follows it."""
        python = self.python(namespace)
        with self._lock:
            active = sum(1 for t in self._tasks.values() if not t.done.is_set())
            if active >= self.settings.max_runs:
                raise ServerError(
                    ErrorCode.TOO_MANY_RUNS,
                    f"{active} tasks are running (the limit is {self.settings.max_runs}); wait "
                    "for one to finish, or start the server with a higher --max-runs.",
                )
            task_id = os.urandom(8).hex()
            out_dir = self.settings.runs_dir()
            out_dir.mkdir(parents=True, exist_ok=True)
            stdout, stderr = out_dir / f"{task_id}.json", out_dir / f"{task_id}.log"
            command = self.command(python, args, script)
            with open(stdout, "wb") as out, open(stderr, "wb") as err:
                try:
                    popen = subprocess.Popen(
                        command,
                        cwd=self.cwd(),
                        env=self.runs.env(),
                        stdout=out,
                        stderr=err,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                except OSError as exc:
                    raise ServerError(
                        ErrorCode.RERUN_UNAVAILABLE,
                        f"the project's Python {python!r} could not be started "
                        f"({exc.strerror}); start the server with --rerun-python "
                        "/path/to/project/.venv/bin/python.",
                    ) from None
            task = _Task(task_id, kind, command, stdout, stderr, popen, _now())
            self._tasks[task_id] = task
        threading.Thread(target=self._watch, args=(task,), daemon=True, name="furu-task").start()
        return task.to_model()

    def start_manifest(self) -> Task:
        return self.start("manifest", ["manifest"])

    def _watch(self, task: _Task) -> None:
        task.popen.wait()
        task.ended_at = _now()
        with contextlib.suppress(Exception):  # else the background refresher catches up
            self.index.refresh()
        task.done.set()

    def get(self, task_id: str, kind: TaskKind | None = None) -> Task:
        task = self._tasks.get(task_id)
        if task is None or (kind is not None and task.kind != kind):
            what = "migration" if kind == "migration" else "task"
            raise ServerError(
                ErrorCode.TASK_NOT_FOUND,
                f"no {what} {task_id!r} was started by this server (tasks are forgotten on "
                "restart; the store records what a migration did: see the experiment's "
                "detail, `migration`).",
                {"id": task_id},
            )
        return task.to_model()

    def stop_all(self) -> None:
        for task in self._tasks.values():
            if task.popen.poll() is None:
                task.popen.terminate()
        for task in self._tasks.values():
            try:
                task.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                task.popen.kill()
                task.popen.wait()
