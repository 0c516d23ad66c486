"""Speed of furu-server on a large store, each figure beside the floor of a bare SQLite query.

```
python benchmarks/bench_server.py                 # 100,000 experiments (generated once, ~5 min)
python benchmarks/bench_server.py --n 5000        # a quick run
python benchmarks/bench_server.py --root DIR      # an existing store (or where to make one)
```

`FURU_BENCH_SERVER_N` sets the default `--n` (e.g. for `make bench` on a small machine).

The store is written by furu-core itself (`make_large_store.py`), on `/dev/shm` when it exists
(creating 100,000 steps fsyncs 100,000 markers; tmpfs makes that minutes, not an hour). The
server runs in a real uvicorn on 127.0.0.1 with its background refresher; requests go over
HTTP with keep-alive. It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_large_store  # noqa: E402
from furu_server import ServerSettings, create_app  # noqa: E402
from furu_server._graph import _dag  # noqa: E402
from furu_server.index._database import connect  # noqa: E402
from furu_server.index._index import roots_of  # noqa: E402
from furu_server.index._indexer import Indexer  # noqa: E402


def p50(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of `fn` after two warm-up calls."""
    fn()
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class Server:
    """The app in a real uvicorn on 127.0.0.1, in a thread of this process."""

    def __init__(self, settings: ServerSettings) -> None:
        import socket

        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(settings), log_level="warning", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self.sock.close()


def default_root(n: int) -> Path:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return base / f"furu-bench-store-{n}"


def ensure_store(root: Path, n: int, jobs: int) -> None:
    marker = root / "bench-complete.json"
    if marker.exists() and json.loads(marker.read_text())["n"] == n:
        print(f"reusing the store of {n} experiments in {root}", file=sys.stderr)
        return
    shutil.rmtree(root, ignore_errors=True)
    print(f"creating {n} experiments in {root} with {jobs} processes ...", file=sys.stderr)
    seconds = make_large_store.make_store(root, n, jobs=jobs)
    print(f"created in {seconds:.0f}s", file=sys.stderr)
    marker.write_text(json.dumps({"n": n}))


def bare_sqlite(db: Path, refs: list[tuple[str, str]], lr: float) -> dict[str, float]:
    """Floors: the same questions as bare SQL on the same index file."""
    conn = connect(db)
    first_page = (
        "SELECT namespace, hash, result_status, updated_at FROM experiments "
        "ORDER BY updated_at DESC, id DESC LIMIT 50"
    )
    search = (
        "SELECT e.namespace, e.hash FROM experiments e INDEXED BY exp_updated WHERE e.id IN "
        "(SELECT exp_id FROM config_kv WHERE path = 'lr' AND kind = 'num' AND num < ?) "
        "ORDER BY e.updated_at DESC LIMIT 50"
    )

    def page() -> None:
        conn.execute(first_page).fetchall()
        conn.execute("SELECT count(*) FROM experiments").fetchone()

    def searched() -> None:
        conn.execute(search, (lr,)).fetchall()
        conn.execute(
            "SELECT count(*) FROM config_kv WHERE path = 'lr' AND kind = 'num' AND num < ?", (lr,)
        ).fetchone()

    def detail() -> None:
        ns, h = random.choice(refs)
        conn.execute(
            "SELECT * FROM experiments WHERE namespace = ? AND hash = ?", (ns, h)
        ).fetchone()
        conn.execute(
            "SELECT * FROM deps WHERE dep_namespace = ? AND dep_hash = ?", (ns, h)
        ).fetchall()

    def dag() -> None:
        conn.execute(
            "SELECT namespace, result_status, count(*) FROM experiments GROUP BY 1, 2"
        ).fetchall()
        conn.execute(
            "SELECT namespace, field, dep_namespace, count(*) FROM deps GROUP BY 1, 2, 3"
        ).fetchall()

    out = {
        "list": p50(page, 50),
        "search": p50(searched, 50),
        "detail": p50(detail, 100),
        "dag": p50(dag, 20),
    }
    conn.close()
    return out


def run(root: Path, n: int, jobs: int, cache: Path) -> list[tuple[str, str, str, str, str]]:
    ensure_store(root, n, jobs)
    shutil.rmtree(cache, ignore_errors=True)
    settings = ServerSettings(root=root, vc_root=root / "vc", cache_dir=cache, token="bench")
    indexer = Indexer(settings.index_path(), settings.resolved_root, roots_of(settings))
    start = time.perf_counter()
    indexer.refresh()
    build = time.perf_counter() - start
    indexer.close()
    print(f"index built from scratch in {build:.1f}s", file=sys.stderr)
    lr = 2e-3
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        http.post("/api/index/refresh").raise_for_status()
        items = http.get(
            "/api/experiments", params={"namespace": "make_large_store.Eval", "limit": 500}
        )
        refs = [(i["namespace"], i["hash"]) for i in items.json()["items"]]

        def listing() -> None:
            http.get("/api/experiments").raise_for_status()

        def search() -> None:
            body = {"query": f"config.lr < {lr}"}
            http.post("/api/experiments/search", json=body).raise_for_status()

        fresh = iter(range(10**6))

        def new_search() -> None:  # a value never asked before: nothing memoised
            body = {"query": f"config.lr < {lr + next(fresh) * 1e-12}"}
            http.post("/api/experiments/search", json=body).raise_for_status()

        def detail() -> None:
            ns, h = random.choice(refs)
            http.get(f"/api/experiments/{ns}/{h}").raise_for_status()
            http.get(f"/api/experiments/{ns}/{h}/relationships").raise_for_status()

        def dag() -> None:
            http.get("/api/dag").raise_for_status()

        results = {
            "list": p50(listing, 50),
            "search": p50(search, 50),
            "new_search": p50(new_search, 50),
            "detail": p50(detail, 100),
            "dag": p50(dag, 50),
        }
        dag_size = len(http.get("/api/dag").content)
        matched = http.post("/api/experiments/search", json={"query": f"config.lr < {lr}"}).json()
        index = server.server.config.app.state.services.index  # type: ignore[attr-defined]
        dag_uncached = p50(lambda: _dag(index), 10)
    floors = bare_sqlite(settings.index_path(), refs, lr)
    # A long-running server: its refresher has listed the store once (a rescan) before the
    # 1,000 new experiments appear; then one refresh picks them all up.
    indexer = Indexer(settings.index_path(), settings.resolved_root, roots_of(settings))
    indexer.refresh(full=True)
    print("creating 1,000 more experiments ...", file=sys.stderr)
    offset = 10**9 + int(time.time()) * 10_000  # new configs on every run
    make_large_store.make_store(root, 1000, offset=offset, jobs=jobs)
    start = time.perf_counter()
    stats = indexer.refresh()
    refresh = time.perf_counter() - start
    indexer.close()
    make_large_store.remove_slice(root, 1000, offset)  # the store stays at n for the next run
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    return [
        ("GET /api/experiments first page, warm", "p50 <= 30 ms", ms(results["list"]), ms(floors["list"]), f"{n} experiments"),
        ("search config.lr < x, a new x each time", "p50 <= 80 ms", ms(results["new_search"]), ms(floors["search"]), f"{matched['total']} match"),
        ("  the same search again (count memoised)", "", ms(results["search"]), ms(floors["search"]), "e.g. paging"),
        ("detail + relationships", "p50 <= 20 ms", ms(results["detail"]), ms(floors["detail"]), "two requests"),
        ("GET /api/dag (memoised per index generation)", "p50 <= 100 ms", ms(results["dag"]), ms(floors["dag"]), f"{dag_size / 1024:.1f} KB"),
        ("  dag recomputed (after any change)", "", ms(dag_uncached), ms(floors["dag"]), "in process"),
        ("index from scratch", "<= 60 s", f"{build:.1f} s", "", f"{n} experiments"),
        ("refresh after 1,000 new experiments", "<= 1 s", f"{refresh:.2f} s", "", f"{stats.changed} read"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_n = int(os.environ.get("FURU_BENCH_SERVER_N", "100000"))
    parser.add_argument("--n", type=int, default=default_n, help="experiments in the store")
    parser.add_argument("--root", type=Path, help="the store (made when missing)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    root = args.root or default_root(args.n)
    with tempfile.TemporaryDirectory(prefix="furu-bench-cache-") as cache:
        rows = run(root, args.n, args.jobs, Path(cache))
    header = ("figure", "goal", "furu-server", "bare SQLite", "notes")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\nstore: {root} (delete it when done; --root reuses it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
