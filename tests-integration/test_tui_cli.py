"""`furu tui` through furu's own command line (a real process): furu-core finds furu-server's
entry point, hands it its options (`--root` first), and exits with its code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FURU = Path(sys.executable).parent / "furu"


def furu(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    return subprocess.run(
        [str(FURU), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_a_missing_store_exits_1_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for args in (("--root", str(missing), "tui"), ("tui", "--root", str(missing))):
        done = furu(*args)
        assert done.returncode == 1, done.stderr
        assert f"furu: there is no store at {missing}" in done.stderr
        assert "FURU_PATH" in done.stderr


def test_options_reach_the_tui_and_bad_ones_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    done = furu("--root", str(tmp_path / "store"), "tui", "--filter", "status =")
    assert done.returncode == 2
    assert "--filter 'status ='" in done.stderr
    done = furu("tui", "--bogus")
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr
    done = furu("ls", "--bogus")  # other commands still refuse what they do not know
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr


def test_help_lists_the_tui_options() -> None:
    done = furu("tui", "--help")
    assert done.returncode == 0
    for option in ("--root", "--filter", "--refresh", "--cache-dir"):
        assert option in done.stdout
