"""`python -m furu_slurm reconcile`: record the end of SLURM jobs nobody watched (see `_reconcile`)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m furu_slurm", description="furu-slurm's maintenance commands."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser(
        "reconcile",
        help="record how SLURM jobs that nobody watched ended (the store is FURU_PATH)",
        description=(
            "Find steps whose latest attempt is a SLURM job still recorded queued, running or "
            "preempted, ask sacct once, and record how each job that ended really ended. The "
            "store is the one FURU_PATH names (furu's default otherwise)."
        ),
    )
    rec.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    args = parser.parse_args(argv)

    from furu import FURU_CONFIG
    from furu_slurm._reconcile import reconcile

    rows = reconcile(dry_run=args.dry_run)
    if not rows:
        print(f"no unfinished SLURM attempts in {FURU_CONFIG.base_root}")
        return 0
    verb = "would record" if args.dry_run else "recorded"
    for row in rows:
        change = f"{verb} {row.now}" if row.now else "left as it is"
        print(
            f"{row.job_id:>14}  {row.scheduler_state:<13} {row.was:<10} {change:<22} {row.furu_dir}"
        )
    changed = sum(1 for r in rows if r.now)
    print(f"{len(rows)} unfinished SLURM attempt(s); {changed} {verb}", file=sys.stderr)
    if all(r.scheduler_state == "UNKNOWN" for r in rows):
        print(
            "sacct listed none of these jobs: is sacct on PATH and slurmdbd reachable? "
            "(its accounting may also have forgotten old jobs)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
