"""The one way the server opens a file of an experiment: a regular file, inside its directory.

Anything in a store may have been planted: a named pipe where a log should be (opening it
blocks a worker thread forever), a symlink to `/etc/passwd`, a symlink loop, a device. So every
file a route reads (previews, raw files, `furu.log`) is opened by `open_inside`:

- the path is resolved, symlinks included, and must stay inside the experiment's directory
  (`path_outside_artifact`); a symlink loop is `not_a_file`;
- it is opened with `O_NOFOLLOW | O_NONBLOCK` (a symlink swapped in meanwhile is refused, a
  FIFO never blocks), and `fstat` must say it is a regular file (`not_a_file` otherwise) and
  the same file that was checked; on Linux the open descriptor's own path is checked again;
- callers read a bounded number of bytes from it (see `_preview`, `_logs`).

The core's own readers (`StepDir.read_state`, `read_metadata`, ...) apply the same rules to
the files of `.furu/`.

One exception: a migrated *alias* directory (it has `.furu/migration.json`, ADR 0005) holds,
for each entry of the directory it was migrated from, a relative symlink `../<old>/<name>`.
Such a link is followed (`through_alias`) when it is a top-level entry of the alias, relative,
and names a sibling step directory of the same class directory (itself no symlink); the rest
of the path is then resolved inside that directory, by the same rules.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from io import BufferedReader

from furu_server._errors import ErrorCode, ServerError

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


@dataclass
class Opened:
    """A regular file opened for reading: its file object and its size when it was opened."""

    file: BufferedReader
    size: int
    mtime: float

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def _outside(rel: str) -> ServerError:
    return ServerError(
        ErrorCode.PATH_OUTSIDE_ARTIFACT,
        f"{rel!r} leads outside the experiment's directory (through '..', an absolute path or "
        "a symlink); only files inside it are served.",
        {"path": rel},
    )


def _missing(rel: str) -> ServerError:
    return ServerError(
        ErrorCode.FILE_NOT_FOUND,
        f"no file {rel!r} in this experiment's directory; list its files with the artifacts route.",
        {"path": rel},
    )


def _not_regular(rel: str, mode: int) -> ServerError:
    if stat.S_ISDIR(mode):
        what = "a directory; list it with the artifacts route"
    elif stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO), not a regular file; only regular files are read"
    elif stat.S_ISSOCK(mode):
        what = "a socket, not a regular file; only regular files are read"
    else:
        what = "a device or other special file; only regular files are read"
    return ServerError(ErrorCode.NOT_A_FILE, f"{rel!r} is {what}.", {"path": rel})


def _unopenable(rel: str, exc: OSError) -> ServerError:
    return ServerError(
        ErrorCode.FILE_UNREADABLE,
        f"{rel!r} could not be opened: {exc.strerror}. Check the permissions of the file and "
        "of the directories above it.",
        {"path": rel},
    )


def _inside(real: str, real_base: str) -> bool:
    return real == real_base or real.startswith(real_base + os.sep)


def resolve_inside(base: str, rel: str) -> str:
    """The real path of `rel` under `base`, refusing anything that leaves `base`.

    Raises:
        ServerError: `path_outside_artifact` for absolute paths, `..`, NUL bytes and symlinks
            (anywhere on the path) that resolve outside `base`; `not_a_file` for a symlink loop;
            `file_not_found` if nothing is there; `file_unreadable` when the operating system
            refuses to look (permissions).
    """
    if "\x00" in rel or rel.startswith(("/", "\\")) or any(p == ".." for p in rel.split("/")):
        raise _outside(rel)
    real_base = os.path.realpath(base)
    try:
        real = os.path.realpath(os.path.join(real_base, rel), strict=True)
    except FileNotFoundError:
        # Missing, or a dangling symlink: say which, without following it out of the directory.
        real = os.path.realpath(os.path.join(real_base, rel))
        if not _inside(real, real_base):
            raise _outside(rel) from None
        raise _missing(rel) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ServerError(
                ErrorCode.NOT_A_FILE,
                f"{rel!r} is a symlink that never resolves (a loop); fix or remove it.",
                {"path": rel},
            ) from None
        if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG):
            raise _missing(rel) from None
        raise _unopenable(rel, exc) from None
    if not _inside(real, real_base):
        raise _outside(rel)
    return real


ALIAS_RECORD = ".furu/migration.json"


def through_alias(base: str, rel: str) -> tuple[str, str] | None:
    """`(old directory, path inside it)` when `rel` starts with a link of the migrated alias
    `base` into the directory it was migrated from (see the module's docstring); else None."""
    parts = rel.split("/")
    if parts[0] in ("", ".", "..", ".furu") or "\x00" in rel:
        return None
    top = os.path.join(base, parts[0])
    record = os.path.join(base, ALIAS_RECORD)
    if not os.path.islink(top) or os.path.islink(record) or not os.path.isfile(record):
        return None
    try:
        target = os.readlink(top)
    except OSError:
        return None
    inner = target.split("/")
    if (
        os.path.isabs(target)
        or len(inner) < 3
        or inner[0] != ".."
        or any(p in ("", ".", "..") for p in inner[1:])
    ):
        return None
    old = os.path.join(os.path.dirname(os.path.normpath(base)), inner[1])
    if os.path.islink(old) or not os.path.isdir(os.path.join(old, ".furu")):
        return None
    return old, "/".join([*inner[2:], *parts[1:]])


def open_inside(base: str, rel: str) -> Opened:
    """Open the regular file `rel` of the experiment directory `base` for reading.

    Raises:
        ServerError: what `resolve_inside` raises; `not_a_file` for a directory, FIFO, socket
            or device; `file_unreadable` when the operating system refuses to open it.
    """
    redirected = through_alias(base, rel)
    if redirected is not None:
        base, rel = redirected
    real = resolve_inside(base, rel)
    try:
        before = os.lstat(real)
    except FileNotFoundError:
        raise _missing(rel) from None
    except OSError as exc:
        raise _unopenable(rel, exc) from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(rel, before.st_mode)  # never open a FIFO or a device
    try:
        fd = os.open(real, _FLAGS)
    except FileNotFoundError:
        raise _missing(rel) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since it was resolved
            raise _outside(rel) from None
        raise _unopenable(rel, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(rel, st.st_mode)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise _outside(rel)  # swapped while it was being opened
        proc = f"/proc/self/fd/{fd}"
        if os.path.islink(proc) and not _inside(os.readlink(proc), os.path.realpath(base)):
            raise _outside(rel)  # a directory on the way was swapped for a symlink
        return Opened(os.fdopen(fd, "rb"), st.st_size, st.st_mtime)
    except BaseException:
        os.close(fd)
        raise


def regular_size(base: str, rel: str) -> int:
    """The size of what `open_inside(base, rel)` would read; 0 when it would refuse it."""
    try:
        with open_inside(base, rel) as opened:
            return opened.size
    except ServerError:
        return 0
