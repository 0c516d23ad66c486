"""What recording the code state costs a sweep run from a dirty working tree.

Run from the repository root: `python benchmarks/bench_provenance.py [--compare-with REF]`.
It makes a temporary git repository whose working tree differs from its commit by about 1 MB
(plus a few untracked files), runs a sweep of trivial steps there in a fresh process, and
prints per step: the bytes of `metadata.json`, the median time of a create, and what the store
holds besides the steps (`code/`). `--compare-with REF` (e.g. the merge base) measures the furu
of that git revision the same way, in a temporary worktree, and prints both rows. It asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = 200
DIFF_BYTES = 1_000_000

STEP_MODULE = textwrap.dedent(
    """
    import furu


    class Trivial(furu.Furu[int]):
        i: int = 0

        def _create(self) -> int:
            return self.i

        def _load(self) -> int:
            return self.i
    """
)

SWEEP = textwrap.dedent(
    """
    import json, statistics, sys, time
    import furu
    import bench_prov_steps as s

    s.Trivial(i=-1).load_or_create()  # the first create asks git; the sweep measures the rest
    times = []
    for i in range({steps}):
        step = s.Trivial(i=i)
        start = time.perf_counter()
        step.load_or_create()
        times.append(time.perf_counter() - start)
    json.dump({{"median": statistics.median(times), "first_ok": True}}, sys.stdout)
    """
)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=B", "-c", "user.email=b@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def make_repo(where: Path) -> Path:
    repo = where / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "bench_prov_steps.py").write_text(STEP_MODULE)
    (repo / "model.py").write_text("weights = 0\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    line = "weights = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # changed, not committed\n"
    (repo / "model.py").write_text(line * (DIFF_BYTES // len(line)))
    for i in range(3):
        (repo / f"scratch_{i}.py").write_text(f"note = {i}\n")
    return repo


def measure(core_src: Path, where: Path) -> dict[str, float]:
    repo = make_repo(where)
    store = where / "store"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(core_src), str(repo)]),
        "FURU_PATH": str(store),
        "PYTHONDONTWRITEBYTECODE": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "FURU_MAX_GIT_PATCH_BYTES": str(2 * DIFF_BYTES),  # the whole diff is recorded
    }
    env.pop("FURU_IGNORE_DIFF", None)
    out = subprocess.run(
        [sys.executable, "-c", SWEEP.format(steps=STEPS)],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    metas = list((store / "data").rglob("metadata.json"))
    sizes = [p.stat().st_size for p in metas]
    code = store / "code"
    code_bytes = (
        sum(p.stat().st_size for p in code.rglob("*") if p.is_file()) if code.exists() else 0
    )
    return {
        "steps": len(metas),
        "meta_mean": sum(sizes) / len(sizes),
        "meta_max": max(sizes),
        "create_ms": result["median"] * 1000,
        "code_dirs": len(list(code.iterdir())) if code.exists() else 0,
        "code_bytes": code_bytes,
        "total_meta": sum(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-with", help="a git revision whose furu to measure too")
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.compare_with:
            base = Path(tmp) / "base"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "--quiet", str(base), args.compare_with],
                cwd=ROOT,
                check=True,
            )
            try:
                (Path(tmp) / "before").mkdir()
                rows.append(
                    (
                        f"before ({args.compare_with})",
                        measure(base / "packages/furu-core/src", Path(tmp) / "before"),
                    )
                )
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
                )
        (Path(tmp) / "after").mkdir()
        rows.append(("this tree", measure(ROOT / "packages/furu-core/src", Path(tmp) / "after")))
    print(
        f"\nA sweep of {STEPS} trivial steps, working tree ~{DIFF_BYTES / 1e6:.0f} MB of "
        "uncommitted diff + 3 untracked files\n"
    )
    header = (
        f"{'furu':<28} {'metadata.json/step':>19} {'max':>9} {'all metadata':>13} "
        f"{'create (median)':>16} {'code/ dirs':>10} {'code/ bytes':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows:
        print(
            f"{name:<28} {r['meta_mean']:>17,.0f} B {r['meta_max']:>7,.0f} B "
            f"{r['total_meta'] / 1e6:>10.1f} MB {r['create_ms']:>13.2f} ms "
            f"{r['code_dirs']:>10.0f} {r['code_bytes']:>12,.0f}"
        )


if __name__ == "__main__":
    main()
