"""The code that made a step: its commit, the exact uncommitted diff and untracked files.

```
<root>/code/<sha256>/        one directory per distinct code state, named by its digest
    manifest.json            commit, branch, remote, what was recorded and what was left out
    diff.patch               `git diff --binary HEAD`, byte for byte (applies with `git apply`)
    untracked.tar            the untracked, not-ignored files (absent when there are none)
```

A step's `metadata.json` holds only the commit and a short summary (`code_state`: the digest,
whether the tree was dirty, how many files changed); a sweep of 100,000 steps shares one
directory. The state is asked of git once per process (`capture`, cached) and written once per
store (`ensure_written`): into a private temporary directory, renamed onto its final name, so
concurrent writers of the same state never see each other's half-written files, and the loser of
a race simply drops its copy (the content is the same: the name is its digest).

Limits keep a huge working tree from filling the store: a file's diff that does not fit in
`FURU_MAX_GIT_PATCH_BYTES`, and untracked files beyond `FURU_MAX_UNTRACKED_BYTES` or
`FURU_MAX_UNTRACKED_FILES`, are left out, and the manifest lists what was (`left_out`), which
`furu checkout` repeats.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError
from furu._logging import get_logger
from furu._store import SMALL_FILE_MAX_BYTES, read_json, temp_name, write_bytes_atomic

CODE_DIR = "code"
MANIFEST_FILE = "manifest.json"
DIFF_FILE = "diff.patch"
UNTRACKED_FILE = "untracked.tar"
CODE_STATE_SCHEMA = 1
LEFT_OUT_LISTED = 100
"""At most this many left-out files are named in a manifest (the rest are counted)."""
_GIT_TIMEOUT_SEC = 30.0
_DIFF_HEADER = b"diff --git "
_HEX = frozenset("0123456789abcdef")
_log = get_logger()


def _git(cwd: str | None, *args: str) -> bytes | None:
    """The stdout of `git args` (bytes, untouched), or None when git fails or is missing."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT_SEC,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode(errors="replace").strip()


def git_text(cwd: str | None, *args: str) -> str | None:
    """`git args` in `cwd`, its output as stripped text; None when git fails or is missing."""
    return _text(_git(cwd, *args))


@dataclass(frozen=True)
class Repo:
    """The working directory's repository: its top directory, commit, branch and remote."""

    top: str
    commit: str
    branch: str | None
    remote: str | None


@functools.cache
def repo_info() -> Repo | None:
    """The working directory's repository, once per process; None outside one (or no commit)."""
    top = git_text(None, "rev-parse", "--show-toplevel")
    commit = git_text(top, "rev-parse", "--verify", "-q", "HEAD") if top else None
    if not top or not commit:
        return None
    return Repo(
        top,
        commit,
        git_text(top, "rev-parse", "--abbrev-ref", "HEAD"),
        git_text(top, "remote", "get-url", "origin"),
    )


@dataclass(frozen=True)
class CodeState:
    """A recorded code state: what `manifest.json` in `<root>/code/<id>/` says.

    Attributes:
        id: the sha256 digest naming it (of the commit, the diff and every untracked file).
        commit: the commit `HEAD` was at.
        branch: the branch (`HEAD` when detached), remote: `origin`'s URL, if any.
        diff_bytes: the size of `diff.patch`; changed_files: how many files it changes.
        untracked: the untracked files recorded in `untracked.tar`: `path`, `size`, `mode`
            (`file`, `executable` or `symlink`) and `sha256` each.
        left_out: files whose diff or content was not recorded (`path`, `what`: `diff` or
            `untracked`, `bytes`, `why`), at most `LEFT_OUT_LISTED` of them.
        left_out_count: how many were left out in all.
        directory: where it is stored (None until written).
    """

    id: str
    commit: str
    branch: str | None
    remote: str | None
    diff_bytes: int
    changed_files: int
    untracked: tuple[dict[str, Any], ...] = ()
    left_out: tuple[dict[str, Any], ...] = ()
    left_out_count: int = 0
    directory: Path | None = field(default=None, compare=False)

    @property
    def dirty(self) -> bool:
        """Whether the working tree differed from the commit (a diff or untracked files)."""
        return bool(self.diff_bytes or self.untracked or self.left_out_count)

    @property
    def complete(self) -> bool:
        """Whether everything was recorded (nothing was left out by a size limit)."""
        return self.left_out_count == 0

    def summary(self) -> dict[str, Any]:
        """What a step's `metadata.json` keeps inline (`code_state`): small, whatever the diff."""
        return {
            "id": self.id,
            "dirty": self.dirty,
            "changed_files": self.changed_files,
            "diff_bytes": self.diff_bytes,
            "untracked_files": len(self.untracked),
            "untracked_bytes": sum(int(u["size"]) for u in self.untracked),
            "left_out": self.left_out_count,
        }

    def manifest(self) -> dict[str, Any]:
        return {
            "schema": CODE_STATE_SCHEMA,
            "id": self.id,
            "commit": self.commit,
            "branch": self.branch,
            "remote": self.remote,
            "diff_bytes": self.diff_bytes,
            "changed_files": self.changed_files,
            "untracked": list(self.untracked),
            "left_out": list(self.left_out),
            "left_out_count": self.left_out_count,
        }

    def read_diff(self) -> bytes:
        """The recorded diff, byte for byte (empty when the tracked files were unchanged).

        Raises:
            FuruStoreError: `diff.patch` is not a regular file, or larger than the manifest
                says (it was edited).
        """
        from furu._store import read_regular_file

        if self.directory is None or not self.diff_bytes:
            return b""
        found = read_regular_file(
            self.directory / DIFF_FILE, what="recorded git diff", max_bytes=self.diff_bytes
        )
        return found or b""

    def read_diff_head(self, max_bytes: int) -> tuple[bytes, int]:
        """The first `max_bytes` of the recorded diff, and its full size (for a preview).

        Raises:
            FuruStoreError: `diff.patch` is a symlink, a FIFO or not a regular file.
        """
        from furu._store import _open_regular

        if self.directory is None or not self.diff_bytes:
            return b"", 0
        try:
            fd, info = _open_regular(self.directory / DIFF_FILE, os.O_RDONLY, "recorded git diff")
        except FileNotFoundError:
            return b"", 0
        try:
            chunks: list[bytes] = []
            size = 0
            while size < max_bytes and (chunk := os.read(fd, max_bytes - size)):
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks), info.st_size
        finally:
            os.close(fd)

    def left_out_notes(self) -> list[str]:
        """One line per file left out, for people: what, how large, and which setting."""
        lines = [
            f"{item.get('what')} of {item.get('path')} ({item.get('bytes')} bytes): {item.get('why')}"
            for item in self.left_out
        ]
        if self.left_out_count > len(self.left_out):
            lines.append(f"... and {self.left_out_count - len(self.left_out)} more files")
        return lines


@dataclass(frozen=True)
class Captured:
    """A code state with its contents, as captured in this process (before it is written)."""

    state: CodeState
    diff: bytes
    tar: bytes | None


# ---------------------------------------------------------------- capturing


@functools.cache
def capture(max_diff: int, max_untracked_bytes: int, max_untracked_files: int) -> Captured | None:
    """The code state of the working directory's repository, once per process and limits.

    None when the working directory is not in a git checkout with a commit (or git is missing).
    """
    repo = repo_info()
    if repo is None:
        return None
    top, commit = repo.top, repo.commit
    raw_diff = (
        _git(
            top,
            "-c",
            "core.quotePath=true",
            "diff",
            "HEAD",
            "--binary",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules=dirty",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--no-relative",
        )
        or b""
    )
    left_out: list[dict[str, Any]] = []
    diff, changed = _fit_diff(raw_diff, max_diff, left_out)
    untracked, tar = _untracked(top, max_untracked_bytes, max_untracked_files, left_out)
    listed = tuple(left_out[:LEFT_OUT_LISTED])
    identity = {
        "schema": CODE_STATE_SCHEMA,
        "commit": commit,
        "diff_sha256": hashlib.sha256(diff).hexdigest(),
        "untracked": untracked,
        "left_out": listed,
        "left_out_count": len(left_out),
    }
    digest = hashlib.sha256(
        json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    state = CodeState(
        id=digest,
        commit=commit,
        branch=repo.branch,
        remote=repo.remote,
        diff_bytes=len(diff),
        changed_files=changed,
        untracked=tuple(untracked),
        left_out=listed,
        left_out_count=len(left_out),
    )
    return Captured(state, diff, tar)


def _file_diffs(diff: bytes) -> list[bytes]:
    """The diff cut into one section per file (each starts with `diff --git `)."""
    if not diff:
        return []
    starts = [0] if diff.startswith(_DIFF_HEADER) else []
    pos = diff.find(b"\n" + _DIFF_HEADER)
    while pos != -1:
        starts.append(pos + 1)
        pos = diff.find(b"\n" + _DIFF_HEADER, pos + 1)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [diff[a:b] for a, b in zip(starts, [*starts[1:], len(diff)], strict=True)]


def _fit_diff(diff: bytes, limit: int, left_out: list[dict[str, Any]]) -> tuple[bytes, int]:
    """The whole diff, or, past `limit` bytes, the files' diffs that fit (the rest noted)."""
    sections = _file_diffs(diff)
    if len(diff) <= limit:
        return diff, len(sections)
    kept: list[bytes] = []
    room = limit
    for section in sections:
        if len(section) <= room:
            kept.append(section)
            room -= len(section)
            continue
        header = section.split(b"\n", 1)[0][len(_DIFF_HEADER) :].decode(errors="replace")
        path = header.split(" b/", 1)[0].removeprefix("a/")
        left_out.append(
            {
                "path": path,
                "what": "diff",
                "bytes": len(section),
                "why": f"the diff is {len(diff)} bytes, more than FURU_MAX_GIT_PATCH_BYTES="
                f"{limit}; raise it to record this file's changes",
            }
        )
    return b"".join(kept), len(kept)


def _untracked(
    top: str, max_bytes: int, max_files: int, left_out: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bytes | None]:
    """The untracked, not-ignored files within the limits: their records and a tar of them."""
    listing = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    names = sorted(n for n in (listing or b"").decode(errors="surrogateescape").split("\0") if n)
    records: list[dict[str, Any]] = []
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            path = os.path.join(top, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue  # removed meanwhile
            size = info.st_size if stat.S_ISREG(info.st_mode) else 0
            why = None
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                why = "not a regular file or symbolic link"
            elif len(records) >= max_files:
                why = (
                    f"more than FURU_MAX_UNTRACKED_FILES={max_files} untracked files; raise it, "
                    "or ignore the files in .gitignore"
                )
            elif total + size > max_bytes:
                why = (
                    f"the untracked files would exceed FURU_MAX_UNTRACKED_BYTES={max_bytes}; "
                    "raise it, or ignore the file in .gitignore"
                )
            if why is None:
                record = _add_to_tar(tar, path, name, info)
                if record is None:
                    why = "could not be read"
                else:
                    records.append(record)
                    total += size
                    continue
            left_out.append({"path": name, "what": "untracked", "bytes": size, "why": why})
    return records, (buffer.getvalue() if records else None)


def _add_to_tar(
    tar: tarfile.TarFile, path: str, name: str, info: os.stat_result
) -> dict[str, Any] | None:
    entry = tarfile.TarInfo(name)
    entry.mtime = 0
    entry.uid = entry.gid = 0
    entry.uname = entry.gname = ""
    try:
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(path)
            entry.type = tarfile.SYMTYPE
            entry.linkname = target
            entry.mode = 0o777
            tar.addfile(entry)
            return {
                "path": name,
                "size": 0,
                "mode": "symlink",
                "sha256": hashlib.sha256(os.fsencode(target)).hexdigest(),
            }
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    executable = bool(info.st_mode & stat.S_IXUSR)
    entry.size = len(data)
    entry.mode = 0o755 if executable else 0o644
    tar.addfile(entry, io.BytesIO(data))
    return {
        "path": name,
        "size": len(data),
        "mode": "executable" if executable else "file",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


# ---------------------------------------------------------------- the store


def code_root(store_root: Path) -> Path:
    return store_root / CODE_DIR


_written: set[tuple[Path, str]] = set()


def ensure_written(store_root: Path, captured: Captured) -> CodeState:
    """Write `captured` into `<store_root>/code/<id>/` unless it is there; once per process.

    Atomic and exclusive: the files go into a private temporary directory, renamed onto the
    final name in one step; when another process won the race, its identical copy stays.
    """
    state = captured.state
    final = code_root(store_root) / state.id
    key = (store_root, state.id)
    if key in _written or (final / MANIFEST_FILE).is_file():
        _written.add(key)
        return _with_directory(state, final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    tmp.mkdir()
    try:
        if captured.diff:
            write_bytes_atomic(tmp / DIFF_FILE, captured.diff)
        if captured.tar is not None:
            write_bytes_atomic(tmp / UNTRACKED_FILE, captured.tar)
        write_bytes_atomic(tmp / MANIFEST_FILE, _dump(state.manifest()))
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            if not (final / MANIFEST_FILE).is_file():
                # Not a state furu wrote (no manifest, which is written first into place):
                # set it aside and take the name; a concurrent writer's copy is as good.
                aside = temp_name(final.with_name(f"{state.id}.damaged"))
                with contextlib.suppress(OSError):
                    os.rename(final, aside)
                    shutil.rmtree(aside, ignore_errors=True)
                with contextlib.suppress(OSError):
                    os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _written.add(key)
    return _with_directory(state, final)


def _dump(data: Any) -> bytes:
    return json.dumps(data, indent=2).encode() + b"\n"


def _with_directory(state: CodeState, directory: Path) -> CodeState:
    return CodeState(**{**state.__dict__, "directory": directory})


def is_code_state_id(text: Any) -> bool:
    return isinstance(text, str) and len(text) == 64 and set(text) <= _HEX


def read_code_state(store_root: Path, state_id: str) -> CodeState | None:
    """The code state `state_id` of the store at `store_root`; None when it is not there.

    Raises:
        FuruStoreError: the id is not a sha256 digest, or the manifest is damaged (the
            message names the file).
    """
    if not is_code_state_id(state_id):
        raise FuruStoreError(
            f"{state_id!r} is not a code state id (64 hex digits); the step's metadata.json "
            "was edited or damaged.",
            path=code_root(store_root),
        )
    directory = code_root(store_root) / state_id
    path = directory / MANIFEST_FILE
    data = read_json(path, what="recorded code state", max_bytes=SMALL_FILE_MAX_BYTES)
    if data is None:
        return None
    try:
        return CodeState(
            id=str(data["id"]),
            commit=str(data["commit"]),
            branch=data.get("branch"),
            remote=data.get("remote"),
            diff_bytes=int(data.get("diff_bytes") or 0),
            changed_files=int(data.get("changed_files") or 0),
            untracked=tuple(dict(u) for u in data.get("untracked") or ()),
            left_out=tuple(dict(u) for u in data.get("left_out") or ()),
            left_out_count=int(data.get("left_out_count") or 0),
            directory=directory,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FuruStoreError(
            f"{path} is not a code state furu wrote ({type(exc).__name__}: {exc}). Delete "
            f"{directory}; the next run from the same working tree writes it again.",
            path=path,
        ) from None


def read_untracked_tar(state: CodeState) -> bytes | None:
    from furu._store import read_regular_file

    if state.directory is None or not state.untracked:
        return None
    # A tar holds each file rounded up to 512 bytes, after a header (and a PAX header).
    cap = sum(int(u["size"]) for u in state.untracked) + 4096 * (len(state.untracked) + 2)
    return read_regular_file(
        state.directory / UNTRACKED_FILE, what="recorded untracked files", max_bytes=cap
    )


# ---------------------------------------------------------------- checking out


@dataclass(frozen=True)
class Checkout:
    """What `checkout` recreated.

    Attributes:
        directory: the new working tree.
        commit: the commit it is at (detached).
        how: `worktree` (a `git worktree` of the repository) or `clone`.
        state: the recorded code state applied (None for a record without one).
        notes: what is not exactly as it was (files left out by a limit, an old record).
    """

    directory: Path
    commit: str
    how: str
    state: CodeState | None
    notes: tuple[str, ...]


def _run(
    cwd: Path | str | None, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(["git", *args], 127, b"", str(exc).encode())


def _said(out: subprocess.CompletedProcess[bytes]) -> str:
    return out.stderr.decode(errors="replace").strip() or f"exit status {out.returncode}"


def recorded_code_state(metadata: dict[str, Any], store_root: Path) -> CodeState | None:
    """The code state a step's metadata references, read from the store; None if it has none.

    Raises:
        FuruStoreError: the metadata references a code state the store no longer holds, or
            whose manifest is damaged.
    """
    ref = metadata.get("code_state")
    state_id = ref.get("id") if isinstance(ref, dict) else None
    if state_id is None:
        return None
    state = read_code_state(store_root, state_id)
    if state is None:
        raise FuruStoreError(
            f"the code state {state_id} the step's metadata names is not in "
            f"{code_root(store_root)} (it was deleted, or the store was copied without its "
            "code/ directory). Copy it back from the original store, or check out the commit "
            f"{metadata.get('git_commit')} by hand.",
            path=code_root(store_root) / state_id,
        )
    return state


def checkout(
    metadata: dict[str, Any], store_root: Path, dest: Path, *, repo: Path | None = None
) -> Checkout:
    """Recreate in `dest` the code a step was created from, as its `metadata` records it.

    A `git worktree` of the repository at `repo` (default: the working directory's) at the
    recorded commit (a clone when a worktree cannot be added), then the recorded diff applied
    with `git apply` and the untracked files written.

    Raises:
        FuruStoreError: nothing was recorded, the commit is not in the repository, `dest` is
            not empty, or git refused a step (the message says which, and what to do).
    """
    dest = Path(os.path.abspath(dest))
    notes: list[str] = []
    state = recorded_code_state(metadata, store_root)
    commit = state.commit if state is not None else metadata.get("git_commit")
    if not isinstance(commit, str) or not commit:
        raise FuruStoreError(
            "no code state is recorded for this step: it was created outside a git repository "
            "(or where git was missing), so there is no commit to go back to.",
            path=store_root,
        )
    legacy: bytes | None = None
    if state is None:
        old = metadata.get("git_patch")
        if isinstance(old, str) and old:
            # furu before 0.2 stripped the patch's last newline and left out untracked files.
            legacy = old.encode() if old.endswith("\n") else old.encode() + b"\n"
            notes.append(
                "recorded by an older furu: the diff is the one inlined in metadata.json, and "
                "untracked files were not recorded"
            )
        else:
            notes.append(
                "only the commit was recorded (FURU_IGNORE_DIFF was set, or an older furu "
                "recorded a clean tree): uncommitted changes, if any, are not restored"
            )
    else:
        notes.extend(f"left out when recorded: {line}" for line in state.left_out_notes())
    if dest.exists() and (not dest.is_dir() or any(os.scandir(dest))):
        raise FuruStoreError(
            f"{dest} is not empty; furu checkout writes a fresh working tree. Give a new (or "
            "empty) directory.",
            path=dest,
        )
    top_out = _run(repo, "rev-parse", "--show-toplevel")
    if top_out.returncode != 0:
        remote = (state.remote if state else None) or metadata.get("git_remote")
        where = f" (recorded remote: {remote})" if remote else ""
        raise FuruStoreError(
            f"{repo or Path.cwd()} is not inside a git repository ({_said(top_out)}). Run furu "
            f"checkout from a clone of the repository the step was made in{where}.",
            path=repo or Path.cwd(),
        )
    top = top_out.stdout.decode(errors="replace").strip()
    if _run(top, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise FuruStoreError(
            f"the commit {commit} is not in the repository {top}. Fetch it (`git fetch --all`, "
            "or from the remote it was pushed to) and run furu checkout again.",
            path=Path(top),
        )
    how = "worktree"
    added = _run(top, "worktree", "add", "--detach", "--quiet", str(dest), commit)
    if added.returncode != 0:
        how = "clone"
        cloned = _run(None, "clone", "--quiet", "--no-checkout", top, str(dest))
        switched = (
            cloned if cloned.returncode else _run(dest, "checkout", "--quiet", "--detach", commit)
        )
        if switched.returncode != 0:
            raise FuruStoreError(
                f"could not create a working tree at {dest} for commit {commit}: git worktree "
                f"said {_said(added)!r}, git clone said {_said(switched)!r}.",
                path=dest,
            )
    diff = state.read_diff() if state is not None else legacy
    if diff:
        applied = _run(dest, "apply", "--binary", "--whitespace=nowarn", "-", stdin=diff)
        if applied.returncode != 0:
            raise FuruStoreError(
                f"git apply refused the recorded diff in {dest}: {_said(applied)}. The working "
                f"tree is at {commit} without the changes; the diff is "
                f"{state.directory / DIFF_FILE if state and state.directory else 'in metadata.json'}.",
                path=dest,
            )
    tar = read_untracked_tar(state) if state is not None else None
    if tar:
        try:
            with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
                # "data": nothing outside `dest`, no absolute names, devices or set-uid bits.
                archive.extractall(dest, filter="data")
        except (tarfile.TarError, OSError) as exc:
            tar_path = state.directory / UNTRACKED_FILE if state and state.directory else "?"
            raise FuruStoreError(
                f"the recorded untracked files in {tar_path} cannot be written into {dest} "
                f"({type(exc).__name__}: {exc}); it was damaged or edited. The working tree "
                f"in {dest} has the commit and the diff; restore the untracked files by hand.",
                path=dest,
            ) from None
    return Checkout(dest, commit, how, state, tuple(notes))
