"""Attempt-private staging: `_create` writes into a directory no other attempt ever uses.

```
<hash>/.furu/attempts/<attempt id>/   what `self.furu_dir` is while `_create` runs
<hash>/<outputs>                      moved here one rename each, then SUCCESS.json, at publish
```

A holder that lost its lock (frozen past its lease, then resumed) keeps writing, but only into
its own staging directory: the attempt that replaced it has another one. Publishing moves each
staged entry into the step directory with an exclusive operation (a hard link for a file, a
fresh `mkdir` then `rename` for a directory) and claims `SUCCESS.json` the same way, so two
attempts can never mix their files in one result; the loser of a race moves its entries back
(see ADR 0004).

Checkpoint-resume still works: a new attempt starts from what the previous, unpublished attempt
left. It takes that directory over by `rename` when the previous holder provably stopped
writing (it recorded how it ended, or it was a process of this host that is gone), and copies
it otherwise (a holder on another host whose lease ran out may only be frozen).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from furu._lock import pid_alive
from furu._logging import get_logger
from furu._state import AttemptStatus, StepState
from furu._store import ATTEMPTS_DIR, FURU_DIR, HOSTNAME, fsync_dir, temp_name, write_all

_log = get_logger()
_STILL_WRITING = (AttemptStatus.RUNNING, AttemptStatus.QUEUED)


class PublishConflict(Exception):
    """Another attempt published into the step directory first."""


def attempts_dir(furu_dir: Path) -> Path:
    return furu_dir / FURU_DIR / ATTEMPTS_DIR


def prepare(
    furu_dir: Path, attempt_id: str, previous: StepState | None, *, recompute: bool
) -> Path:
    """Make the staging directory of attempt `attempt_id` (the lock is held) and return it.

    `recompute`: a published result is being replaced (forced, or `_validate()` refused it);
    its outputs are discarded, so the new attempt starts clean. Otherwise the attempt starts
    from what an earlier attempt left: its staging directory, and any output files lying in
    the step directory without a result (left by `invalidate`, or by an older furu).
    """
    attempts = attempts_dir(furu_dir)
    attempts.mkdir(exist_ok=True)
    for leftover in attempts.glob(".discard-*"):  # a removal that was cut short
        shutil.rmtree(leftover, ignore_errors=True)
    staging = attempts / attempt_id
    earlier = _resumable(attempts, previous)
    if earlier is None or recompute:
        staging.mkdir()
    elif _stopped_writing(earlier.name, previous):
        os.rename(earlier, staging)
        _log.info("resuming from the files of attempt %s", earlier.name[:8])
    else:
        shutil.copytree(earlier, staging, symlinks=True)
        _log.info(
            "resuming from a copy of the files of attempt %s, whose holder may still be "
            "running elsewhere",
            earlier.name[:8],
        )
    for entry in _outputs(furu_dir):
        target = staging / entry.name
        if recompute or os.path.lexists(target):
            _discard(Path(entry.path), attempts)
        else:
            os.rename(entry.path, target)
    return staging


def publish(staging: Path, furu_dir: Path, marker: Path, marker_data: bytes) -> None:
    """Move the staged outputs into `furu_dir`, then claim `marker`; all or nothing.

    Raises:
        PublishConflict: something of the same name is there already (another attempt
            published); what this call moved is moved back into `staging`.
    """
    moved: list[tuple[Path, Path]] = []
    try:
        for entry in sorted(os.scandir(staging), key=lambda e: e.name):
            source, target = Path(entry.path), furu_dir / entry.name
            _move_exclusive(source, target, entry.is_dir(follow_symlinks=False))
            moved.append((source, target))
        _claim_marker(marker, marker_data)
    except BaseException:
        for source, target in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(target, source)
        raise
    with contextlib.suppress(OSError):
        staging.rmdir()
    for stale in _staging_dirs(staging.parent):
        _discard(stale, None)
    with contextlib.suppress(OSError):  # a published step keeps no trace of its attempts
        staging.parent.rmdir()


def _move_exclusive(source: Path, target: Path, is_dir: bool) -> None:
    try:
        if is_dir:
            # rename() onto an empty directory would replace it; claim the name first.
            target.mkdir()
            os.rename(source, target)
        else:
            os.link(source, target, follow_symlinks=False)
            os.unlink(source)
    except FileExistsError:
        raise PublishConflict(f"{target} already exists") from None


def _claim_marker(marker: Path, data: bytes) -> None:
    """Create `marker` durably (fsync file and directory), failing if it exists."""
    tmp = temp_name(marker)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, marker)
    except FileExistsError:
        raise PublishConflict(f"{marker} already exists") from None
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(marker.parent)


def _staging_dirs(attempts: Path) -> list[Path]:
    try:
        return [
            Path(e.path)
            for e in os.scandir(attempts)
            if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
        ]
    except FileNotFoundError:
        return []


def _resumable(attempts: Path, previous: StepState | None) -> Path | None:
    """The staging directory the previous attempt left, else the newest one there is."""
    found = _staging_dirs(attempts)
    attempt = previous.attempt if previous is not None else None
    for path in found:
        if attempt is not None and path.name == attempt.id:
            return path
    return max(found, key=_mtime, default=None)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # published or removed meanwhile
        return 0.0


def latest_attempt_dir(furu_dir: Path, state: StepState | None) -> Path | None:
    """The staging directory of the attempt `state` names, else the newest one there is."""
    return _resumable(attempts_dir(furu_dir), state)


def _stopped_writing(attempt_id: str, previous: StepState | None) -> bool:
    """Whether the attempt that owns a staging directory can no longer write into it."""
    attempt = previous.attempt if previous is not None else None
    if attempt is None or attempt.id != attempt_id:
        return False
    if attempt.status not in _STILL_WRITING:
        return True
    pid = attempt.pid
    return (
        attempt.host == HOSTNAME and isinstance(pid, int) and pid > 0 and not pid_alive(pid, None)
    )


def _outputs(furu_dir: Path) -> list[os.DirEntry[str]]:
    return [e for e in os.scandir(furu_dir) if e.name != FURU_DIR]


def _discard(path: Path, attempts: Path | None) -> None:
    """Remove `path` (first renamed aside, so a half-finished removal leaves no outputs)."""
    aside = (attempts or path.parent) / f".discard-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        os.rename(path, aside)
    except OSError:
        aside = path
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink(missing_ok=True)
