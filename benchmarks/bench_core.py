"""Speed of furu-core's hot paths, each against a plain floor measured in the same run.

Run from the repository root: `python benchmarks/bench_core.py` (or `make bench`). It prints a
table and asserts nothing: ratios to the floor survive noisy machines, absolute times do not.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import furu  # noqa: E402
from bench_steps import Cached, Dataset, Evaluate, Ten, Train, Trivial  # noqa: E402


def median_time(fn: Callable[[], object], repeats: int, inner: int = 1) -> float:
    """Median seconds per call of `fn` over `repeats` rounds of `inner` calls."""
    for _ in range(min(3, repeats)):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def floor_stat_json(tmp: Path) -> float:
    """F: `os.stat` + read + `json.loads` of one small file."""
    path = tmp / "floor.json"
    path.write_text(json.dumps({"status": "success", "hash": "0" * 20}))
    target = str(path)

    def floor() -> None:
        os.stat(target)
        with open(target, "rb") as f:
            json.loads(f.read())

    return median_time(floor, 50, 200)


def cache_hit_same_instance() -> float:
    step = Cached(name="same")
    step.load_or_create()
    return median_time(step.load_or_create, 50, 200)


def cache_hit_fresh_instance() -> float:
    Ten(a=1).load_or_create()
    return median_time(lambda: Ten(a=1).load_or_create(), 50, 200)


def create_trivial() -> float:
    counter = iter(range(10**9))
    Trivial(i=-1).load_or_create()  # the first create in a process also captures git state
    return median_time(lambda: Trivial(i=next(counter)).load_or_create(), 200)


def plan_cached(n: int) -> tuple[float, int]:
    """Plan n cached Evaluate steps (3 levels: Evaluate -> Train -> Dataset), hashes uncached."""

    def build() -> list[Evaluate]:
        return [
            Evaluate(train=Train(data=Dataset(seed=i % 10), lr=i / n), split="test")
            for i in range(n)
        ]

    furu.load_or_create_many(build(), executor=furu.InlineExecutor(), progress=False)
    samples = []
    for _ in range(3):
        steps = build()
        start = time.perf_counter()
        the_plan = furu.plan(steps)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), len(the_plan.to_create)


WAITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {here!r})
    from bench_steps import Sleep
    Sleep(tag={tag!r}, seconds=1.0).load_or_create()
    print(time.time())
    """
)


def waiters(tmp: Path, n: int = 8) -> list[float]:
    """Seconds from the holder publishing SUCCESS.json to each waiter returning."""
    env = {**os.environ, "FURU_PATH": str(tmp / "waiters")}
    tag = str(time.time())
    script = WAITER.format(here=str(HERE), tag=tag)
    holder = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE)
    sys.path.insert(0, str(HERE))
    from bench_steps import Sleep

    furu.set_furu_root(tmp / "waiters")
    step = Sleep(tag=tag, seconds=1.0)
    lock = step.furu_dir / ".furu" / "compute.lock"
    deadline = time.time() + 30
    while not lock.exists() and time.time() < deadline:
        time.sleep(0.005)
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE)
        for _ in range(n)
    ]
    returned = [float(p.communicate(timeout=60)[0].split()[-1]) for p in procs]
    holder.communicate(timeout=60)
    published = (step.furu_dir / ".furu" / "SUCCESS.json").stat().st_mtime
    return [t - published for t in returned]


def import_ratio(repeats: int = 15) -> tuple[float, float]:
    def best(module: str) -> float:
        times = []
        for _ in range(repeats):
            code = f"import time; t = time.perf_counter(); import {module}; "
            code += "print(time.perf_counter() - t)"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
            times.append(float(out.stdout))
        return statistics.median(times)

    return best("chz"), best("furu")


def row(name: str, value: str, floor: str, ratio: str, goal: str) -> str:
    return f"{name:<46} {value:>12} {floor:>14} {ratio:>8}  {goal}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        furu.set_furu_root(tmp / "store")
        furu.FURU_CONFIG.version_controlled_root = tmp / "vc"
        floor = floor_stat_json(tmp)
        hit = cache_hit_same_instance()
        fresh = cache_hit_fresh_instance()
        create = create_trivial()
        plan_s, plan_misses = plan_cached(10_000)
        waits = waiters(tmp)
        chz_s, furu_s = import_ratio()
    us = 1e6
    print(row("figure", "furu", "floor", "ratio", "goal"))
    print("-" * 100)
    print(row("F = stat + read + json.loads of a small file", "", f"{floor * us:.1f} us", "", ""))
    print(
        row(
            "cache hit, same instance",
            f"{hit * us:.1f} us",
            f"{floor * us:.1f} us",
            f"{hit / floor:.2f}x",
            "<= 1.5 x F",
        )
    )
    print(
        row(
            "cache hit, fresh instance of a 10-field config",
            f"{fresh * us:.1f} us",
            f"{floor * us:.1f} us",
            f"{fresh / floor:.2f}x",
            "<= 3 x F",
        )
    )
    print(
        row("create of a trivial step (not the first)", f"{create * 1e3:.2f} ms", "", "", "<= 5 ms")
    )
    print(
        row(
            "8 waiters on a 1 s step: return after publish",
            f"max {max(waits) * 1e3:.0f} ms",
            "",
            "",
            "<= 100 ms",
        )
    )
    print(
        row(
            f"plan 10,000 cached steps, 3 levels ({plan_misses} misses)",
            f"{plan_s:.3f} s",
            "",
            "",
            "<= 1 s",
        )
    )
    print(
        row(
            "import furu vs import chz",
            f"{furu_s * 1e3:.0f} ms",
            f"{chz_s * 1e3:.0f} ms",
            f"{furu_s / chz_s:.2f}x",
            "<= 1.5 x",
        )
    )


if __name__ == "__main__":
    main()
