"""`furu migrate`: migrate stored experiments to the current code, or undo a migration.

```
furu migrate CLASS [--default] [--set F=V]... [--rename OLD=NEW]... [--hash H]...
                   [--where F=V]... [--dry-run] [--json] [--yes]
furu migrate --undo REF [--json]
```
CLASS is `package.module.Class` (or `package.module:Class`), imported from the current
directory or the environment. Values are JSON when they parse as JSON, else strings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from furu._errors import FuruConfigError


def register(subparsers: Any) -> None:
    """Add `migrate` to the `furu` command's subcommands."""
    parser = subparsers.add_parser(
        "migrate",
        help="reuse stored results under the current code's hashes (alias directories), "
        "or undo a migration",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("cls", nargs="?", metavar="CLASS", help="package.module.Class")
    parser.add_argument("--default", action="store_true", help="new fields take their default")
    parser.add_argument(
        "--set", action="append", default=[], metavar="F=V", help="value of a (new) field"
    )
    parser.add_argument(
        "--rename", action="append", default=[], metavar="OLD=NEW", help="a renamed field"
    )
    parser.add_argument(
        "--hash", action="append", default=None, metavar="H", help="only this experiment (prefix)"
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="F=V",
        help="only stored configs whose field F (dotted path) equals V",
    )
    parser.add_argument("--dry-run", action="store_true", help="show old -> new, change nothing")
    parser.add_argument("--json", action="store_true", help="print JSON (for tools)")
    parser.add_argument("--yes", action="store_true", help="apply without asking")
    parser.add_argument("--undo", metavar="REF", help="remove the alias REF names (or its aliases)")
    parser.set_defaults(run=_migrate, namespace=None)


def parse_value(text: str) -> Any:
    """A command-line value: JSON when it parses (`true`, `3`, `[1, 2]`), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise FuruConfigError(
                f"{flag} {item!r} is not NAME=VALUE; write e.g. {flag} average=false."
            )
        out[key.strip()] = value
    return out


def _store(args: argparse.Namespace) -> Any:
    """The store `--root` names (else `FURU_PATH`); aliases are written there too."""
    from furu._settings import set_furu_root
    from furu._workspace import Store

    if args.root:
        set_furu_root(args.root)
    return Store.current()


def _migrate(args: argparse.Namespace) -> int:
    if args.undo:
        return _undo(args)
    if not args.cls:
        raise FuruConfigError(
            "furu migrate needs a CLASS (package.module.Class), or --undo REF to undo a migration."
        )
    from furu._migration_plan import migrate

    cls = _import_class(args.cls)
    values = {k: parse_value(v) for k, v in _pairs(args.set, "--set").items()}
    wanted = {k: parse_value(v) for k, v in _pairs(args.where, "--where").items()}
    options: dict[str, Any] = {
        "hashes": args.hash,
        "where": _matcher(wanted) if wanted else None,
        "values": values,
        "renames": _pairs(args.rename, "--rename"),
        "default": args.default,
        "store": _store(args),
    }
    plan = migrate(cls, dry_run=True, **options)
    if not args.dry_run and plan.migrations and not args.yes:
        print(plan.describe(), file=sys.stderr)
        if not sys.stdin.isatty():
            raise FuruConfigError(
                "furu migrate changes the store: pass --yes to apply the plan above without "
                "asking, or --dry-run to only show it."
            )
        answer = input(f"Apply {len(plan.migrations)} migration(s)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.", file=sys.stderr)
            return 1
    if not args.dry_run:
        plan = migrate(cls, dry_run=False, **options)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2, default=str))
    else:
        print(plan.describe())
    return 1 if plan.counts()["failed"] else 0


def _undo(args: argparse.Namespace) -> int:
    from furu._migration import undo_migration

    undone = undo_migration(args.undo, store=_store(args))
    if args.json:
        print(json.dumps({"undone": [vars(u) for u in undone]}, indent=2))
    for u in undone:
        if not args.json:
            print(f"Removed the alias {u.alias} (it pointed to {u.migrated_from}, which is kept).")
    return 0


def _matcher(wanted: dict[str, Any]) -> Any:
    from furu._tagged import config_leaves

    def matches(config: dict[str, Any]) -> bool:
        leaves = dict(config_leaves(config))
        return all(k in leaves and leaves[k] == v for k, v in wanted.items())

    return matches


def _import_class(name: str) -> type:
    from furu._furu import Furu
    from furu._serialization import import_qualified

    if os.getcwd() not in sys.path:  # like `python -m`: the project's own modules import
        sys.path.insert(0, os.getcwd())
    try:
        found = import_qualified(name)
    except FuruConfigError as exc:
        raise FuruConfigError(
            f"{exc} furu migrate imports CLASS from the current directory ({os.getcwd()}) and "
            "the environment: run it from the project's root, in the project's environment, "
            "or add the project to PYTHONPATH."
        ) from None
    if not (isinstance(found, type) and issubclass(found, Furu)):
        raise FuruConfigError(
            f"{name!r} is {found!r}, not a furu step class; give package.module.Class of a "
            "furu.Furu subclass."
        )
    return found
