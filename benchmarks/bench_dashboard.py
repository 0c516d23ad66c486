"""Speed of the dashboard, measured in Chromium against a real furu-dashboard on a large store.

```
python benchmarks/bench_dashboard.py                     # 100,000 experiments (made once, minutes)
python benchmarks/bench_dashboard.py --n 5000            # a quick run
python benchmarks/bench_dashboard.py --root DIR          # an existing store (or where to make one)
```

The store is written by furu-core itself (`make_large_store.py`); the dashboard must be built
(`make frontend`). Each page is opened in a fresh browser context (nothing cached) unless the
row says "in the app" (a click inside an open dashboard). Times run from the navigation or the
key press until the thing is on screen: the table's rows, the rows of the new filter, the
experiment's class, the DAG's nodes. It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for extra in (HERE, REPO / "tests-integration"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

import make_large_store  # noqa: E402
from dashboard_fixtures import CHROMIUM, CHROMIUM_ARGS, STATIC, serve  # noqa: E402

TARGETS = {
    "experiments page usable (rows shown)": 1.5,
    "apply a filter (rows updated)": 0.3,
    "experiment page (in the app)": 0.5,
    "experiment page (opened directly)": None,
    "DAG page (in the app)": 1.0,
}
ROWS = "[role=row][data-ref]"


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def initial_js_gzip(browser: Browser, url: str) -> tuple[int, int]:
    """Bytes of JavaScript the experiments page loads before it is usable (raw, gzipped)."""
    context = browser.new_context()
    page = context.new_page()
    loaded: list[str] = []
    page.on("response", lambda r: loaded.append(r.url) if r.url.endswith(".js") else None)
    page.goto(url + "/experiments")
    page.wait_for_selector(ROWS)
    context.close()
    raw = zipped = 0
    for js in set(loaded):
        data = (STATIC / js.split("/", 3)[3]).read_bytes()
        raw += len(data)
        zipped += len(gzip.compress(data, 9))
    return raw, zipped


def measure(browser: Browser, url: str, runs: int, filter_text: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in TARGETS}
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page: Page = context.new_page()
        out["experiments page usable (rows shown)"].append(
            timed(lambda p=page: (p.goto(url + "/experiments"), p.wait_for_selector(ROWS)))
        )
        box = page.get_by_test_id("filter-text")
        box.fill(filter_text)

        def apply(p: Any = page, b: Any = box) -> None:
            b.press("Enter")
            p.wait_for_selector(f"[data-testid=experiments-total][data-query='{filter_text}']")
            p.wait_for_selector(ROWS)

        out["apply a filter (rows updated)"].append(timed(apply))

        def open_row(p: Any = page) -> None:
            p.locator(ROWS).nth(3).click()
            p.wait_for_selector("[data-testid=experiment-class]")

        out["experiment page (in the app)"].append(timed(open_row))
        here = page.url

        def dag(p: Any = page) -> None:
            p.get_by_role("link", name="DAG").click()
            p.wait_for_selector("[data-testid=dag-node]")

        out["DAG page (in the app)"].append(timed(dag))
        context.close()
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        out["experiment page (opened directly)"].append(
            timed(
                lambda p=page, u=here: (
                    p.goto(u),
                    p.wait_for_selector("[data-testid=experiment-class]"),
                )
            )
        )
        context.close()
    return out


def report(n: int, results: dict[str, list[float]], js: tuple[int, int]) -> None:
    print(
        f"\nfuru dashboard in Chromium, {n:,} experiments, {len(next(iter(results.values())))} runs"
    )
    print(f"{'measure':<40} {'median':>8} {'max':>8} {'target':>8}  ok")
    for name, samples in results.items():
        target = TARGETS[name]
        med, worst = statistics.median(samples), max(samples)
        ok = "" if target is None else ("yes" if med <= target else "NO")
        shown = "" if target is None else f"{target:.2f} s"
        print(f"{name:<40} {med:>6.3f} s {worst:>6.3f} s {shown:>8}  {ok}")
    raw, zipped = js
    ok = "yes" if zipped <= 350 * 1024 else "NO"
    print(
        f"{'initial JavaScript (gzipped)':<40} {zipped / 1024:>6.0f} KB {raw / 1024:>6.0f} KB "
        f"{'350 KB':>8}  {ok}   (second column: raw)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="experiments in the store")
    parser.add_argument("--root", help="the store (made when it has no data/ yet)")
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each measure")
    parser.add_argument("--jobs", type=int, default=2, help="processes making the store")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="furu-bench-dashboard-"))
    root = Path(args.root) if args.root else work / "store"
    if not (root / "data").is_dir():
        print(f"making {args.n:,} experiments in {root} ...", flush=True)
        make_large_store.make_store(root, args.n, jobs=args.jobs)
    filter_text = "config.lr < 0.0005 and config.optimizer = sgd"
    with serve(root, work, ready_timeout=900) as server:
        total = server.api("/api/stats").json()["total"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            js = initial_js_gzip(browser, server.url)
            results = measure(browser, server.url, args.runs, filter_text)
            browser.close()
    report(total, results, js)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
