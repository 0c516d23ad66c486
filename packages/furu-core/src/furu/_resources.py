"""What one attempt's `_create()` uses: wall time, CPU, peak resident memory, GPU.

```
meter = Meter.start()      rusage of the process and its children, the process's memory
                           high-water mark reset (Linux), the sampler told to watch
...                        `_create()` runs
resources = meter.stop()   the deltas and the peaks, as a `furu.Resources`
```

Peak resident memory is the largest of three measurements (docs/concepts.md, "Resources"):

- **the process itself**, exactly: Linux keeps the resident high-water mark as `VmHWM` in
  `/proc/self/status`, and writing `5` to `/proc/self/clear_refs` resets it to the current
  resident size. A nested attempt (a `_create()` computing a missing dependency in-process)
  resets it too; it first hands the mark so far to every attempt still running, so the outer
  one keeps its peak. Without `/proc` (macOS), the lifetime peak (`ru_maxrss`) counts when it
  grew during the attempt.
- **child processes that ended** (and were waited for): `ru_maxrss` of `RUSAGE_CHILDREN` is the
  largest peak of any of them over the process's life, so it counts when it grew.
- **the process tree**: while attempts run, one daemon thread sums the resident size of the
  process and all its live descendants every `FURU_RESOURCE_SAMPLE_SECS` (children running
  side by side, or while the parent holds its own memory), and asks NVIDIA's management
  library, when `nvidia-ml-py` is installed, what GPU memory those processes hold. Its first
  sample comes one interval after an attempt started, so a short step shares nothing with it;
  when the last attempt stops, the thread is woken at once and ends (stopping waits for at most
  a sample in progress, never an interval), so no thread outlives the attempts.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from typing import Any

from furu._logging import get_logger
from furu._settings import FURU_CONFIG
from furu._state import Resources

_log = get_logger()
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# ru_maxrss is in KiB on Linux, in bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024

_JOIN_SECS = 1.0
"""How long stopping the last meter waits for the sampling thread to end (a sample in progress;
the first one in a process may be opening NVIDIA's library)."""
_lock = threading.Lock()
_wake = threading.Condition(_lock)
_active: list[Meter] = []
_sampler: threading.Thread | None = None  # the sampling thread, while an attempt runs
_gpu: _Gpu | None = None
_gpu_tried = False
_hwm_resettable: bool | None = None  # None: not tried yet in this process


class Meter:
    """Measures one attempt from `start()` to `stop()` (which may be called again: same result)."""

    __slots__ = (
        "_children0",
        "_gpu_peak",
        "_gpu_samples",
        "_gpu_util",
        "_peak",
        "_result",
        "_self0",
        "_started",
        "start_rss",
    )

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._self0 = resource.getrusage(resource.RUSAGE_SELF)
        self._children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.start_rss = _own_rss()
        self._peak = 0  # the largest resident size seen (the process or its tree), in bytes
        self._gpu_samples = 0
        self._gpu_peak = 0
        self._gpu_util: list[float] = []
        self._result: Resources | None = None

    @classmethod
    def start(cls) -> Meter:
        """Start measuring now (cheap: no thread is started but the first in a process)."""
        meter = cls()
        with _lock:
            if _active:  # a nested attempt: the running ones keep their peak so far
                _share_high_water_mark()
            _reset_high_water_mark()
            _active.append(meter)
            _ensure_sampler()
        return meter

    def stop(self) -> Resources:
        """Stop measuring; what the attempt used."""
        if self._result is not None:
            return self._result
        wall = time.perf_counter() - self._started
        with _lock:
            with contextlib.suppress(ValueError):
                _active.remove(self)
            own_peak = _own_high_water_mark()
            sampler = _release_sampler()
        if sampler is not None:  # it wakes at once, and ends (at most a sample in progress)
            sampler.join(_JOIN_SECS)
        self_now = resource.getrusage(resource.RUSAGE_SELF)
        children_now = resource.getrusage(resource.RUSAGE_CHILDREN)
        peaks = [self._peak] if self._peak else []
        if own_peak is not None:
            peaks.append(own_peak)
        elif self_now.ru_maxrss > self._self0.ru_maxrss:  # no /proc: the lifetime peak grew
            peaks.append(self_now.ru_maxrss * _MAXRSS_UNIT)
        if children_now.ru_maxrss > self._children0.ru_maxrss:  # a child that ended peaked
            peaks.append(children_now.ru_maxrss * _MAXRSS_UNIT)
        gpu = self._gpu_samples > 0
        self._result = Resources(
            wall_sec=round(wall, 6),
            cpu_user_sec=round(
                self_now.ru_utime
                - self._self0.ru_utime
                + children_now.ru_utime
                - self._children0.ru_utime,
                6,
            ),
            cpu_system_sec=round(
                self_now.ru_stime
                - self._self0.ru_stime
                + children_now.ru_stime
                - self._children0.ru_stime,
                6,
            ),
            peak_rss_bytes=max(peaks) if peaks else None,
            start_rss_bytes=self.start_rss,
            gpu_peak_memory_bytes=self._gpu_peak if gpu else None,
            gpu_utilization_pct=(
                round(sum(self._gpu_util) / len(self._gpu_util), 1)
                if gpu and self._gpu_util
                else None
            ),
        )
        return self._result

    def _absorb(self, sample: _Sample) -> None:
        self._peak = max(self._peak, sample.rss)
        if sample.gpu_memory is not None:
            self._gpu_samples += 1
            self._gpu_peak = max(self._gpu_peak, sample.gpu_memory)
            if sample.gpu_util is not None:
                self._gpu_util.append(sample.gpu_util)


# ---------------------------------------------------------------- the process's own peak


def _status_field(name: bytes) -> int | None:
    """A `kB` field of `/proc/self/status` in bytes; None without `/proc`."""
    try:
        with open("/proc/self/status", "rb") as f:
            text = f.read()
    except OSError:
        return None
    start = text.find(name + b":")
    if start < 0:
        return None
    line = text[start + len(name) + 1 : text.find(b"\n", start)]
    try:
        return int(line.split()[0]) * 1024
    except (IndexError, ValueError):
        return None


def _own_high_water_mark() -> int | None:
    """The process's resident peak since the last reset; None where furu cannot reset it."""
    if not _hwm_resettable:
        return None
    return _status_field(b"VmHWM")


def _share_high_water_mark() -> None:
    """Before a reset: every running meter keeps the peak it has seen so far (`_lock` held)."""
    peak = _own_high_water_mark()
    if peak is not None:
        for meter in _active:
            meter._peak = max(meter._peak, peak)


def _reset_high_water_mark() -> None:
    """Reset `VmHWM` to the current resident size (Linux 4.0+); remember when it cannot be."""
    global _hwm_resettable
    if _hwm_resettable is False:
        return
    try:
        fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
        try:
            os.write(fd, b"5")
        finally:
            os.close(fd)
        _hwm_resettable = True
    except OSError as exc:
        _hwm_resettable = False
        _log.debug("cannot reset the memory high-water mark (%s): peaks are sampled", exc)


def _own_rss() -> int | None:
    return _rss_of("self")


def _rss_of(pid: str) -> int | None:
    """Resident bytes of process `pid` (`/proc/<pid>/statm`); None when it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


# ---------------------------------------------------------------- the sampler


class _Sample:
    __slots__ = ("gpu_memory", "gpu_util", "rss")

    def __init__(self, rss: int, gpu_memory: int | None, gpu_util: float | None) -> None:
        self.rss = rss
        self.gpu_memory = gpu_memory
        self.gpu_util = gpu_util


def _ensure_sampler() -> None:
    """Start the sampling thread unless it runs (`_lock` held); none when sampling is off."""
    global _sampler
    if _sampler is not None or not FURU_CONFIG.resource_sample_secs:
        return
    if not os.path.isdir("/proc/self"):
        return
    _sampler = threading.Thread(target=_sample_until_released, name="furu-resources", daemon=True)
    _sampler.start()


def _release_sampler() -> threading.Thread | None:
    """When no attempt runs any more, tell the sampling thread to end (`_lock` held); it."""
    global _sampler
    if _active or _sampler is None:
        return None
    sampler, _sampler = _sampler, None
    _wake.notify_all()
    return None if sampler is threading.current_thread() else sampler


def _sample_until_released() -> None:
    """Sample every interval while this thread is the sampler; the first one after an interval,
    so a short step never shares the interpreter with it."""
    me = threading.current_thread()
    while True:
        with _lock:
            if _sampler is not me:
                return
            _wake.wait(FURU_CONFIG.resource_sample_secs or 1.0)
            if _sampler is not me:
                return
        try:
            sample = _sample(_open_gpu())
        except Exception as exc:  # a sampler must never take the process down
            _log.debug("resource sample failed: %s", exc)
            continue
        with _lock:
            for meter in _active:
                meter._absorb(sample)


def _open_gpu() -> _Gpu | None:
    """NVIDIA's library, opened once per process (in the sampling thread, never at import)."""
    global _gpu, _gpu_tried
    if not _gpu_tried:
        _gpu_tried, _gpu = True, _Gpu.open()
    return _gpu


def _sample(gpu: _Gpu | None) -> _Sample:
    pids = _tree(os.getpid())
    rss = sum(r for r in (_rss_of(str(p)) for p in pids) if r is not None)
    memory, util = gpu.usage(pids) if gpu is not None else (None, None)
    return _Sample(rss, memory, util)


def _tree(root: int) -> list[int]:
    """`root` and every live descendant (`/proc/<pid>/task/<tid>/children`, else a scan)."""
    found = [root]
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                if pid == root and tid == str(root):  # a kernel without CONFIG_PROC_CHILDREN
                    return _tree_by_scan(root)
                continue
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def _tree_by_scan(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(name))
    found, todo = [root], [root]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


class _Gpu:
    """NVIDIA's management library (`nvidia-ml-py`, imported as `pynvml`), when installed."""

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self.nvml = nvml
        self.handles = handles

    @classmethod
    def open(cls) -> _Gpu | None:
        """The library initialised, or None: not installed, or NVML cannot start (no driver)."""
        import importlib.util

        if importlib.util.find_spec("pynvml") is None:
            return None
        try:
            import pynvml  # optional: nvidia-ml-py (the `gpu` extra)

            pynvml.nvmlInit()
            handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
        except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
            _log.debug("no GPU figures: NVIDIA's management library did not start: %s", exc)
            return None
        return cls(pynvml, handles)

    def usage(self, pids: list[int]) -> tuple[int, float | None]:
        """GPU memory the processes `pids` hold, and the mean utilisation of the GPUs they use."""
        wanted = set(pids)
        memory = 0
        utils: list[float] = []
        for handle in self.handles:
            used = 0
            on_device = False
            for proc in self._processes(handle):
                if proc.pid in wanted:
                    on_device = True
                    used += int(getattr(proc, "usedGpuMemory", None) or 0)
            if on_device:
                memory += used
                with contextlib.suppress(Exception):
                    utils.append(float(self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu))
        return memory, (sum(utils) / len(utils) if utils else None)

    def _processes(self, handle: Any) -> list[Any]:
        procs: list[Any] = []
        for name in (
            "nvmlDeviceGetComputeRunningProcesses",
            "nvmlDeviceGetGraphicsRunningProcesses",
        ):
            with contextlib.suppress(Exception):
                procs += getattr(self.nvml, name)(handle)
        return procs


def _after_fork_in_child() -> None:
    global _lock, _wake, _sampler, _gpu, _gpu_tried
    _lock = threading.Lock()
    _wake = threading.Condition(_lock)
    _active.clear()
    _sampler, _gpu, _gpu_tried = None, None, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
