"""Throughput of `furu.export_steps` / `furu.import_bundle` against `tar` of the same directories.

```
python benchmarks/bench_bundle.py [--n 2000] [--big 40] [--big-mib 2] [--root DIR]
```
The store is made by real furu steps (`make_large_store.make_store`: four families of classes,
about 1% of the `Train` steps failing); then `--big` of its `Train` steps get a `--big-mib` MiB
file in their directory and half that in their own raw directory (`StepDir.raw_dir`), so the
bundle holds both many small files and some large ones. Every successful step is exported with
its dependencies; the floor is `tar cf` of the store's `data/` and `raw/` (the same files, plus
the failed steps') and `tar xf` of that archive, in the same run. Each figure is the best of
`--repeat` runs, with the page cache warm for both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import furu

HERE = Path(__file__).resolve().parent


def build(root: Path, n: int, big: int, big_mib: int) -> furu.Store:
    """`n` experiments made by furu, `big` of them with large files (reused when present)."""
    sys.path.insert(0, str(HERE))
    from make_large_store import make_store  # type: ignore[import-not-found]

    store_root = root / "store"
    if not (store_root / "bench-bundle-done").exists():
        make_store(store_root, n)
        store = furu.Store(store_root, version_controlled_root=store_root / "vc")
        trains = [d for d in store.step_dirs() if ".Train" in d.namespace and d.has_result()]
        for step in trains[:big]:
            (step.path / "weights.bin").write_bytes(os.urandom(big_mib << 20))
            step.raw_dir.mkdir(parents=True, exist_ok=True)
            (step.raw_dir / "activations.bin").write_bytes(os.urandom(big_mib << 19))
        (store_root / "bench-bundle-done").write_text("")
    return furu.Store(store_root, version_controlled_root=store_root / "vc")


def best(repeat: int, fn: Callable[[], Any], before: Callable[[], None]) -> tuple[float, Any]:
    """The fastest of `repeat` runs of `fn` (`before` runs, untimed, ahead of each)."""
    times, value = [], None
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def tar(*args: str) -> None:
    subprocess.run(["tar", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="experiments in the store")
    parser.add_argument("--big", type=int, default=40, help="steps given large files")
    parser.add_argument("--big-mib", type=int, default=2, help="MiB per large file")
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure (best kept)")
    parser.add_argument(
        "--gzip", action="store_true", help="a .tar.gz bundle, against tar czf / tar xzf"
    )
    parser.add_argument("--root", help="keep the generated store here (reused next time)")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="furu-bench-bundle-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    store = build(root, args.n, args.big, args.big_mib)
    made = time.perf_counter() - start
    done = [d for d in store.step_dirs() if d.has_result()]
    suffix, z = (".tar.gz", "z") if args.gzip else (".tar", "")
    bundle, floor_tar = root / f"bundle{suffix}", root / f"floor{suffix}"
    target, floor_dir = root / "imported", root / "untarred"

    def fresh(*paths: Path) -> Callable[[], None]:
        def clear() -> None:
            for path in paths:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(
                    missing_ok=True
                )
            floor_dir.mkdir(exist_ok=True)

        return clear

    tar(f"c{z}f", str(floor_tar), "-C", str(store.root), "data", "raw")  # warm the page cache
    tar_c, _ = best(
        args.repeat,
        lambda: tar(f"c{z}f", str(floor_tar), "-C", str(store.root), "data", "raw"),
        fresh(floor_tar),
    )
    export_s, report = best(
        args.repeat, lambda: furu.export_steps(store, done, bundle), fresh(bundle)
    )
    tar_x, _ = best(
        args.repeat, lambda: tar(f"x{z}f", str(floor_tar), "-C", str(floor_dir)), fresh(floor_dir)
    )
    import_s, imported = best(
        args.repeat,
        lambda: furu.import_bundle(
            furu.Store(target, version_controlled_root=target / "vc"), bundle
        ),
        fresh(target),
    )
    assert imported.count("imported") == len(report.steps), imported.to_json()["counts"]
    mb = report.bytes / 1e6
    steps = len(report.steps)
    print(
        f"store: {len(list(store.step_dirs()))} experiments in {root} (made in {made:.1f} s); "
        f"bundle: {steps} steps, {report.files} files, {mb:.1f} MB "
        f"({bundle.stat().st_size / 1e6:.1f} MB on disk; tar of the same dirs "
        f"{floor_tar.stat().st_size / 1e6:.1f} MB)"
    )
    print(f"{'figure':<44} {'seconds':>8} {'MB/s':>8} {'steps/s':>9} {'x tar':>7}")
    print("-" * 80)
    rows = [
        (f"floor: tar c{z}f data/ raw/", tar_c, None),
        ("furu.export_steps (every success + deps)", export_s, tar_c),
        (f"floor: tar x{z}f", tar_x, None),
        ("furu.import_bundle (verify, stage, rename)", import_s, tar_x),
    ]
    for name, seconds, versus in rows:
        ratio = f"{seconds / versus:>7.1f}" if versus else ""
        print(f"{name:<44} {seconds:>8.2f} {mb / seconds:>8.1f} {steps / seconds:>9.0f} {ratio}")
    if not args.root:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
