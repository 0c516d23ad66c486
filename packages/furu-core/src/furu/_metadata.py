"""What a step records about how it was made: its config, the code's git state, the machine.

Git is asked once per process (five quick `git` calls), so every create after the first pays
nothing for it. A diff larger than `FURU_MAX_GIT_PATCH_BYTES` is truncated with a note, and a
directory that is not a git checkout (or a machine without git) records `None`.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError
from furu._settings import FURU_CONFIG
from furu._state import current_user, now_iso
from furu._store import (
    FURU_DIR,
    HOSTNAME,
    METADATA_FILE,
    METADATA_MAX_BYTES,
    METADATA_WHAT,
    read_json,
    write_json_atomic,
)

METADATA_SCHEMA = 1
_GIT_TIMEOUT_SEC = 10.0


def _git(*args: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            timeout=_GIT_TIMEOUT_SEC,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.decode(errors="replace").strip()


def _truncate_patch(patch: str, limit: int) -> str:
    data = patch.encode()
    if len(data) <= limit:
        return patch
    kept = data[:limit].decode(errors="ignore")
    return (
        f"{kept}\n[furu: diff truncated to {limit} of {len(data)} bytes; set "
        "FURU_MAX_GIT_PATCH_BYTES to keep more, or FURU_IGNORE_DIFF=1 to skip it]\n"
    )


_adopted_git: dict[str, Any] | None = None


def adopt_git_info(info: dict[str, Any]) -> None:
    """Record `info` (another process's `git_info`) as this process's git state.

    A job started by a scheduler runs the code its submitter had: it records the submitter's
    git state instead of asking git again (five subprocesses per job).
    """
    global _adopted_git
    _adopted_git = dict(info)


def current_git_info() -> dict[str, Any]:
    """The git state to record: adopted from a submitter, else asked of git once."""
    if _adopted_git is not None:
        return _adopted_git
    return git_info(FURU_CONFIG.ignore_git_diff, FURU_CONFIG.max_git_patch_bytes)


@functools.cache
def git_info(ignore_diff: bool, patch_limit: int) -> dict[str, Any]:
    """The git state of the working directory, once per process and setting."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return dict.fromkeys(("git_commit", "git_branch", "git_remote", "git_patch"), None) | {
            "git_submodules": {}
        }
    patch = None if ignore_diff else _git("diff", "HEAD", "--no-color", "--no-ext-diff")
    submodules: dict[str, str] = {}
    for line in (_git("submodule", "status") or "").splitlines():
        parts = line.strip().lstrip("+-U").split()
        if len(parts) >= 2:
            submodules[parts[1]] = parts[0]
    return {
        "git_commit": commit,
        "git_branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "git_remote": _git("remote", "get-url", "origin"),
        "git_patch": _truncate_patch(patch, patch_limit) if patch else patch,
        "git_submodules": submodules,
    }


@functools.cache
def _environment() -> dict[str, Any]:
    import platform

    return {
        "python_version": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "hostname": HOSTNAME,
        "user": current_user(),
    }


@dataclass(frozen=True)
class Metadata:
    """The record in `.furu/metadata.json` (see the README's metadata table)."""

    furu_namespace: str
    furu_hash: str
    furu_path: str
    furu_python_def: str
    furu_obj: dict[str, Any]
    class_bases: list[str]
    dependencies: list[dict[str, str]]
    config_schema: list[dict[str, Any]]
    version_controlled: bool
    git_commit: str | None
    git_branch: str | None
    git_remote: str | None
    git_patch: str | None
    git_submodules: dict[str, str]
    timestamp: str
    command: str
    python_version: str
    executable: str
    platform: str
    hostname: str
    user: str
    pid: int
    schema: int = METADATA_SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_METADATA_FIELDS = frozenset(Metadata.__dataclass_fields__)


class MetadataManager:
    """Builds, writes and reads `.furu/metadata.json`."""

    @staticmethod
    def build(step_record: dict[str, Any]) -> Metadata:
        """Combine what the step knows about itself with git and the machine."""
        git = current_git_info()
        return Metadata(
            **step_record,
            **git,
            **_environment(),
            timestamp=now_iso(),
            command=" ".join(sys.argv) or sys.executable,
            pid=os.getpid(),
        )

    @staticmethod
    def write(furu_dir: Path, metadata: Metadata) -> None:
        write_json_atomic(furu_dir / FURU_DIR / METADATA_FILE, metadata.to_json())
        from furu._journal import record

        record(furu_dir, "metadata")

    @staticmethod
    def read(furu_dir: Path) -> Metadata | None:
        """The step's metadata; None when it was never attempted."""
        path = furu_dir / FURU_DIR / METADATA_FILE
        data = read_json(path, what=METADATA_WHAT, max_bytes=METADATA_MAX_BYTES)
        if data is None:
            return None
        # Keys a newer furu added are kept in `extra`, so its stores stay readable here.
        known = {k: v for k, v in data.items() if k in _METADATA_FIELDS}
        unknown = {k: v for k, v in data.items() if k not in _METADATA_FIELDS}
        if unknown:
            extra = known.get("extra")
            known["extra"] = {**(extra if isinstance(extra, dict) else {}), **unknown}
        try:
            return Metadata(**known)
        except TypeError as exc:
            raise FuruStoreError(
                f"{path} does not match furu's metadata format ({exc}); it may come from another "
                "furu version. Delete it and rerun the step to rewrite it.",
                path=path,
            ) from None
