"""Speed of the dashboard, measured in Chromium against a real furu-dashboard on a large store.

```
python benchmarks/bench_dashboard.py                     # 100,000 experiments (made once, minutes)
python benchmarks/bench_dashboard.py --n 5000            # a quick run
python benchmarks/bench_dashboard.py --root DIR          # an existing store (or where to make one)
python benchmarks/bench_dashboard.py --root DIR --cache-dir C   # reuse an index built before
```

The store is written by furu-core itself (`make_large_store.py`); the dashboard must be built
(`make frontend`). Each page is opened in a fresh browser context (nothing cached) unless the
row says "in the app" (a click inside an open dashboard). Times run from the navigation or the
key press until the thing is on screen: the table's rows, the rows of the new filter, the
experiment's class, the DAG's nodes. It prints a table and asserts nothing.

The results table: "scroll fps" scrolls the table for a few seconds in the page (a
`requestAnimationFrame` loop moving it 100 px a frame, 6,000 px/s, a fast wheel; and 300 px a
frame, a fling) and counts the frames drawn, with four config/result columns (`config.lr`,
`config.steps`, `result.accuracy`, `result.loss`) and, as the floor to compare with, with the
built-in columns only. "sort by result.*" runs from the click on the `result.accuracy` header until the first
row is the experiment the API ranks first.
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
    "sort by result.* (rows updated)": 0.3,
    "sort by config.* (rows updated)": 0.3,
}
FPS_TARGET = 50.0
FIELD_COLUMNS = ["config.lr", "config.steps", "result.accuracy", "result.loss"]
BUILTIN = "status,class,name,hash,created,updated,runtime,size"  # as many columns
SCROLL_JS = """
async ([seconds, step]) => {
  const grid = document.querySelector('[data-testid=experiments-table]');
  return await new Promise((resolve) => {
    let frames = 0, worst = 0, last = performance.now();
    const start = last;
    const tick = (now) => {
      frames += 1;
      worst = Math.max(worst, now - last);
      last = now;
      grid.scrollTop += step;
      if (now - start < seconds * 1000) requestAnimationFrame(tick);
      else resolve({ fps: frames / ((now - start) / 1000), worst, top: grid.scrollTop });
    };
    requestAnimationFrame(tick);
  });
}
"""
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
    out: dict[str, list[float]] = {k: [] for k in TARGETS if not k.startswith("sort by")}
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


def scroll_fps(
    browser: Browser, url: str, cols: str, step: int, seconds: float = 4.0
) -> tuple[float, float]:
    """Frames per second (and the longest frame, ms) while scrolling the table with `cols`
    by `step` pixels a frame."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/experiments?cols={cols}")
    page.wait_for_selector(ROWS)
    got = page.evaluate(SCROLL_JS, [seconds, step])
    context.close()
    return float(got["fps"]), float(got["worst"])


def sort_by_field(
    browser: Browser, url: str, server: Any, runs: int, field: str = "result.accuracy"
) -> list[float]:
    """Seconds from the click on a field's header to the experiment the API ranks first (by
    that field, descending) as the first row."""
    cols = "status,class," + ",".join(FIELD_COLUMNS) + ",hash"
    best = server.api(
        "/api/experiments/search",
        "POST",
        json={"sort_field": field, "order": "desc", "limit": 1},
    ).json()["items"][0]
    want = f"{best['namespace']}/{best['hash']}"
    out = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/experiments?cols={cols}")
        page.wait_for_selector(ROWS)
        button = page.get_by_role("button", name=f"Sort by {field}")

        def click(p: Any = page, b: Any = button) -> None:
            b.click()
            p.wait_for_selector(f"{ROWS}[data-index='0'][data-ref='{want}']")

        out.append(timed(click))
        context.close()
    return out


def report_table(n: int, fps: dict[str, tuple[float, float]]) -> None:
    print(f"\nresults table in Chromium, {n:,} experiments: scrolling (requestAnimationFrame)")
    print(f"{'columns, scroll speed':<48} {'fps':>8} {'worst':>8} {'target':>8}  ok")
    for name, (rate, worst) in fps.items():
        target = FPS_TARGET if "config/result" in name and "100 px" in name else None
        ok = "" if target is None else ("yes" if rate >= target else "NO")
        shown = "" if target is None else f">= {target:.0f}"
        print(f"{name:<48} {rate:>8.1f} {worst:>6.0f}ms {shown:>8}  {ok}")


def report_sorts(n: int, field: str, sorts: list[float]) -> None:
    target = TARGETS["sort by result.* (rows updated)"]
    med = statistics.median(sorts)
    print(f"\nsort by {field}, {n:,} experiments, {len(sorts)} runs")
    print(
        f"median {med:.3f} s, max {max(sorts):.3f} s, target {target:.2f} s: "
        f"{'yes' if target is not None and med <= target else 'NO'}"
    )


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
    parser.add_argument("--cache-dir", help="the server's cache (its index) to reuse")
    parser.add_argument(
        "--only-table", action="store_true", help="only the results table's measures"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="furu-bench-dashboard-"))
    if args.cache_dir:
        (work / "cache").symlink_to(Path(args.cache_dir).resolve())
    root = Path(args.root) if args.root else work / "store"
    if not (root / "data").is_dir():
        print(f"making {args.n:,} experiments in {root} ...", flush=True)
        make_large_store.make_store(root, args.n, jobs=args.jobs)
    filter_text = "config.lr < 0.0005 and config.optimizer = sgd"
    with serve(root, work, ready_timeout=900) as server:
        total = server.api("/api/stats").json()["total"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            fields = "status,class," + ",".join(FIELD_COLUMNS) + ",name,hash"
            fps = {
                f"{label}, {step} px/frame": scroll_fps(browser, server.url, cols, step)
                for step in (100, 300)
                for label, cols in (
                    ("built-in columns only (floor)", BUILTIN),
                    ("4 config/result columns", fields),
                )
            }
            sorts = sort_by_field(browser, server.url, server, args.runs)
            config_sorts = sort_by_field(browser, server.url, server, args.runs, "config.steps")
            if not args.only_table:
                js = initial_js_gzip(browser, server.url)
                results = measure(browser, server.url, args.runs, filter_text)
            browser.close()
    if not args.only_table:
        results = {
            **results,
            "sort by result.* (rows updated)": sorts,
            "sort by config.* (rows updated)": config_sorts,
        }
        report(total, results, js)
    else:
        report_sorts(total, "result.accuracy", sorts)
        report_sorts(total, "config.steps", config_sorts)
    report_table(total, fps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
