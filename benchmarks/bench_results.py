"""Speed of sorting and filtering by results (and results joined along the graph) at scale.

```
python benchmarks/bench_results.py --root STORE_DIR   # an existing store
python benchmarks/bench_results.py --n 5000                    # makes a store of 5,000
```

Each `Eval` step of `make_large_store.py` writes `eval.json` (`result.accuracy`, `result.loss`).
The server runs in a real uvicorn on 127.0.0.1 (`bench_server.Server`); each figure is the
median time of `POST /api/experiments/search` for the first page of 50 rows with four
config/result columns, beside the floor of the bare SQL first page sorted by an indexed
column. It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_server import Server, default_root, ensure_store, p50  # noqa: E402
from furu_server import ServerSettings  # noqa: E402
from furu_server.index._database import connect  # noqa: E402
from furu_server.index._index import roots_of  # noqa: E402
from furu_server.index._indexer import Indexer  # noqa: E402

COLUMNS = ["config.lr", "config.optimizer", "result.accuracy", "downstream.Eval0.result.accuracy"]
SEARCHES: list[tuple[str, dict[str, Any], str]] = [
    ("every experiment, sorted by config.lr", {"sort_field": "config.lr"}, "p50 <= 300 ms"),
    (
        "every experiment, sorted by result.accuracy",
        {"sort_field": "result.accuracy"},
        "p50 <= 300 ms",
    ),
    (
        "class = Eval0, sorted by result.accuracy",
        {"query": "class = Eval0", "sort_field": "result.accuracy"},
        "p50 <= 300 ms",
    ),
    (
        "class = Train0, sorted by downstream.Eval0.result.accuracy",
        {"query": "class = Train0", "sort_field": "downstream.Eval0.result.accuracy"},
        "p50 <= 300 ms",
    ),
    (
        "filter downstream.Eval0.result.accuracy > 0.9",
        {"query": "downstream.Eval0.result.accuracy > 0.9"},
        "p50 <= 300 ms",
    ),
    ("filter result.accuracy > 0.9 (no sort field)", {"query": "result.accuracy > 0.9"}, ""),
]


def floor(db: Path) -> float:
    conn = connect(db)
    sql = (
        "SELECT namespace, hash, result_status, updated_at FROM experiments "
        "ORDER BY updated_at DESC, id DESC LIMIT 50"
    )

    def page() -> None:
        conn.execute(sql).fetchall()
        conn.execute("SELECT count(*) FROM experiments").fetchone()

    seconds = p50(page, 30)
    conn.close()
    return seconds


def run(root: Path, cache: Path) -> tuple[list[tuple[str, str, str, str, str]], int]:
    settings = ServerSettings(root=root, vc_root=root / "vc", cache_dir=cache, token="bench")
    indexer = Indexer(settings.index_path(), settings.resolved_root, roots_of(settings))
    start = time.perf_counter()
    indexer.refresh()
    print(f"index built in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    indexer.close()
    base = floor(settings.index_path())
    rows = []
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        http.post("/api/index/refresh").raise_for_status()
        total = http.get("/api/experiments", params={"limit": 1}).json()["total"]
        for name, body, goal in SEARCHES:
            request = {**body, "order": "desc", "limit": 50, "columns": COLUMNS}
            got = http.post("/api/experiments/search", json=request)
            got.raise_for_status()
            matched = got.json()["total"]
            seconds = p50(
                lambda r=request: http.post("/api/experiments/search", json=r).raise_for_status(),
                10,
            )
            rows.append(
                (name, goal, f"{seconds * 1000:.0f} ms", f"{base * 1000:.1f} ms", f"{matched}")
            )
    return rows, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="experiments (a new store)")
    parser.add_argument("--root", type=Path, help="an existing store (left as it is)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    root = args.root
    if root is None:
        root = default_root(args.n)
        ensure_store(root, args.n, args.jobs)
    with tempfile.TemporaryDirectory(prefix="furu-bench-cache-") as cache:
        rows, total = run(root, Path(cache))
    header = (
        "search (first page of 50, 4 columns)",
        "goal",
        "furu-server",
        "bare SQL page",
        "match",
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\n{total} experiments in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
