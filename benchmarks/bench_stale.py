"""Speed of `furu stale` (and `furu.find_stale`) over a large store, against a plain floor.

```
python benchmarks/bench_stale.py [--n 100000] [--root DIR]
```
The store holds `--n` experiments of three classes (`Data` <- `Train` <- `Eval`): a few are
made by real furu steps, the rest are copies of their `metadata.json` and `SUCCESS.json`
under new hashes (written once; `--root` keeps them for the next run). The manifest is the
code after `Train` gained a field: every `Train` is `fields-changed`, every `Eval`
`dependency-stale`, the worst case. The floor reads the same `metadata.json` files with
`os.scandir` + `open` + `json.loads` and nothing else. The goal: 100,000 experiments in at
most 10 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import furu

STEPS = """
import furu


class Data(furu.Furu[int]):
    seed: int = 0

    def _create(self) -> int:
        return self.seed

    def _load(self) -> int:
        return self.seed


class Train(furu.Furu[int]):
    data: Data
    lr: float = 0.1
    seed: int = 0

    def _create(self) -> int:
        return self.data.load_or_create()

    def _load(self) -> int:
        return 0


class Eval(furu.Furu[int]):
    model: Train
    seed: int = 0

    def _create(self) -> int:
        return self.model.load_or_create()

    def _load(self) -> int:
        return 0
"""
SHARES = {"Data": 0.1, "Train": 0.45, "Eval": 0.45}


def make_store(root: Path, n: int) -> None:
    """`n` experiments under `root` (skipped when a previous run made the same)."""
    marker = root / "bench-stale.json"
    if marker.exists() and json.loads(marker.read_text()) == {"n": n}:
        return
    sys.path.insert(0, str(root))
    (root / "stalebench_steps.py").write_text(STEPS)
    import stalebench_steps as steps  # type: ignore[import-not-found]

    furu.set_furu_root(root / "store")
    seed = steps.Eval(model=steps.Train(data=steps.Data()))
    seed.load_or_create()
    templates = {
        name: furu.Store(root / "store").step_dir_of(step)
        for name, step in (("Eval", seed), ("Train", seed.model), ("Data", seed.model.data))
    }
    counts = {k: max(1, int(n * share)) for k, share in SHARES.items()}
    for name, template in templates.items():
        metadata = template.read_metadata()
        success = template.success_path.read_bytes()
        assert metadata is not None
        class_dir = template.path.parent
        for i in range(counts[name]):
            digest = f"{name[0].lower()}{i:019x}"
            record = dict(metadata, furu_hash=digest)
            if name == "Train":
                record["dependencies"] = [
                    dict(metadata["dependencies"][0], hash=f"d{i % counts['Data']:019x}")
                ]
            elif name == "Eval":
                record["dependencies"] = [dict(metadata["dependencies"][0], hash=f"t{i:019x}")]
            meta = class_dir / digest / ".furu"
            meta.mkdir(parents=True, exist_ok=True)
            (meta / "metadata.json").write_text(json.dumps(record, indent=2))
            (meta / "SUCCESS.json").write_bytes(success)
    marker.write_text(json.dumps({"n": n}))


def v2_manifest(root: Path) -> furu.Manifest:
    """The manifest of the code after `Train` gained `average: bool = False`."""
    manifest = furu.build_manifest(["stalebench_steps"], project=root)
    train = manifest.classes["stalebench_steps.Train"]
    added = furu.ManifestField("average", "bool", default=False, has_default=True)
    classes = dict(manifest.classes)
    classes[train.namespace] = dataclasses.replace(train, fields=(*train.fields, added))
    return dataclasses.replace(manifest, classes=classes)


def floor(store_root: Path) -> int:
    """scandir down to every step directory, then open + read + json.loads its metadata."""
    count = 0
    stack = [str(store_root / "data")]
    while stack:
        directory = stack.pop()
        entries = list(os.scandir(directory))
        if any(e.name == ".furu" for e in entries):
            with open(os.path.join(directory, ".furu", "metadata.json"), "rb") as f:
                json.loads(f.read())
            count += 1
            continue
        stack.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))
    return count


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--root", help="keep the generated store here (reused next time)")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="furu-bench-stale-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    made, _ = timed(lambda: make_store(root, args.n))
    sys.path.insert(0, str(root))
    store = furu.Store(root / "store")
    manifest = v2_manifest(root)
    manifest.write(store)

    floor(store.root)  # warm the page cache for both
    floor_s, count = timed(lambda: floor(store.root))
    find_s, found = timed(lambda: furu.find_stale(store, manifest))
    env = dict(os.environ, FURU_PATH=str(store.root))
    command = [str(Path(sys.executable).parent / "furu"), "stale", "--json"]
    cli_s, done = timed(
        lambda: subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    )
    counts = json.loads(done.stdout)["counts"]

    print(f"store: {count} experiments in {root} (made in {made:.1f} s)")
    print(f"stale: {len(found)} ({counts})")
    print(f"{'figure':<52} {'seconds':>9} {'x floor':>8} {'goal':>10}")
    print("-" * 82)
    print(f"{'floor: scandir + read + json.loads of metadata.json':<52} {floor_s:>9.2f}")
    print(f"{'furu.find_stale(store, manifest)':<52} {find_s:>9.2f} {find_s / floor_s:>8.1f}")
    goal = f"<= {10 * count / 100_000:.1f} s"
    print(
        f"{'`furu stale --json` (a whole process)':<52} {cli_s:>9.2f} {cli_s / floor_s:>8.1f} {goal:>10}"
    )
    if not args.root:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
