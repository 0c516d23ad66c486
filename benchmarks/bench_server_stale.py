"""Speed of the server's `stale` flags on a large store, each figure beside a bare SQLite floor.

```
python benchmarks/bench_server_stale.py                # 100,000 experiments (made once)
python benchmarks/bench_server_stale.py --n 5000       # a quick run
```

The store is `bench_server.py`'s (`make_large_store.py`, reused when it exists). The code
manifest is what `furu.build_manifest` describes of `make_large_store`, then changed as a code
change would change it: `Prep0` gains a field with a default, so every `Prep0` experiment is
`fields-changed` and everything below it `dependency-stale`. Measured, in this process, on the
index the server keeps (`Indexer`): the refresh that sets every flag after `manifest.json`
changed (and again when it is rewritten the same), a refresh with nothing to do, the refresh
after 1,000 new experiments (beside the same refresh without a manifest), and the first page
of `stale = true`. It prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import furu  # noqa: E402
import make_large_store  # noqa: E402
from bench_server import default_root, ensure_store, p50  # noqa: E402
from furu_server import ServerSettings, compile_filter, parse_filter  # noqa: E402
from furu_server._models import Order, SortKey  # noqa: E402
from furu_server.index._index import Index  # noqa: E402

CHANGED = "make_large_store.Prep0"


def changed_manifest(root: Path) -> furu.Manifest:
    """The manifest of `make_large_store` after `Prep0` gained `average: bool = False`."""
    manifest = furu.build_manifest(["make_large_store"], store=furu.Store(root))
    cls = manifest.classes[CHANGED]
    added = furu.ManifestField(name="average", type="bool", default=False, has_default=True)
    changed = dataclasses.replace(cls, fields=(*cls.fields, added))
    return dataclasses.replace(manifest, classes={**manifest.classes, CHANGED: changed})


def bare_floor(db: Path) -> float:
    """Seconds of the least SQLite can do for the same work: read every row's class and field
    set, and write one flag per row."""
    conn = sqlite3.connect(db)
    start = time.perf_counter()
    conn.execute("SELECT DISTINCT namespace, schema_types FROM experiments").fetchall()
    conn.execute("UPDATE experiments SET stale = stale")
    conn.rollback()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def new_experiments(index: Index, root: Path, jobs: int) -> float:
    """Seconds of the refresh that indexes 1,000 new experiments (removed again after)."""
    offset = 10**9 + time.time_ns() // 1000 % 10**8 * 10_000  # new configs on every call
    make_large_store.make_store(root, 1000, offset=offset, jobs=jobs)
    start = time.perf_counter()
    index.refresh()
    seconds = time.perf_counter() - start
    make_large_store.remove_slice(root, 1000, offset)
    index.refresh()
    return seconds


def run(root: Path, n: int, jobs: int, cache: Path) -> list[tuple[str, str, str, str]]:
    ensure_store(root, n, jobs)
    settings = ServerSettings(root=root, cache_dir=cache)
    index = Index(settings)
    start = time.perf_counter()
    index.refresh()
    build = time.perf_counter() - start
    changed_manifest(root).write(furu.Store(root))
    start = time.perf_counter()
    index.refresh()
    flags = time.perf_counter() - start
    idle = p50(index.refresh, 5)
    (stale,) = index.conn().execute("SELECT count(*) FROM experiments WHERE stale = 1").fetchone()
    where, params = compile_filter(parse_filter("stale = true"))

    def page() -> None:
        index.listing(where, params, SortKey.updated, Order.desc, 50, 0)

    listing = p50(page, 10)
    bare_page = p50(
        lambda: (
            index.conn()
            .execute("SELECT id FROM experiments WHERE stale = 1 ORDER BY updated_at DESC LIMIT 50")
            .fetchall()
        ),
        10,
    )
    floor = bare_floor(settings.index_path())
    again = time.perf_counter()
    changed_manifest(root).write(furu.Store(root))  # rewritten, the same code: nothing changes
    index.refresh()
    again = time.perf_counter() - again
    with_manifest = new_experiments(index, root, jobs)
    (furu.Store(root).root / "manifest.json").unlink()
    index.refresh()  # every flag unknown again
    without = new_experiments(index, root, jobs)
    index.stop()
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    return [
        ("index from scratch (flags unknown: no manifest)", f"{build:.1f} s", "", f"{n} experiments"),
        ("refresh after manifest.json changed: every flag set", f"{flags:.2f} s", f"{floor:.2f} s", f"{stale} stale"),
        ("  the same manifest written again (no flag changes)", f"{again:.2f} s", "", "no row written"),
        ("refresh with nothing changed (manifest checked)", ms(idle), "", "stat of manifest.json"),
        ("refresh after 1,000 new experiments, with a manifest", f"{with_manifest:.2f} s", f"{without:.2f} s", "floor: the same without one"),
        ("first page of stale = true", ms(listing), ms(bare_page), "50 rows"),
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
    header = ("figure", "furu-server", "bare SQLite", "notes")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\nstore: {root} (delete it when done; --root reuses it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
