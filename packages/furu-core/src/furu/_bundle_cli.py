"""`furu export` and `furu import`: share results between stores as one tar file.

```
furu export REF [REF ...] -o bundle.tar [--no-deps] [--json]   pack steps and dependencies
furu import bundle.tar [--dry-run] [--json]                      verify, then add to the store
```
REF is `namespace/hash`, a hash prefix, `Class/hash-prefix` or a step's directory. A bundle
ending in `.tar.gz` or `.tgz` is compressed. `furu import` exits 1 on a conflict (a step here
holds a different result): then nothing is imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from furu._step_dir import StepDir
    from furu._workspace import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `export` and `import` to the `furu` command's subparsers."""
    export = sub.add_parser(
        "export",
        help="pack steps, their dependencies, raw files and code provenance into a tar file",
    )
    export.add_argument(
        "refs", nargs="+", metavar="REF", help="namespace/hash, hash prefix or directory"
    )
    export.add_argument("-o", "--output", required=True, help="the bundle (.tar or .tar.gz)")
    export.add_argument(
        "--no-deps", action="store_true", help="only the named steps, not their dependencies"
    )
    export.add_argument("--json", action="store_true", help="print JSON")
    export.set_defaults(run=_export, namespace=None)
    imp = sub.add_parser(
        "import", help="verify a bundle's checksums and add its steps to the store"
    )
    imp.add_argument("bundle", help="a bundle written by `furu export`")
    imp.add_argument(
        "--dry-run", action="store_true", help="verify and say what would happen; write nothing"
    )
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.set_defaults(run=_import, namespace=None)


def _export(args: argparse.Namespace) -> int:
    from furu._bundle import export_steps
    from furu._cli import _find, _store

    store = _store(args)
    steps = [_exact(store, ref) or _find(args, ref) for ref in args.refs]
    report = export_steps(store, steps, args.output, dependencies=not args.no_deps)
    if args.json:
        _print_json(report.to_json())
        return 0
    requested = len({s.id for s in steps})
    print(
        f"Exported {len(report.steps)} step(s) ({requested} named, "
        f"{len(report.steps) - requested} dependencies), {report.files} files, "
        f"{_size(report.bytes)}, {len(report.code_states)} code state(s) to {report.path}."
    )
    for item in report.left_out:
        print(f"left out: {item.what}: {item.why}", file=sys.stderr)
    return 0


def _exact(store: Store, ref: str) -> StepDir | None:
    """The step a full `namespace/hash` names, without listing the store (one per REF would
    scan 100,000 directories each); None for any other form of reference."""
    from furu._errors import FuruError

    namespace, _, digest = ref.strip().rpartition("/")
    if "." not in namespace or len(digest) < 16:
        return None
    try:
        candidates = [store.step_dir(namespace, digest)]
        if store.version_controlled_root is not None:
            candidates.append(store.step_dir(namespace, digest, version_controlled=True))
    except FuruError:
        return None
    return next((c for c in candidates if c.exists()), None)


def _import(args: argparse.Namespace) -> int:
    from furu._bundle_import import import_bundle
    from furu._cli import _store

    report = import_bundle(_store(args), args.bundle, dry_run=args.dry_run)
    if args.json:
        _print_json(report.to_json())
        return 1 if report.conflicts else 0
    would = "would be " if args.dry_run else ""
    for step in report.steps:
        line = f"{would + step.action:<20} {step.id}"
        print(line + (f"  ({step.detail})" if step.detail and step.action != "imported" else ""))
    counts = ", ".join(
        f"{report.count(a)} {a}" for a in ("imported", "replaced", "skipped", "conflict")
    )
    dry = " (dry run: nothing was written)" if args.dry_run else ""
    codes = sum(a == "imported" for a in report.code_states.values())
    print(
        f"{report.files} files ({_size(report.bytes)}) verified; {counts}; "
        f"{codes} new code state(s){dry}.",
        file=sys.stderr,
    )
    if report.conflicts:
        print(
            f"furu: {len(report.conflicts)} conflict(s): nothing was imported into "
            f"{report.store}. A step here holds a different result; delete it here "
            "(`furu rm REF`, or remove its directory) to take the bundle's, or import into another store (--root).",
            file=sys.stderr,
        )
        return 1
    return 0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))
