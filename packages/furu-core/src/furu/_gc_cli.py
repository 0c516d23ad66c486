"""`furu du` and `furu gc`: how much a store holds, and cleaning it up.

```
furu du [--by class|namespace|status|age] [--json]      steps, bytes, share; shared areas
furu gc POLICY... [--keep-tag TAG]... [--dry-run | --yes] [--json]
        POLICY: --failed --incomplete-older-than D --orphaned --superseded --older-than D
furu gc --journal-only [--yes] [--json]                 compact the journal only
```
Without `--yes`, `furu gc` is a dry run: it prints what it would delete (per class), what is
protected and why; on a terminal it then asks whether to proceed (no: exit 1). D is `30s`, `15m`, `12h`, `7d`,
`2w`. Steps tagged `keep` or `pin` (and `--keep-tag`s) and everything they depend on are kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from furu._errors import FuruConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `du` and `gc` to the `furu` command's subparsers."""
    du = sub.add_parser("du", help="disk use of the store: per class, namespace, status or age")
    du.add_argument(
        "--by",
        choices=("class", "namespace", "status", "age"),
        default="class",
        help="group steps by this (default: class)",
    )
    du.add_argument("--json", action="store_true", help="print JSON")
    du.set_defaults(run=_du)
    gc = sub.add_parser(
        "gc",
        help="delete failed, unfinished, orphaned, superseded or old experiments (a dry run "
        "without --yes); keeps what keep/pin-tagged experiments need",
        description="Delete the experiments the policies pick. Without --yes it is a dry run "
        "(on a terminal it then asks): per class, what would be deleted, and what is kept and "
        "why. Never deleted: running or queued steps, steps whose compute lock a live process "
        "holds, steps tagged keep/pin (or --keep-tag) and everything they depend on, the "
        "result a kept migration alias reads through. It also compacts the journal. "
        "D is a duration: 30s, 15m, 12h, 7d, 2w (0d: everything).",
    )
    policy = gc.add_argument_group("policies (at least one, or --journal-only)")
    policy.add_argument("--failed", action="store_true", help="steps whose last attempt failed")
    policy.add_argument(
        "--incomplete-older-than",
        metavar="D",
        help="steps without a result (crashed, cancelled, never finished) older than D",
    )
    policy.add_argument(
        "--orphaned",
        action="store_true",
        help="results of classes gone from the code manifest (run `furu manifest` first)",
    )
    policy.add_argument(
        "--superseded", action="store_true", help="stale results that were migrated"
    )
    policy.add_argument("--older-than", metavar="D", help="every step older than D")
    gc.add_argument(
        "--keep-tag",
        action="append",
        default=[],
        metavar="TAG",
        help="also keep steps tagged TAG and their dependencies (keep and pin always are)",
    )
    gc.add_argument(
        "--journal-only", action="store_true", help="only compact the journal (no policy)"
    )
    gc.add_argument(
        "--journal-idle",
        metavar="D",
        default="7d",
        help="another host's journal file untouched this long is finished (default 7d)",
    )
    how = gc.add_mutually_exclusive_group()
    how.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    how.add_argument("--yes", action="store_true", help="delete without asking")
    gc.add_argument("--json", action="store_true", help="print JSON")
    gc.set_defaults(run=_gc, gc_parser=gc)


def _store(args: argparse.Namespace) -> Any:
    from furu._settings import FURU_CONFIG
    from furu._workspace import Store

    root = Path(args.root) if args.root else FURU_CONFIG.base_root
    return Store(root, version_controlled_root=FURU_CONFIG.version_controlled_root)


# ---------------------------------------------------------------- du


def _du(args: argparse.Namespace) -> int:
    from furu._usage import disk_usage

    usage = disk_usage(_store(args))
    if args.json:
        print(json.dumps(usage.to_json(args.by)))
        return 0
    print(du_table(usage, args.by))
    return 0


def du_table(usage: Any, by: str) -> str:
    """`furu du`'s table: a row per group, the steps' total, each shared area, the total."""
    from furu._usage import human_bytes

    rows = usage.by(by)
    names = {"raw/steps": "raw/steps/ (no step)", "trash": "half-deleted steps"}
    areas = {
        names.get(name, f"{name}/"): size
        for name, size in usage.areas.items()
        if name != "other" and (name != "trash" or size.bytes)
    }
    labels = [by.upper(), *(r.key for r in rows), "steps (with their raw dirs)", *areas]
    width = max(len(label) for label in labels)
    lines = [f"{by.upper():<{width}}  {'STEPS':>7}  {'SIZE':>10}  {'SHARE':>6}"]
    for r in rows:
        lines.append(f"{r.key:<{width}}  {r.steps:>7}  {human_bytes(r.bytes):>10}  {r.share:>6.1%}")
    steps = usage.steps_size
    lines.append(
        f"{'steps (with their raw dirs)':<{width}}  {len(usage.steps):>7}  "
        f"{human_bytes(steps.bytes):>10}"
    )
    for label, size in areas.items():
        lines.append(f"{label:<{width}}  {'':>7}  {human_bytes(size.bytes):>10}")
    total = usage.total
    lines.append(
        f"{'total':<{width}}  {'':>7}  {human_bytes(total.bytes):>10}  "
        f"({human_bytes(total.disk)} on disk)"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- gc


def _gc(args: argparse.Namespace) -> int:
    from furu._gc import POLICY_FLAGS, parse_duration, plan_gc, policy_given

    store = _store(args)
    idle = parse_duration(args.journal_idle, flag="--journal-idle")
    if args.journal_only:
        return _journal_only(args, store, idle)
    policies = {
        "failed": args.failed,
        "incomplete_older_than": _duration(args.incomplete_older_than, "--incomplete-older-than"),
        "orphaned": args.orphaned,
        "superseded": args.superseded,
        "older_than": _duration(args.older_than, "--older-than"),
    }
    if not any(policy_given(v) for v in policies.values()):
        args.gc_parser.error(
            f"give at least one policy: {', '.join(POLICY_FLAGS)}; or --journal-only"
        )
    keep = tuple(dict.fromkeys(["keep", "pin", *args.keep_tag]))
    plan = plan_gc(store, keep_tags=keep, journal_idle=idle, **policies)
    pending = plan.candidates or plan.trash
    ask = not args.yes and not args.dry_run and pending and sys.stdin.isatty()
    if ask and not _confirm(plan):
        print("Nothing deleted.", file=sys.stderr)
        return 1
    if args.yes or ask:
        report = plan.run()
        if args.json:
            print(json.dumps({**plan.to_json(), "dry_run": False, **report.to_json()}))
            return 0
        if not ask:  # the question showed the plan already
            print(plan.describe())
        print(report.describe())
        return 0
    if args.json:
        print(json.dumps({**plan.to_json(), "dry_run": True}))
    else:
        print(plan.describe())
    if plan.candidates:
        print(
            f"Dry run: nothing deleted. Run again with --yes to delete these "
            f"{len(plan.candidates)} step(s) and compact the journal.",
            file=sys.stderr,
        )
    return 0


def _duration(text: str | None, flag: str) -> float | None:
    from furu._gc import parse_duration

    return None if text is None else parse_duration(text, flag=flag)


def _confirm(plan: Any) -> bool:
    """Show the plan (on stderr) and ask on the terminal whether to delete it."""
    print(plan.describe(), file=sys.stderr)
    answer = input(f"Delete {len(plan.candidates)} step(s)? Proceed? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _journal_only(args: argparse.Namespace, store: Any, idle: float) -> int:
    if (
        args.failed
        or args.orphaned
        or args.superseded
        or args.older_than
        or (args.incomplete_older_than)
    ):
        raise FuruConfigError(
            "--journal-only compacts the journal and deletes nothing; drop the policies, or "
            "drop --journal-only to collect garbage (the journal is compacted then too)."
        )
    done = store.journal.compact(idle_after=idle, dry_run=not args.yes)
    if args.json:
        print(json.dumps({"journal": done.to_json()}))
    else:
        print(done.describe())
    if not args.yes and done.merged:
        print("Dry run: nothing merged. Run again with --yes to compact.", file=sys.stderr)
    return 0
