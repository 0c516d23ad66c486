"""What an attempt used (wall, CPU, peak resident memory, GPU) is recorded in `state.json`.

Measurements run in fresh subprocesses: a test process's own memory history (and its threads)
would blur a peak. Each step writes its output and the test reads the attempt's `resources`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import furu
from furu import _cli

MiB = 1024 * 1024

STEPS = textwrap.dedent(
    """
    import os, subprocess, sys, time
    import furu

    MiB = 1024 * 1024
    CHILD = (
        "import sys, time\\n"
        "b = bytearray(int(sys.argv[1]) * 1024 * 1024)\\n"
        "for i in range(0, len(b), 4096): b[i] = 1\\n"
        "print('ready', flush=True)\\n"
        "time.sleep(float(sys.argv[2]))\\n"
    )


    def touched(mb):
        buf = bytearray(mb * MiB)  # calloc'd: no page is resident until written
        for i in range(0, len(buf), 4096):
            buf[i] = 1
        return buf


    class Alloc(furu.Furu[int]):
        mb: int = 200

        def _create(self):
            buf = touched(self.mb)
            (self.furu_dir / "n").write_text(str(len(buf)))
            del buf
            return 0

        def _load(self):
            return int((self.furu_dir / "n").read_text())


    class ChildAlloc(furu.Furu[int]):
        mb: int = 200
        parent_mb: int = 0
        hold: float = 0.0

        def _create(self):
            buf = touched(self.parent_mb)
            subprocess.run([sys.executable, "-c", CHILD, str(self.mb), str(self.hold)], check=True)
            (self.furu_dir / "n").write_text(str(len(buf)))
            return 0

        def _load(self):
            return 0


    class Busy(furu.Furu[int]):
        seconds: float = 0.4

        def _create(self):
            end = time.process_time() + self.seconds
            n = 0
            while time.process_time() < end:  # a system call: asked once per 100,000 adds
                for _ in range(100_000):
                    n += 1
            (self.furu_dir / "n").write_text(str(n))
            return n

        def _load(self):
            return int((self.furu_dir / "n").read_text())


    class Inner(furu.Furu[int]):
        def _create(self):
            (self.furu_dir / "n").write_text("1")
            return 1

        def _load(self):
            return 1


    class Outer(furu.Furu[int]):
        mb: int = 150

        def _create(self):
            buf = touched(self.mb)
            del buf  # the outer peak is over before the inner attempt resets the mark
            Inner().load_or_create()
            (self.furu_dir / "n").write_text("1")
            return 1

        def _load(self):
            return 1


    class Sleep(furu.Furu[int]):
        seconds: float = 0.3

        def _create(self):
            time.sleep(self.seconds)
            (self.furu_dir / "n").write_text("1")
            return 1

        def _load(self):
            return 1


    class Fails(furu.Furu[int]):
        def _create(self):
            touched(50)
            raise RuntimeError("no")

        def _load(self):
            return 1
    """
)

RUN = textwrap.dedent(
    """
    import json, sys
    {prelude}
    import furu, res_steps
    step = {step}
    try:
        step.load_or_create()
    except furu.FuruComputeError:
        pass
    attempt = furu.step_dir(step).read_state().attempt
    print(json.dumps({{
        "resources": attempt.resources.to_json(),
        "nvml_modules": sorted(m for m, v in sys.modules.items() if "nvml" in m and v),
    }}))
    """
)


def run_step(
    tmp_path: Path, step: str, prelude: str = "", env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create `step` (an expression over `res_steps`) in a fresh interpreter; its report."""
    (tmp_path / "res_steps.py").write_text(STEPS)
    script = RUN.format(step=step, prelude=prelude)
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "FURU_PATH": str(tmp_path / "store"),
            "PYTHONPATH": str(tmp_path),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return report


def test_the_peak_of_a_step_that_allocates_200_mib_is_within_10_percent(tmp_path: Path) -> None:
    used = run_step(tmp_path, "res_steps.Alloc(mb=200)")["resources"]
    grew = used["peak_rss_bytes"] - used["start_rss_bytes"]
    assert abs(grew - 200 * MiB) <= 20 * MiB, (grew / MiB, used)
    assert used["wall_sec"] > 0
    assert used["cpu_user_sec"] + used["cpu_system_sec"] > 0


def test_a_child_process_that_allocated_and_exited_counts(tmp_path: Path) -> None:
    used = run_step(tmp_path, "res_steps.ChildAlloc(mb=200)")["resources"]
    # The child (an interpreter of its own, plus 200 MiB) peaked above the parent's size.
    assert used["peak_rss_bytes"] >= 200 * MiB, used


def test_a_parent_and_a_live_child_holding_memory_together_add_up(tmp_path: Path) -> None:
    used = run_step(
        tmp_path,
        "res_steps.ChildAlloc(mb=150, parent_mb=150, hold=1.0)",
        env={"FURU_RESOURCE_SAMPLE_SECS": "0.05"},
    )["resources"]
    # Either alone is 150 MiB (plus an interpreter); only the tree's sum reaches 300 MiB.
    assert used["peak_rss_bytes"] - used["start_rss_bytes"] >= 290 * MiB, used


def test_cpu_user_time_of_a_busy_loop(tmp_path: Path) -> None:
    used = run_step(tmp_path, "res_steps.Busy(seconds=0.4)")["resources"]
    assert used["cpu_user_sec"] >= 0.3, used
    assert used["wall_sec"] >= used["cpu_user_sec"] * 0.9, used


def test_a_nested_attempt_does_not_erase_the_outer_peak(tmp_path: Path) -> None:
    # The inner attempt resets the process's high-water mark; the outer one keeps its 150 MiB.
    used = run_step(tmp_path, "res_steps.Outer(mb=150)")["resources"]
    assert used["peak_rss_bytes"] - used["start_rss_bytes"] >= 140 * MiB, used


def test_a_failed_attempt_records_what_it_used(tmp_path: Path) -> None:
    used = run_step(tmp_path, "res_steps.Fails()")["resources"]
    assert used["peak_rss_bytes"] - used["start_rss_bytes"] >= 45 * MiB, used


def test_without_nvidias_library_gpu_fields_are_null_and_nothing_is_imported(
    tmp_path: Path,
) -> None:
    # `sys.modules["pynvml"] = None` makes the library absent whatever this machine has.
    report = run_step(
        tmp_path,
        "res_steps.Sleep(seconds=0.3)",
        prelude="sys.modules['pynvml'] = None",
        env={"FURU_RESOURCE_SAMPLE_SECS": "0.02"},
    )
    used = report["resources"]
    assert used["gpu_peak_memory_bytes"] is None
    assert used["gpu_utilization_pct"] is None
    assert report["nvml_modules"] == []


FAKE_NVML = textwrap.dedent(
    """
    # A stand-in for nvidia-ml-py (this machine has no GPU): one device, on which this
    # process holds 123456789 bytes and another process (pid 1) holds more.
    import os
    from types import SimpleNamespace as _NS

    calls = []

    def nvmlInit():
        calls.append("init")

    def nvmlDeviceGetCount():
        return 1

    def nvmlDeviceGetHandleByIndex(i):
        return ("gpu", i)

    def nvmlDeviceGetComputeRunningProcesses(handle):
        return [_NS(pid=os.getpid(), usedGpuMemory=123456789), _NS(pid=1, usedGpuMemory=10**10)]

    def nvmlDeviceGetGraphicsRunningProcesses(handle):
        return []

    def nvmlDeviceGetUtilizationRates(handle):
        return _NS(gpu=42, memory=7)
    """
)


def test_with_nvidias_library_the_gpu_memory_of_the_step_s_processes_is_recorded(
    tmp_path: Path,
) -> None:
    (tmp_path / "pynvml.py").write_text(FAKE_NVML)
    report = run_step(
        tmp_path, "res_steps.Sleep(seconds=0.3)", env={"FURU_RESOURCE_SAMPLE_SECS": "0.02"}
    )
    used = report["resources"]
    assert used["gpu_peak_memory_bytes"] == 123456789
    assert used["gpu_utilization_pct"] == 42.0
    assert report["nvml_modules"] == ["pynvml"]


def test_a_library_that_cannot_start_leaves_gpu_fields_null(tmp_path: Path) -> None:
    (tmp_path / "pynvml.py").write_text(
        "class NVMLError(Exception): pass\n"
        "def nvmlInit():\n    raise NVMLError('NVML Shared Library Not Found')\n"
    )
    used = run_step(
        tmp_path, "res_steps.Sleep(seconds=0.2)", env={"FURU_RESOURCE_SAMPLE_SECS": "0.02"}
    )["resources"]
    assert used["gpu_peak_memory_bytes"] is None
    assert used["gpu_utilization_pct"] is None


def test_a_long_sample_interval_does_not_delay_a_short_step(tmp_path: Path) -> None:
    started = time.monotonic()
    used = run_step(
        tmp_path, "res_steps.Sleep(seconds=0.0)", env={"FURU_RESOURCE_SAMPLE_SECS": "60"}
    )["resources"]
    # Stopping never waits for the sampler (typical: well under a second for the interpreter).
    assert time.monotonic() - started < 30
    assert used["wall_sec"] < 5


# ---------------------------------------------------------------- reading and showing


def _write_state(furu_store: Path, attempt: dict[str, Any]) -> furu.StepDir:
    step_dir = furu.Store(furu_store).step_dir("pkg.mod.Thing", "a" * 20)
    step_dir.meta_dir.mkdir(parents=True)
    state = {"result_status": "failed", "attempt": attempt, "attempts": 1, "schema": 1}
    step_dir.state_path.write_text(json.dumps(state))
    return step_dir


ATTEMPT = {
    "id": "x",
    "number": 1,
    "status": "failed",
    "backend": "local",
    "host": "h",
    "pid": 1,
    "user": "u",
    "command": "c",
    "started_at": "2026-01-01T00:00:00.000+00:00",
    "updated_at": "2026-01-01T00:00:01.000+00:00",
}


def test_a_state_written_before_resources_were_recorded_reads(furu_store: Path) -> None:
    attempt = _write_state(furu_store, ATTEMPT).read_state().attempt
    assert attempt is not None
    assert attempt.resources is None


def test_damaged_resources_read_as_unknown_not_as_an_error(furu_store: Path) -> None:
    bad = {"wall_sec": "long", "cpu_user_sec": True, "peak_rss_bytes": 5.0, "new_field": 1}
    attempt = _write_state(furu_store, {**ATTEMPT, "resources": bad}).read_state().attempt
    assert attempt is not None
    assert attempt.resources is not None
    assert attempt.resources.wall_sec is None
    assert attempt.resources.cpu_user_sec is None
    assert attempt.resources.peak_rss_bytes == 5
    other = _write_state(furu_store / "b", {**ATTEMPT, "resources": [1]}).read_state().attempt
    assert other is not None
    assert other.resources is None


class Small(furu.Furu[int]):
    def _create(self) -> int:
        (self.furu_dir / "n").write_text("1")
        return 1

    def _load(self) -> int:
        return int((self.furu_dir / "n").read_text())


def test_an_in_process_attempt_records_resources_and_furu_show_prints_them(
    furu_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = Small()
    step.load_or_create()
    used = furu.step_dir(step).read_state().attempt.resources  # type: ignore[union-attr]
    assert used is not None
    assert used.wall_sec is not None
    assert used.peak_rss_bytes
    # The sampling thread ends with the attempt: nothing outlives load_or_create().
    assert [t.name for t in threading.enumerate() if t.name == "furu-resources"] == []
    success = json.loads(furu.step_dir(step).success_path.read_text())
    assert success["duration_sec"] == used.wall_sec
    capsys.readouterr()
    assert _cli.main(["--root", str(furu_store), "show", f"Small/{furu.step_id(step).hash}"]) == 0
    out = capsys.readouterr()
    shown = json.loads(out.out)["state"]["attempt"]["resources"]
    assert shown == used.to_json()
    assert "attempt 1 (success) used: wall " in out.err
    assert "peak RSS " in out.err
    assert " MiB" in out.err


def test_the_sample_interval_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_RESOURCE_SAMPLE_SECS", "0.5")
    assert furu.FuruConfig.from_env().resource_sample_secs == 0.5
    monkeypatch.setenv("FURU_RESOURCE_SAMPLE_SECS", "0")
    assert furu.FuruConfig.from_env().resource_sample_secs == 0
    monkeypatch.setenv("FURU_RESOURCE_SAMPLE_SECS", "0.001")
    with pytest.raises(furu.FuruConfigError) as caught:
        furu.FuruConfig.from_env()
    message = str(caught.value)
    assert "FURU_RESOURCE_SAMPLE_SECS='0.001' must be 0 (no sampling" in message
    assert "at least 0.01" in message


def test_with_sampling_off_the_process_s_own_peak_is_still_exact(tmp_path: Path) -> None:
    used = run_step(tmp_path, "res_steps.Alloc(mb=100)", env={"FURU_RESOURCE_SAMPLE_SECS": "0"})[
        "resources"
    ]
    grew = used["peak_rss_bytes"] - used["start_rss_bytes"]
    assert abs(grew - 100 * MiB) <= 10 * MiB, (grew / MiB, used)
