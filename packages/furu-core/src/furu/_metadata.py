"""What a step records about how it was made: its config, the code's git state, the machine.

Git is asked once per process, so every create after the first pays nothing for it. The code
state (commit, exact diff, untracked files) is stored once per store in `<root>/code/<id>/`
(`furu._code_state`) and only referenced here, with the commit and a short summary; a directory
that is not a git checkout (or a machine without git) records `None`.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from furu import _code_state
from furu._errors import FuruStoreError
from furu._logging import get_logger
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

METADATA_SCHEMA = 2
"""2: the code state is referenced (`code_state`), no longer inlined (`git_patch`)."""
_GIT_FIELDS = ("git_commit", "git_branch", "git_remote", "git_submodules", "code_state")
_log = get_logger()
_adopted_git: dict[str, Any] | None = None


def adopt_git_info(info: dict[str, Any]) -> None:
    """Record `info` (another process's `current_git_info()`) as this process's git state.

    A job started by a scheduler runs the code its submitter had: it records the submitter's
    git state (a few short fields: the code state itself is in the store already) instead of
    asking git again.
    """
    global _adopted_git
    _adopted_git = dict(info)


def current_git_info() -> dict[str, Any]:
    """The git fields to record: adopted from a submitter, else asked of git once.

    Asking git also writes the code state into the store (once per process and store).
    """
    if _adopted_git is not None:
        return _adopted_git
    config = FURU_CONFIG
    return git_info(
        config.base_root,
        config.ignore_git_diff,
        config.max_git_patch_bytes,
        config.max_untracked_bytes,
        config.max_untracked_files,
    )


def git_info(
    store_root: Path,
    ignore_diff: bool,
    max_diff: int,
    max_untracked_bytes: int,
    max_untracked_files: int,
) -> dict[str, Any]:
    """The git fields of `metadata.json` for the working directory's repository.

    The code state (the diff and untracked files) is captured once per process and limits,
    and written into `<store_root>/code/` once per store; `code_state` names it. With
    `ignore_diff` (`FURU_IGNORE_DIFF`), only the commit is recorded.
    """
    repo = _code_state.repo_info()
    if repo is None:
        return dict.fromkeys(("git_commit", "git_branch", "git_remote", "code_state"), None) | {
            "git_submodules": {}
        }
    info: dict[str, Any] = {
        "git_commit": repo.commit,
        "git_branch": repo.branch,
        "git_remote": repo.remote,
        "git_submodules": _submodules(repo.top),
        "code_state": None,
    }
    if ignore_diff:
        return info
    captured = _code_state.capture(max_diff, max_untracked_bytes, max_untracked_files)
    if captured is None:  # the repository changed under us (e.g. HEAD removed)
        return info
    try:
        state = _code_state.ensure_written(store_root, captured)
    except OSError as exc:
        _log.warning(
            "could not record the code state in %s (%s); steps record the commit only",
            _code_state.code_root(store_root),
            exc,
        )
        return info | {"code_state": captured.state.summary() | {"id": None}}
    return info | {"code_state": state.summary()}


@functools.cache
def _submodules(top: str) -> dict[str, str]:
    submodules: dict[str, str] = {}
    out = _code_state.git_text(top, "submodule", "status")
    for line in (out or "").splitlines():
        parts = line.strip().lstrip("+-U").split()
        if len(parts) >= 2:
            submodules[parts[1]] = parts[0]
    return submodules


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
    git_submodules: dict[str, str]
    timestamp: str
    command: str
    python_version: str
    executable: str
    platform: str
    hostname: str
    user: str
    pid: int
    code_state: dict[str, Any] | None = field(default=None, kw_only=True)
    """The recorded code state's summary (`id`, `dirty`, counts; see `furu.CodeState`)."""
    schema: int = METADATA_SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def git_patch(self) -> str | None:
        """The diff a record written before code states inlined (None for newer records)."""
        patch = self.extra.get("git_patch")
        return patch if isinstance(patch, str) else None


_METADATA_FIELDS = frozenset(Metadata.__dataclass_fields__)


class MetadataManager:
    """Builds, writes and reads `.furu/metadata.json`."""

    @staticmethod
    def build(step_record: dict[str, Any]) -> Metadata:
        """Combine what the step knows about itself with git and the machine."""
        git = current_git_info()
        # Only the fields this furu records (a submitter may have sent more).
        fields: dict[str, Any] = {
            k: git.get(k, {} if k == "git_submodules" else None) for k in _GIT_FIELDS
        }
        return Metadata(
            **step_record,
            **fields,
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
