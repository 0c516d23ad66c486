"""`furu`: look at a store from the shell (read-only).

```
furu ls [--namespace PREFIX] [--status STATUS] [--json]   every step, with its status
furu status                                               counts per class and status
furu show NAMESPACE HASH | furu show DIR                  state and metadata of one step
```
The store is `FURU_PATH` (or `--root`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from furu._catalog import CatalogEntry, iter_catalog
from furu._errors import FuruError
from furu._settings import FURU_CONFIG


def _entries(args: argparse.Namespace) -> list[CatalogEntry]:
    root = Path(args.root) if args.root else FURU_CONFIG.base_root
    vc_root = FURU_CONFIG.version_controlled_root
    found = [
        e
        for e in iter_catalog(root, vc_root)
        if not args.namespace or e.namespace.startswith(args.namespace)
    ]
    return sorted(found, key=lambda e: (e.namespace, e.hash))


def _ls(args: argparse.Namespace) -> int:
    rows = []
    for entry in _entries(args):
        state = entry.state()
        attempt = state.attempt
        status = state.result_status.value
        if args.status and args.status not in (status, attempt.status.value if attempt else ""):
            continue
        rows.append(
            {
                "namespace": entry.namespace,
                "hash": entry.hash,
                "result_status": status,
                "attempt_status": attempt.status.value if attempt else None,
                "updated_at": state.updated_at,
                "furu_dir": str(entry.furu_dir),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        last = row["attempt_status"] or "-"
        print(f"{row['result_status']:<11} {last:<10} {row['namespace']} {row['hash']}")
    print(f"{len(rows)} step(s) under {args.root or FURU_CONFIG.base_root}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    counts: Counter[tuple[str, str]] = Counter()
    for entry in _entries(args):
        counts[(entry.namespace, entry.state().result_status.value)] += 1
    for (namespace, status), n in sorted(counts.items()):
        print(f"{n:>7}  {status:<11} {namespace}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from furu._metadata import MetadataManager
    from furu._state import StateManager

    if len(args.target) == 1:
        furu_dir = Path(args.target[0])
    else:
        namespace, digest = args.target
        matches = [
            e.furu_dir for e in _entries(args) if (e.namespace, e.hash) == (namespace, digest)
        ]
        if not matches:
            root = args.root or FURU_CONFIG.base_root
            print(f"furu: no step {namespace} {digest} in {root}", file=sys.stderr)
            return 1
        furu_dir = matches[0]
    state = StateManager(furu_dir).read()
    metadata = MetadataManager.read(furu_dir)
    out = {
        "furu_dir": str(furu_dir),
        "state": state.to_json(),
        "metadata": metadata.to_json() if metadata else None,
    }
    print(json.dumps(out, indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="furu", description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="the store (default: FURU_PATH)")
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("ls", help="list steps")
    ls.add_argument("--namespace", help="only classes whose namespace starts with this")
    ls.add_argument("--status", help="only this result or attempt status")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(run=_ls)
    status = sub.add_parser("status", help="counts per class and status")
    status.add_argument("--namespace", help="only classes whose namespace starts with this")
    status.set_defaults(run=_status)
    show = sub.add_parser("show", help="state and metadata of one step")
    show.add_argument("target", nargs="+", help="NAMESPACE HASH, or the step's directory")
    show.set_defaults(run=_show, namespace=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "show" and len(args.target) > 2:
        print("furu show: give NAMESPACE HASH, or one directory", file=sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except FuruError as exc:
        print(f"furu: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `furu ls | head`: the reader left, which is fine
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
