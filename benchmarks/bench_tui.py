"""Speed of `furu tui` on a large store whose index already exists: start to first rows, and a
filter typed to its rows on screen.

```
python benchmarks/bench_tui.py --root STORE_DIR          # an existing store (not changed)
python benchmarks/bench_tui.py --n 5000                           # a store made here (quick)
```

Two ways, each repeated (`--repeat`, median and best shown):

- in a real terminal: `furu tui` started in a 160x48 tmux pane; the clock runs from
  `tmux new-session` until `capture-pane` shows the status line of the first page (`1-100 of
  100,000`), and from the Enter that applies a filter until the status line names it. This
  includes starting Python and importing Textual.
- in-process (Textual's headless driver): from building the app until the first page is
  painted, and from the Enter until the filtered page is painted.

Floors, in the same run: the bare SQL of the first page (and of the filter) on the same index
file (a fresh connection, the count and the page), and a Python process that only imports the
TUI (what the terminal start pays before any query). The index is built once, into
`--cache-dir` (default: a directory of this benchmark's own under the temp dir), and reused.
It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_large_store  # noqa: E402
from furu_server._settings import ServerSettings  # noqa: E402
from furu_server.filters import compile_filter, parse_filter  # noqa: E402
from furu_server.index._columns import SELECT_SQL  # noqa: E402
from furu_server.index._database import connect  # noqa: E402
from furu_server.tui._app import FuruTui, ListScreen  # noqa: E402
from furu_server.tui._data import PAGE_SIZE, StoreData  # noqa: E402

FURU = Path(sys.executable).parent / "furu"
FILTERS = ("status = failed", "config.lr < 0.0005 and status = success")
GOAL_SEC = 1.0


def ensure_store(root: Path, n: int, jobs: int) -> None:
    """A store of `n` experiments at `root` made here (reused when this benchmark made it)."""
    marker = root / "bench-tui-complete.json"
    if marker.exists() and json.loads(marker.read_text())["n"] == n:
        return
    shutil.rmtree(root, ignore_errors=True)
    print(f"creating {n} experiments in {root} ...", file=sys.stderr)
    make_large_store.make_store(root, n, jobs=jobs)
    marker.write_text(json.dumps({"n": n}))


def settings_of(root: Path, cache: Path) -> ServerSettings:
    return ServerSettings(root=root, cache_dir=cache)


def ensure_index(settings: ServerSettings) -> int:
    """Build the index once (timed, reported on stderr); the number of experiments in it."""
    data = StoreData(settings)
    if not data.built:
        start = time.perf_counter()
        data.refresh()
        print(f"index built in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    else:
        data.refresh()  # whatever the journal says changed since
    total = data.index.count("1", [])
    data.close()
    return total


# ---------------------------------------------------------------- floors


def bare_first_page(db: Path) -> float:
    start = time.perf_counter()
    conn = connect(db)
    conn.execute("SELECT count(*) FROM experiments").fetchone()
    conn.execute(
        f"SELECT {SELECT_SQL} FROM experiments e ORDER BY e.updated_at DESC, e.id DESC LIMIT ?",
        (PAGE_SIZE,),
    ).fetchall()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def bare_filter(db: Path, text: str) -> float:
    conn = connect(db)
    start = time.perf_counter()
    where, params = compile_filter([parse_filter(text)])
    conn.execute(f"SELECT count(*) FROM experiments e WHERE {where}", params).fetchone()
    conn.execute(
        f"SELECT {SELECT_SQL} FROM experiments e WHERE {where} "
        "ORDER BY e.updated_at DESC, e.id DESC LIMIT ?",
        [*params, PAGE_SIZE],
    ).fetchall()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def import_only() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import furu_server.tui._app"], check=True)
    return time.perf_counter() - start


# ---------------------------------------------------------------- in-process


def in_process(settings: ServerSettings, text: str) -> tuple[float, float]:
    """`(start -> first page painted, Enter -> filtered page painted)`, headless."""

    async def go() -> tuple[float, float]:
        marks: list[float] = []
        start = time.perf_counter()
        app = FuruTui(StoreData(settings), refresh_interval=0)
        app.on_rows_shown = lambda: marks.append(time.perf_counter())
        async with app.run_test(size=(160, 48)) as pilot:
            while not marks:
                await asyncio.sleep(0.001)
            first = marks[0] - start
            await pilot.press("slash")
            screen = app.screen
            assert isinstance(screen, ListScreen)
            screen.query_one("#filter").value = text  # type: ignore[attr-defined]
            shown = len(marks)
            typed = time.perf_counter()
            await pilot.press("enter")
            while len(marks) == shown:
                await asyncio.sleep(0.001)
            filtered = marks[-1] - typed
            await pilot.press("escape")
        return first, filtered

    return asyncio.run(go())


# ---------------------------------------------------------------- a real terminal


class Tmux:
    def __init__(self, name: str) -> None:
        self.socket = f"furu-bench-tui-{os.getpid()}-{name}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def wait(self, found: Callable[[str], bool], limit: float = 120.0) -> float:
        end = time.perf_counter() + limit
        while time.perf_counter() < end:
            if found(self("capture-pane", "-p", "-t", "tui")):
                return time.perf_counter()
            time.sleep(0.005)
        raise RuntimeError(
            f"the screen never showed it:\n{self('capture-pane', '-p', '-t', 'tui')}"
        )

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def in_terminal(settings: ServerSettings, total: int, text: str, run: int) -> tuple[float, float]:
    """`(tmux new-session -> first page on screen, Enter -> filtered page on screen)`."""
    tmux = Tmux(str(run))
    command = " ".join(
        [
            str(FURU),
            "--root",
            str(settings.root),
            "tui",
            "--cache-dir",
            str(settings.cache_dir),
            "--refresh",
            "0",
        ]
    )
    try:
        start = time.perf_counter()
        tmux("new-session", "-d", "-s", "tui", "-x", "160", "-y", "48", command)
        first = tmux.wait(lambda s: f"of {total:,}" in s) - start
        tmux("send-keys", "-t", "tui", "/")
        tmux.wait(lambda s: "filter, e.g." in s)
        tmux("send-keys", "-t", "tui", "-l", text)
        tmux.wait(lambda s: text in s)
        typed = time.perf_counter()
        tmux("send-keys", "-t", "tui", "Enter")
        filtered = tmux.wait(lambda s: f"filter: {text}" in s) - typed
        tmux("send-keys", "-t", "tui", "q")
    finally:
        tmux.kill()
    return first, filtered


# ---------------------------------------------------------------- the table


def summary(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms (best {min(values) * 1000:,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="an existing store (never changed)")
    parser.add_argument("--n", type=int, default=100_000, help="experiments (without --root)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache-dir", type=Path, help="where the index is built (reused)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.gettempdir())
    root = args.root
    if root is None:
        root = tmp / f"furu-bench-tui-store-{args.n}"
        ensure_store(root, args.n, args.jobs)
    cache = args.cache_dir or tmp / f"furu-bench-tui-index-{abs(hash(str(root.resolve())))}"
    settings = settings_of(root, cache)
    total = ensure_index(settings)
    db = settings.index_path()
    has_tmux = shutil.which("tmux") is not None

    rows: list[tuple[str, str, str, str]] = []
    floor_page = [bare_first_page(db) for _ in range(args.repeat)]
    floor_import = [import_only() for _ in range(args.repeat)]
    starts: list[float] = []
    term_starts: list[float] = []
    filters: dict[str, list[float]] = {t: [] for t in FILTERS}
    term_filters: dict[str, list[float]] = {t: [] for t in FILTERS}
    for i in range(args.repeat):
        for text in FILTERS:
            first, filtered = in_process(settings, text)
            starts.append(first)
            filters[text].append(filtered)
            if has_tmux:
                first, filtered = in_terminal(settings, total, text, i)
                term_starts.append(first)
                term_filters[text].append(filtered)
    goal = f"<= {GOAL_SEC:g} s"
    if has_tmux:
        rows.append(
            (
                "start -> first rows (real terminal, tmux)",
                summary(term_starts),
                goal,
                f"import only: {summary(floor_import)}",
            )
        )
    rows.append(
        (
            "start -> first rows (in-process, painted)",
            summary(starts),
            goal,
            f"bare SQL page: {summary(floor_page)}",
        )
    )
    for text in FILTERS:
        floor = summary([bare_filter(db, text) for _ in range(args.repeat)])
        where, params = compile_filter([parse_filter(text)])
        conn = connect(db)
        (matches,) = conn.execute(
            f"SELECT count(*) FROM experiments e WHERE {where}", params
        ).fetchone()
        conn.close()
        if has_tmux:
            rows.append(
                (
                    f"filter `{text}` ({matches:,}) -> rows (tmux)",
                    summary(term_filters[text]),
                    goal,
                    f"bare SQL: {floor}",
                )
            )
        rows.append(
            (
                f"filter `{text}` ({matches:,}) -> rows (in-process)",
                summary(filters[text]),
                goal,
                f"bare SQL: {floor}",
            )
        )
    header = (
        "furu tui, " + f"{total:,} experiments",
        "time (median of " + f"{args.repeat})",
        "goal",
        "floor",
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    if not has_tmux:
        print("\n(tmux is not installed: the real-terminal rows are left out)")
    print(f"\nstore: {root}\nindex: {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
