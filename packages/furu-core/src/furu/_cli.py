"""`furu`: look at a store from the shell, and fix it.

```
furu ls [--namespace PREFIX] [--status STATUS] [--json]   every step, with its status (vc marked)
furu status                                               counts per class and status
furu show NAMESPACE HASH | furu show REF | furu show DIR  state and metadata of one step
furu checkout REF DIR                                     recreate the code that made a step
furu manifest [MODULE ...] [--project DIR]                write the code manifest (manifest.json)
furu dag [MODULE ...] [--mermaid | --json]                the class graph of the code
furu stale [MODULE ...] [--json]                          stale experiments, grouped by cause
furu migrate CLASS [--default] [--set F=V] [--rename O=N] [--hash H] [--where F=V] [--dry-run]
furu migrate --undo REF                                   remove a migration's alias
furu explain TARGET [TARGET ...] [--json]                 why steps would be created (module:attr)
furu diff A B [--json]                                    two stored experiments, field by field
furu deps REF [--transitive] [--tree] [--json]            what a step was made from
furu rdeps REF [--transitive] [--tree] [--json]           what was made from a step
furu invalidate REF... [--dependents] [--yes] [--json]    drop results (asks first; --yes)
furu rm REF... [--dependents] [--yes] [--json]            delete steps (asks first; --yes)
furu tui [--filter TEXT] [--refresh SECS]                 the terminal dashboard (furu-server)
furu export REF... -o BUNDLE.tar [--no-deps] [--json]     pack steps + dependencies into a tar
furu import BUNDLE.tar [--dry-run] [--json]               verify a bundle, add its steps here
furu du [--by class|namespace|status|age] [--json]        disk use: steps, raw dirs, shared areas
furu gc POLICY... [--keep-tag T] [--dry-run|--yes]        delete failed/old/orphaned experiments
```
`show` prints JSON, and on stderr what the latest attempt used (wall, CPU, peak memory, GPU).
REF is `namespace/hash`, a hash prefix, `Class/hash-prefix` or the step's directory
(`furu.find_step`). The store is `FURU_PATH` (or `--root`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from furu import _bundle_cli, _explain_cli, _gc_cli, _migration_cli, _ops_cli
from furu._errors import FuruError, FuruStoreError
from furu._manifest_cli import register as register_manifest
from furu._settings import FURU_CONFIG
from furu._state import ResultStatus, StepState
from furu._step_dir import StepDir
from furu._workspace import Store


def _store(args: argparse.Namespace) -> Store:
    """The store `--root` (or `FURU_PATH`) names, with the version-controlled root furu uses
    (`FURU_VERSION_CONTROLLED_PATH`, else `furu-data/artifacts` beside the project)."""
    root = Path(args.root) if args.root else FURU_CONFIG.base_root
    try:
        vc_root: Path | None = FURU_CONFIG.vc_root()
    except FuruError:  # outside a project and no FURU_VERSION_CONTROLLED_PATH: none to list
        vc_root = None
    return Store(root, version_controlled_root=vc_root)


def _entries(args: argparse.Namespace) -> list[StepDir]:
    found = [
        d
        for d in _store(args).step_dirs()
        if not args.namespace or d.namespace.startswith(args.namespace)
    ]
    return sorted(found, key=lambda d: d.id)


def _state(step_dir: StepDir) -> StepState:
    """The healed state; a damaged state file reads as incomplete (the listing goes on)."""
    try:
        return step_dir.read_state()
    except FuruStoreError:
        return StepState(ResultStatus.INCOMPLETE)


def _ls(args: argparse.Namespace) -> int:
    rows = []
    for entry in _entries(args):
        state = _state(entry)
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
                "version_controlled": entry.version_controlled,
                "furu_dir": str(entry.path),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        last = row["attempt_status"] or "-"
        vc = "vc" if row["version_controlled"] else "-"
        print(f"{row['result_status']:<11} {last:<10} {vc:<2} {row['namespace']} {row['hash']}")
    print(f"{len(rows)} step(s) under {args.root or FURU_CONFIG.base_root}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    counts: Counter[tuple[str, str]] = Counter()
    for entry in _entries(args):
        counts[(entry.namespace, _state(entry).result_status.value)] += 1
    for (namespace, status), n in sorted(counts.items()):
        print(f"{n:>7}  {status:<11} {namespace}")
    return 0


def _find(args: argparse.Namespace, target: str) -> StepDir:
    """The step `target` names: any reference `furu.find_step` accepts, or its directory."""
    from furu._ops import find_step

    return find_step(_store(args), target)


def _show(args: argparse.Namespace) -> int:
    # `furu show NAMESPACE HASH` is `furu show NAMESPACE/HASH` (a hash prefix works too)
    step_dir = _find(args, "/".join(args.target))
    state = step_dir.read_state()
    out = {
        "furu_dir": str(step_dir.path),
        "state": state.to_json(),
        "metadata": step_dir.read_metadata(),
    }
    print(json.dumps(out, indent=2, default=str))
    attempt = state.attempt
    if attempt is not None and attempt.resources is not None:
        print(
            f"attempt {attempt.number} ({attempt.status.value}) used: "
            f"{attempt.resources.describe()}",
            file=sys.stderr,
        )
    return 0


def _checkout(args: argparse.Namespace) -> int:
    from furu._code_state import checkout
    from furu._tagged import render_config

    step_dir = _find(args, args.step)
    metadata = step_dir.read_metadata()
    if metadata is None:
        raise FuruStoreError(
            f"{step_dir.id} has no metadata.json, so no code state is recorded for it; it was "
            "never attempted, or its .furu/ directory was emptied.",
            path=step_dir.metadata_path,
        )
    done = checkout(metadata, step_dir.store.root, Path(args.dir))
    state = done.state
    what = [f"commit {done.commit[:12]}"]
    if state is not None and state.changed_files:
        what.append(f"the diff of {state.changed_files} file(s)")
    if state is not None and state.untracked:
        what.append(f"{len(state.untracked)} untracked file(s)")
    print(f"Recreated the code of {step_dir.id} in {done.directory} ({', '.join(what)}).")
    if done.how == "worktree":
        print(
            f"It is a git worktree of this repository: `git worktree remove --force {args.dir}` "
            "removes it."
        )
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    print("\nTo rerun the step there (FURU_PATH chooses the store it writes to):")
    print(f"  cd {done.directory}")
    config = metadata.get("furu_obj")
    if isinstance(config, dict):
        try:
            rendered = render_config(config)
        except FuruError:
            rendered = None
        if rendered is not None:
            code = "; ".join([*rendered.imports, f"{rendered.expression}.load_or_create()"])
            print(f"  python -c {_quote(code)}")
    command = metadata.get("command")
    if isinstance(command, str) and command:
        print(f"or run what created it:\n  {command}")
    return 0


def _tui(args: argparse.Namespace) -> int:
    """`furu tui`: the terminal dashboard, which furu-server provides (it reuses its index)."""
    from importlib.metadata import entry_points

    found = list(entry_points(group="furu.tui"))
    if not found:
        raise FuruError(
            "`furu tui` is part of furu-server (it reuses the dashboard's index and filter "
            "language): install it with `pip install furu-server`, then run `furu tui` again."
        )
    run = found[0].load()
    argv = [*(["--root", args.root] if args.root else []), *args.tui_args]
    return int(run(argv))


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


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
    show.add_argument(
        "target",
        nargs="+",
        help="namespace/hash, NAMESPACE HASH, a hash prefix, Class/hash-prefix, or the "
        "step's directory",
    )
    show.set_defaults(run=_show, namespace=None)
    checkout = sub.add_parser(
        "checkout",
        help="recreate the code that made a step: a git worktree at its commit with its "
        "uncommitted diff and untracked files",
    )
    checkout.add_argument(
        "step", help="namespace/hash, a hash prefix, Class/hash-prefix, or the step's directory"
    )
    checkout.add_argument("dir", help="a new (or empty) directory for the working tree")
    checkout.set_defaults(run=_checkout)
    tui = sub.add_parser(
        "tui",
        help="the terminal dashboard: browse, filter, inspect and act on experiments",
        add_help=False,
    )
    tui.add_argument("tui_args", nargs=argparse.REMAINDER)
    tui.set_defaults(run=_tui)
    register_manifest(sub)
    _migration_cli.register(sub)
    _explain_cli.register(sub)
    _ops_cli.register(sub)
    _bundle_cli.register(sub)
    _gc_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `furu tui --filter X`: argparse's REMAINDER does not take options that come first, so
    # what the parser does not know is handed to the TUI (any other command still refuses it).
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "tui":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.tui_args = [*extra, *args.tui_args]
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
