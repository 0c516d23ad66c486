"""A store on disk: where its step directories are, how to find one, and its journal.

```
<root>/data/<module path>/<Class>/<hash>/   steps (StepDir)
<root>/journal/<host>-<pid>-<nonce>.jsonl   which step directories changed (Journal)
<root>/code/<sha256>/                       recorded code states (commit, diff, untracked files)
<root>/catalog/<namespace>.jsonl            one line per stored result of a class (catalog)
<root>/raw/                                 large files shared by steps
<version-controlled root>/<module path>/<Class>/<hash>/
```

`Store` only reads and writes files, so a process that cannot import the user's code (the
dashboard's server, the `furu` CLI, a scheduler's bookkeeping) sees the same store as the
pipeline that wrote it. A step directory is any `<module path>/<Class>/<hash>` holding a
`.furu/` directory; its namespace is that path with `/` read as `.`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu._errors import FuruConfigError, FuruStoreError
from furu._journal import JOURNAL_DIR
from furu._store import FURU_DIR

if TYPE_CHECKING:
    from furu._catalog import CatalogEntry
    from furu._code_state import CodeState
    from furu._furu import Furu
    from furu._journal import JournalCompaction
    from furu._step_dir import StepDir, StepId

DATA = "data"
VERSION_CONTROLLED = "vc"
_HEX = frozenset("0123456789abcdef")


class Journal:
    """The store's append-only record of changed step directories (see `furu._journal`).

    Attributes:
        directory: `<root>/journal`, one `.jsonl` file per writing process.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def append(self, kind: str, rel_dir: str, what: str) -> None:
        """Note that the step directory `rel_dir` under root `kind` changed (errors ignored)."""
        from furu._journal import append

        append(self.directory.parent, kind, rel_dir, what)

    def compact(
        self, *, idle_after: float | None = None, dry_run: bool = False
    ) -> JournalCompaction:
        """Merge the files of finished writers into one, a line per step directory.

        A writer is finished when its pid on this host is dead, or (another host's) when its
        file was not written for `idle_after` seconds (default 7 days). A reader (the server's
        index) meets the merged file under a new name and reads it from the start, so nothing
        it had not read yet is lost; a live writer's file is never touched. `furu gc` runs it.

        Args:
            idle_after: seconds without a write after which another host's file is finished.
            dry_run: only report what would be merged.

        Returns:
            What was merged (`JournalCompaction`).
        """
        from furu._journal import JOURNAL_IDLE_AFTER, compact

        idle = JOURNAL_IDLE_AFTER if idle_after is None else idle_after
        return compact(self.directory.parent, idle_after=idle, dry_run=dry_run)


class Store:
    """One store: its step directories (data and version-controlled) and its journal.

    Args:
        root: the store root (`FURU_PATH`); steps live under `<root>/data`.
        version_controlled_root: where `version_controlled=True` steps live; None when this
            store has none (they are then not listed).
    """

    def __init__(self, root: Path | str, *, version_controlled_root: Path | str | None = None):
        self.root = Path(root)
        self.version_controlled_root = (
            Path(version_controlled_root) if version_controlled_root is not None else None
        )
        self.journal = Journal(self.root / JOURNAL_DIR)

    def __repr__(self) -> str:
        return (
            f"Store({str(self.root)!r}, version_controlled_root={self.version_controlled_root!r})"
        )

    @classmethod
    def current(cls) -> Store:
        """The store this process uses: `FURU_PATH` and the version-controlled root."""
        from furu._settings import FURU_CONFIG

        try:
            vc_root: Path | None = FURU_CONFIG.vc_root()
        except FuruConfigError:
            vc_root = None
        return cls(FURU_CONFIG.base_root, version_controlled_root=vc_root)

    @property
    def data_root(self) -> Path:
        return self.root / DATA

    @property
    def code_root(self) -> Path:
        """`<root>/code`: one directory per recorded code state (see `furu.CodeState`)."""
        from furu._code_state import code_root

        return code_root(self.root)

    def code_state(self, state_id: str) -> CodeState | None:
        """The recorded code state `state_id` (a sha256 digest); None when the store lacks it.

        Raises:
            FuruStoreError: `state_id` is not a digest, or its manifest is damaged.
        """
        from furu._code_state import read_code_state

        return read_code_state(self.root, state_id)

    def catalog(self, namespace: str) -> list[CatalogEntry]:
        """Every stored result of the class `namespace`, from `<root>/catalog/` (ADR 0005).

        The catalog is a cache healed here: results it lacks are read from their
        `metadata.json` (and their line appended), lines of removed results are left out,
        torn lines are skipped. Oldest first.

        Raises:
            FuruStoreError: the catalog file is not a regular file.
        """
        from furu._catalog import read

        return read(self, namespace)

    def root_of(self, kind: str) -> Path:
        """The directory step directories of `kind` (`data` or `vc`) are relative to."""
        if kind == DATA:
            return self.data_root
        if kind == VERSION_CONTROLLED and self.version_controlled_root is not None:
            return self.version_controlled_root
        raise FuruConfigError(
            f"{self} has no {kind!r} root. Steps live under 'data' or, when the store has a "
            "version-controlled root (FURU_VERSION_CONTROLLED_PATH), under 'vc'."
        )

    def _roots(self) -> list[tuple[str, Path]]:
        roots = [(DATA, self.data_root)]
        if self.version_controlled_root is not None:
            roots.append((VERSION_CONTROLLED, self.version_controlled_root))
        return roots

    # ------------------------------------------------------------ finding steps

    def step_dirs(self) -> Iterator[StepDir]:
        """Every step directory of the store (data first, then version-controlled).

        Found with `os.scandir` and no `stat` calls: 100,000 steps list in about a second.
        """
        from furu._step_dir import StepDir

        for kind, root in self._roots():
            for rel in _step_dirs(root):
                yield StepDir(self, kind, rel)

    def step_dir(self, namespace: str, hash: str, *, version_controlled: bool = False) -> StepDir:
        """The directory of the step `namespace`/`hash` (whether or not it exists yet)."""
        from furu._step_dir import StepDir

        kind = VERSION_CONTROLLED if version_controlled else DATA
        _check_part(namespace, hash, self.root)
        return StepDir(self, kind, "/".join([*namespace.split("."), hash]))

    def step_dir_of(self, step: Furu[Any]) -> StepDir:
        """The directory of `step` in this store."""
        from furu._furu import _class_dir
        from furu._step_dir import StepDir

        cls = type(step)
        step._furu_namespace  # noqa: B018 - refuses __main__ and <locals> classes
        kind = VERSION_CONTROLLED if cls._furu_version_controlled else DATA
        return StepDir(self, kind, f"{_class_dir(cls).replace(os.sep, '/')}/{step._furu_hash}")

    def locate(self, path: Path | str) -> StepDir | None:
        """The step directory `path` is (or is inside of), if it is in this store."""
        from furu._step_dir import StepDir

        target = os.path.abspath(path)
        for kind, root in self._roots():
            prefix = str(root) + os.sep
            if target.startswith(prefix):
                parts = target[len(prefix) :].split(os.sep)
                for end in range(len(parts), 1, -1):
                    candidate = root.joinpath(*parts[:end])
                    if (candidate / FURU_DIR).is_dir():
                        return StepDir(self, kind, "/".join(parts[:end]))
        return None

    def find(self, ref: str) -> StepDir:
        """The one step `ref` names: `namespace/hash`, `namespace/hash-prefix`, a hash prefix,
        `Class/hash-prefix` (the class name alone) or the step's directory (`furu.find_step`).

        Raises:
            FuruStoreError: no step, or more than one, matches (the message lists them).
        """
        from furu._ops import find_step

        return find_step(self, ref)

    def _search(self, ref: str) -> StepDir:
        """The one step whose hash starts with `ref`'s hex digits (after the last `/`), in the
        namespace or class `ref` gives before it, if any: a walk of every step directory.

        Raises:
            FuruStoreError: no step, or more than one, matches (the message lists them).
        """
        namespace, _, prefix = ref.strip().rpartition("/")
        prefix = prefix.lower()
        if not prefix or not set(prefix) <= _HEX:
            raise FuruStoreError(
                f"{ref!r} is not a step reference: give `namespace/hash`, a hash prefix, or "
                "`Class/hash-prefix` (hex digits after the last '/').",
                path=self.root,
            )
        of_class = [
            d
            for d in self.step_dirs()
            if not namespace or d.namespace == namespace or d.namespace.endswith("." + namespace)
        ]
        matches = [d for d in of_class if d.hash.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            some = ""
            if namespace and of_class:
                listed = ", ".join(d.hash[:10] for d in of_class[:5])
                more = ", …" if len(of_class) > 5 else ""
                some = f" It holds {len(of_class)} step(s) of {namespace}: {listed}{more}."
            raise FuruStoreError(
                f"no step matches {ref!r} in {self.root}.{some} List the store's steps with "
                "`furu ls` (FURU_PATH or --root chooses the store).",
                path=self.root,
            )
        shown = ", ".join(str(d.id) for d in matches[:5])
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        raise FuruStoreError(
            f"{ref!r} matches {len(matches)} steps in {self.root} ({shown}{more}); give more "
            "digits of the hash, or the namespace too.",
            path=self.root,
        )


def _check_part(namespace: str, digest: str, root: Path) -> None:
    parts = [*namespace.split("."), digest]
    if not namespace or any(p in ("", ".", "..") or "/" in p or os.sep in p for p in parts):
        raise FuruStoreError(
            f"{namespace!r}/{digest!r} is not a step's namespace and hash: expected "
            "`module.Class` and a hex digest.",
            path=root,
        )


def _step_dirs(root: Path) -> Iterator[str]:
    """`a/b/Class/<hash>` of every step directory under `root`, without `stat` calls."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        if directory is not root and any(e.name == FURU_DIR for e in entries):
            yield os.path.relpath(directory, root).replace(os.sep, "/")
            continue
        stack.extend(
            Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name[0] != "."
        )


def step_dir(step: Furu[Any]) -> StepDir:
    """The directory of `step` in the current store (`FURU_PATH`)."""
    return Store.current().step_dir_of(step)


def step_id(step: Furu[Any]) -> StepId:
    """`step`'s identity: its class's namespace and its config hash."""
    from furu._step_dir import StepId

    return StepId(step._furu_namespace, step._furu_hash)
