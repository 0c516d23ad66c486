"""Sweeps from the dashboard, measured in Chromium against a real furu-dashboard.

```
python benchmarks/bench_sweeps.py             # 5 runs of a 2 x 3 sweep
python benchmarks/bench_sweeps.py --runs 3
```

Each run opens an experiment's Actions tab (`sweep_steps.Fit` of a small store made by
furu-core), types a 2 x 3 sweep (lr x width, widths new to the store so all six are created),
plans it (the plan is shown: `furu.plan` in the project's environment, a subprocess), then
times from the click on **Launch** until the first new row is listed in the progress panel
("sweep launch to first row visible") and until all six are ("... all six rows"). The floor is
the same kind of sweep run from a shell: `python -c` with `furu.load_or_create_many` of six
new configs (interpreter start, imports, plan, worker processes), which the dashboard's batch
also pays. "plan shown" runs from the click on **Plan** until the summary is on screen. It
prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for extra in (HERE, REPO / "tests-integration"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from dashboard_fixtures import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    TOKEN,
    Dashboard,
    serve,
    step_env,
)

TIMEOUT_MS = 180_000
FLOOR = """
import furu, sweep_steps as s
steps = [s.Fit(data=s.Dataset(), lr=lr, width=w) for lr in (0.2, 0.4) for w in {widths}]
furu.load_or_create_many(steps)
"""


def make_store(root: Path, flag: Path) -> None:
    code = f"import sweep_steps; sweep_steps.make_store({str(flag)!r})"
    subprocess.run(
        [sys.executable, "-c", code], env=step_env(root), cwd=REPO, check=True, timeout=300
    )


def one_sweep(browser: Browser, server: Dashboard, ref: str, widths: str) -> tuple[float, ...]:
    """(plan shown, launch to first row, launch to all six rows), in seconds."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/experiments/{ref}?tab=actions&token={TOKEN}")
    card = page.get_by_test_id("sweep")
    card.get_by_label("sweep values of lr").fill("0.2, 0.4")
    card.get_by_label("sweep values of width").fill(widths)
    expect(card.get_by_test_id("sweep-count")).to_have_text("6 configurations")
    start = time.perf_counter()
    card.get_by_role("button", name="Plan").click()
    expect(card.get_by_test_id("plan-summary")).to_contain_text("6 to create", timeout=TIMEOUT_MS)
    plan = time.perf_counter() - start
    rows = card.get_by_test_id("batch-row")
    start = time.perf_counter()
    card.get_by_role("button", name="Launch").click()
    rows.first.wait_for(timeout=TIMEOUT_MS)
    first = time.perf_counter() - start
    expect(rows).to_have_count(6, timeout=TIMEOUT_MS)
    every = time.perf_counter() - start
    context.close()
    return plan, first, every


def floor(root: Path, widths: list[int]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", FLOOR.format(widths=tuple(widths))],
        env=step_env(root),
        cwd=REPO,
        check=True,
        timeout=300,
        capture_output=True,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="sweeps launched")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="furu-bench-sweeps-"))
    root = work / "store"
    make_store(root, work / "flaky.flag")
    times: dict[str, list[float]] = {
        "plan shown (6 configs)": [],
        "sweep launch to first row visible": [],
        "sweep launch to all six rows": [],
        "floor: python -c load_or_create_many (6)": [],
    }
    with serve(root, work) as server:
        namespace, digest = server.ref("class = Fit and config.lr = 0.1")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for run in range(args.runs):
                base = 100 + 6 * run
                widths = f"{base}:{base + 2}"
                plan, first, every = one_sweep(browser, server, f"{namespace}/{digest}", widths)
                times["plan shown (6 configs)"].append(plan)
                times["sweep launch to first row visible"].append(first)
                times["sweep launch to all six rows"].append(every)
                times["floor: python -c load_or_create_many (6)"].append(
                    floor(root, [base + 3, base + 4, base + 5])
                )
            browser.close()
    print(f"\nsweeps from the dashboard, 2 x 3 configurations, {args.runs} runs")
    print(f"{'measure':<44} {'median':>8} {'max':>8}")
    for name, values in times.items():
        print(f"{name:<44} {statistics.median(values):>6.2f} s {max(values):>6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
