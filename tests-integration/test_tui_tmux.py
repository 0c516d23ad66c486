"""`furu tui` in a real terminal: tmux runs it on the store the example pipeline made.

The pipeline (`examples/pipeline.py`) runs first, in a child process, into a temporary store;
then `furu tui` starts inside `tmux new-session -d -x 160 -y 48`, keys are sent with
`tmux send-keys`, and the screen is read with `tmux capture-pane -p`. tmux is required: a
missing tmux fails the test (`.ci/run` installs it), it never skips.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "examples" / "pipeline.py"
FURU = Path(sys.executable).parent / "furu"
WAIT_SEC = 60.0
"""How long the screen may take to show what a step waits for before the test fails."""


def store_env(tmp_path: Path) -> dict[str, str]:
    # (without COLUMNS/LINES, which would fix the TUI's size whatever the pane's)
    skip = ("COLUMNS", "LINES")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_") and k not in skip}
    env["FURU_PATH"] = str(tmp_path / "furu-data")
    env["FURU_VERSION_CONTROLLED_PATH"] = str(tmp_path / "vc-artifacts")
    env["FURU_SERVER_CACHE_DIR"] = str(tmp_path / "index-cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def pipeline_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made by the example pipeline (15 steps), in a directory of this module."""
    tmp_path = tmp_path_factory.mktemp("tui-pipeline")
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, str(PIPELINE)],
        cwd=work,
        env=store_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return tmp_path


@dataclass
class Terminal:
    """A tmux server of the test's own (its own socket, no user configuration) running one
    command in a 160x48 pane."""

    socket: str
    rc_file: Path

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "tui")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "tui", *(["-l"] if literal else []), *keys)

    def wait_for(self, *texts: str) -> str:
        """The screen, once it shows every one of `texts` (fails after `WAIT_SEC`)."""
        deadline = time.monotonic() + WAIT_SEC
        while True:
            shown = self.screen()
            if all(t in shown for t in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {texts!r}; it shows:\n{shown}")
            time.sleep(0.1)

    def wait_gone(self, text: str) -> str:
        """The screen, once it no longer shows `text` (fails after `WAIT_SEC`)."""
        deadline = time.monotonic() + WAIT_SEC
        while True:
            shown = self.screen()
            if text not in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen still shows {text!r}:\n{shown}")
            time.sleep(0.1)

    def exit_code(self) -> int:
        """`furu tui`'s exit code, once it has exited (fails after `WAIT_SEC`)."""
        deadline = time.monotonic() + WAIT_SEC
        while not self.rc_file.exists() or not self.rc_file.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"furu tui never exited; the screen:\n{self.screen()}")
            time.sleep(0.1)
        return int(self.rc_file.read_text().strip())


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        raise AssertionError(
            "tmux is missing: the real-terminal test of `furu tui` needs it (apt-get install -y "
            "--no-install-recommends tmux; .ci/run installs it)."
        )
    term = Terminal(f"furu-tui-test-{os.getpid()}-{tmp_path.name}", tmp_path / "rc")
    try:
        yield term
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True, check=False)


def start(term: Terminal, store: Path, args: list[str]) -> None:
    env = store_env(store)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith("FURU_"))
    command = (
        f"cd {shlex.quote(str(store / 'work'))} && env {exports} "
        f"{shlex.join([str(FURU), *args])}; echo $? > {shlex.quote(str(term.rc_file))}"
    )
    term.tmux("new-session", "-d", "-s", "tui", "-x", "160", "-y", "48", command)
    term.tmux("resize-window", "-t", "tui", "-x", "160", "-y", "48")


def test_furu_tui_in_a_real_terminal(pipeline_store: Path, terminal: Terminal) -> None:
    start(terminal, pipeline_store, ["tui"])
    shown = terminal.wait_for("1-15 of 15", "MakeDataset", "TrainModel", "Evaluate")
    assert "success" in shown
    terminal.keys("/")
    terminal.wait_for("filter, e.g.")
    terminal.keys("class = TrainModel", literal=True)
    terminal.keys("Enter")
    shown = terminal.wait_for("1-7 of 7", "filter: class = TrainModel")
    rows = [line for line in shown.splitlines() if line.strip().startswith("success")]
    assert len(rows) == 7
    assert all("TrainModel" in row and "lr=" in row for row in rows)
    terminal.keys("Enter")  # the detail of the first one
    terminal.wait_for("Config", "State", "attempt #1")
    terminal.keys("q")
    terminal.wait_gone("attempt #1")
    terminal.keys("q")
    assert terminal.exit_code() == 0


def test_furu_tui_with_root_and_filter(pipeline_store: Path, terminal: Terminal) -> None:
    """`furu --root DIR tui --filter TEXT` (the docs' commands): another store, a first filter."""
    store = pipeline_store / "furu-data"
    start(terminal, pipeline_store, ["--root", str(store), "tui", "--filter", "class = Evaluate"])
    shown = terminal.wait_for("1-7 of 7", "filter: class = Evaluate")
    assert "MakeDataset" not in shown
    terminal.keys("?")
    terminal.wait_for("furu tui: keys", "Experiment list")
    terminal.keys("Escape")
    assert "1-7 of 7" in terminal.wait_gone("furu tui: keys")
    terminal.keys("q")
    assert terminal.exit_code() == 0


def test_furu_tui_filter_that_matches_nothing(pipeline_store: Path, terminal: Terminal) -> None:
    """`furu tui --filter "status = failed"` (the README's): the pipeline never fails."""
    start(terminal, pipeline_store, ["tui", "--filter", "status = failed"])
    terminal.wait_for("no experiments match", "filter: status = failed")
    terminal.keys("q")
    assert terminal.exit_code() == 0
