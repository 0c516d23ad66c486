"""One step's directory, read and written the way furu does it, without importing the step.

`StepDir` is what every package uses to look at or change a step on disk: furu's own compute
path, furu-slurm (queued and preempted attempts, its submission claim), furu-server (labels,
invalidate, delete) and the `furu` CLI. It reads files only, so it works in a process that
cannot import the user's code. Every change it makes is atomic and noted in the store's journal.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu._errors import FuruStoreError
from furu._store import (
    FURU_DIR,
    LOCK_FILE,
    LOG_FILE,
    METADATA_FILE,
    METADATA_MAX_BYTES,
    METADATA_WHAT,
    SMALL_FILE_MAX_BYTES,
    STATE_FILE,
    SUCCESS_FILE,
    TAGS_FILE,
    read_json,
    read_regular_file,
    write_bytes_atomic,
    write_json_atomic,
)

if TYPE_CHECKING:
    from furu._code_state import CodeState
    from furu._lock import ComputeLock, LockInfo
    from furu._policy import RunPolicy
    from furu._state import AttemptStatus, StepState
    from furu._workspace import Store

_LABEL_MAX = 200
STEP_RAW_DIR = "steps"
"""`<root>/raw/steps/`: the raw directories steps own (`StepDir.raw_dir`)."""


@dataclass(frozen=True, order=True)
class StepId:
    """A step's identity: its class's namespace (`module.Qualname`) and its config hash.

    `str(step_id)` is `namespace/hash`, the form every furu command and route accepts.
    """

    namespace: str
    hash: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.hash}"

    @property
    def short(self) -> str:
        """`Class 3f9a1c2b0`: the class name and the first nine hex digits, for messages."""
        return f"{self.namespace.rsplit('.', 1)[-1]} {self.hash[:9]}"


@dataclass(frozen=True)
class Labels:
    """The human labels of a step (`.furu/tags.json`): free-form tags and one display name."""

    tags: tuple[str, ...] = ()
    name: str | None = None


class StepDir:
    """A step directory in a `Store`: `<root>/<module path>/<Class>/<hash>`.

    Get one from `furu.step_dir(step)`, `Store.step_dir(namespace, hash)`, `Store.find(ref)` or
    by iterating `Store.step_dirs()`.

    Attributes:
        store: the store it belongs to.
        kind: `data` (under `<root>/data`) or `vc` (under the version-controlled root).
        rel_dir: its path below that root, with `/` separators.
        path: its absolute path.
        id: its namespace and hash.
    """

    __slots__ = ("id", "kind", "path", "rel_dir", "store")

    META_DIR = FURU_DIR
    """The name of the directory that holds furu's own files, and marks a step directory."""

    def __init__(self, store: Store, kind: str, rel_dir: str) -> None:
        parent, _, digest = rel_dir.rpartition("/")
        self.store = store
        self.kind = kind
        self.rel_dir = rel_dir
        self.path = store.root_of(kind) / rel_dir
        self.id = StepId(parent.replace("/", "."), digest)

    def __repr__(self) -> str:
        return f"StepDir({self.id}, {str(self.path)!r})"

    @classmethod
    def at(cls, path: Path | str, rel_dir: str, *, kind: str = "data") -> StepDir:
        """The step directory at `path`, found `rel_dir` below the root of its `kind`.

        For readers that walk a store's roots themselves (an indexer in worker processes).
        """
        from furu._workspace import Store

        root = Path(str(path)[: -len(rel_dir) - 1]) if rel_dir else Path(path)
        if kind == "data":
            return cls(Store(root.parent), kind, rel_dir)
        return cls(Store(root.parent, version_controlled_root=root), kind, rel_dir)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StepDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # ------------------------------------------------------------ where things are

    @property
    def namespace(self) -> str:
        return self.id.namespace

    @property
    def hash(self) -> str:
        return self.id.hash

    @property
    def version_controlled(self) -> bool:
        return self.kind == "vc"

    @property
    def meta_dir(self) -> Path:
        """`.furu/`: furu's own files, beside the files the step wrote."""
        return self.path / FURU_DIR

    @property
    def state_path(self) -> Path:
        return self.meta_dir / STATE_FILE

    @property
    def metadata_path(self) -> Path:
        return self.meta_dir / METADATA_FILE

    @property
    def success_path(self) -> Path:
        return self.meta_dir / SUCCESS_FILE

    @property
    def log_path(self) -> Path:
        return self.meta_dir / LOG_FILE

    @property
    def lock_path(self) -> Path:
        return self.meta_dir / LOCK_FILE

    @property
    def labels_path(self) -> Path:
        return self.meta_dir / TAGS_FILE

    @property
    def raw_dir(self) -> Path:
        """`<root>/raw/steps/<module path>/<Class>/<hash>`: large files this step owns.

        Unlike the rest of `<root>/raw`, shared by every step, these files belong to the
        step: `furu du` counts them, `furu export` packs them and deleting the step removes
        them. `Furu.step_raw_dir` creates it.
        """
        return self.store.root / "raw" / STEP_RAW_DIR / self.rel_dir

    # ------------------------------------------------------------ reading

    def exists(self) -> bool:
        """Whether anything was ever recorded here (its `.furu/` exists)."""
        return self.meta_dir.is_dir()

    def has_result(self) -> bool:
        """Whether `SUCCESS.json` exists: the one truth for "this step has a result"."""
        return self.success_path.exists()

    def is_done(self, policy: RunPolicy | None = None) -> bool:
        """Whether `load_or_create()` would load instead of compute, as far as files tell.

        Args:
            policy: force/always-rerun rules to apply (None: `SUCCESS.json` alone decides). A
                step's own `_validate()` is code, so only `Furu.exists()` applies it.
        """
        if not self.has_result():
            return False
        return policy is None or not policy.forces(self.id)

    def read_state(self) -> StepState:
        """The state now: the marker decides success, a dead holder's attempt reads `crashed`.

        Raises:
            FuruStoreError: `state.json` is damaged and there is no result.
        """
        from furu._state import StateManager

        return StateManager(self.path).read()

    def read_raw_state(self) -> StepState | None:
        """The state as written (not healed); None when there is none.

        Raises:
            FuruStoreError: `state.json` is damaged.
        """
        from furu._state import StateManager

        return StateManager(self.path).read_raw()

    def read_metadata(self) -> dict[str, Any] | None:
        """`metadata.json` as written (config, git, environment); None when absent.

        Raises:
            FuruStoreError: the file is damaged.
        """
        return read_json(self.metadata_path, what=METADATA_WHAT, max_bytes=METADATA_MAX_BYTES)

    def read_code_state(self) -> CodeState | None:
        """The code state the step was created from (`metadata.json`'s `code_state`), read
        from the store's `code/` directory; None when it records none (made outside a git
        repository, with `FURU_IGNORE_DIFF`, or by a furu that inlined `git_patch`).

        Raises:
            FuruStoreError: the metadata is damaged, or names a code state the store lacks.
        """
        from furu._code_state import recorded_code_state

        metadata = self.read_metadata()
        return None if metadata is None else recorded_code_state(metadata, self.store.root)

    def attempt_dir(self) -> Path | None:
        """Where the latest unpublished attempt writes its files (its staging directory).

        While an attempt runs, `_create` writes into `.furu/attempts/<attempt id>/`; its
        files move into the step directory when it publishes (ADR 0004). This is that
        directory for the attempt `state.json` names, or the newest one there is; None when
        there is none (nothing ran, or the result was published).
        """
        from furu._staging import latest_attempt_dir

        try:
            state = self.read_raw_state()
        except FuruStoreError:
            state = None
        return latest_attempt_dir(self.path, state)

    def lock_holder(self) -> LockInfo | None:
        """Who holds the compute lock (alive or not: see `LockInfo.is_alive`); None if nobody."""
        from furu._lock import read_lock

        return read_lock(self.lock_path)

    def live_holder(self) -> LockInfo | None:
        """The holder of the compute lock if it is alive now, else None."""
        holder = self.lock_holder()
        return holder if holder is not None and holder.is_alive() else None

    def read_labels(self, *, strict: bool = False) -> Labels:
        """Tags and name; a missing `tags.json` (or, unless `strict`, a damaged one) reads empty.

        Raises:
            FuruStoreError: with `strict`, the file is damaged.
        """
        try:
            data = read_json(self.labels_path, what="tags and name") or {}
        except FuruStoreError:
            if strict:
                raise
            data = {}
        tags, name = data.get("tags"), data.get("name")
        return Labels(
            tags=tuple(sorted({t for t in tags if isinstance(t, str)}))
            if isinstance(tags, list)
            else (),
            name=name if isinstance(name, str) else None,
        )

    def read_results(self) -> tuple[dict[str, float | int | str | bool | None], list[str]]:
        """`(results, problems)`: the step's scalar results (`result.*` in the dashboard).

        From `.furu/results.json` (what `_results()` returned), then `results.json`,
        `metrics.json`, `eval.json` and the last line of `results.jsonl`, `metrics.jsonl`,
        `eval.jsonl`; a name found twice keeps its first value. A damaged source is skipped
        and described in `problems` (see `furu._results`).
        """
        from furu._results import read_results

        return read_results(self.path)

    def read_file(self, name: str) -> bytes | None:
        """The bytes of `.furu/<name>` (e.g. a scheduler's claim); None when absent.

        Raises:
            FuruStoreError: it is not a regular file (a symlink, a FIFO) or larger than 1 MiB.
        """
        return read_regular_file(
            self.meta_dir / name, what=f"file {name}", max_bytes=SMALL_FILE_MAX_BYTES
        )

    # ------------------------------------------------------------ writing

    def note_change(self, what: str) -> None:
        """Tell the store's journal this directory changed (readers re-index it)."""
        self.store.journal.append(self.kind, self.rel_dir, what)

    def append_log(self, text: str, *, source: str = "furu") -> None:
        """Append a timestamped line (or block) to `.furu/furu.log`, creating it if needed."""
        from furu._logging import append_to_log

        self.meta_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        append_to_log(self.log_path, f"{stamp} INFO {source} {text.rstrip(chr(10))}")

    def write_labels(self, labels: Labels) -> Labels:
        """Replace the tags and name (each 1–200 printable characters; tags deduplicated).

        Raises:
            FuruStoreError: a tag or the name is empty, too long or holds control characters.
        """
        tags = tuple(sorted({_check_label(t, "tag", self) for t in labels.tags}))
        name = _check_label(labels.name, "name", self) if labels.name else None
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.labels_path, {"tags": list(tags), "name": name})
        self.note_change("tags")
        return Labels(tags, name)

    def create_file_exclusive(self, name: str, data: bytes) -> bool:
        """Atomically create `.furu/<name>` holding `data`; False if it already exists.

        A hard-link claim: safe between hosts on NFS, and nobody ever reads it half written.
        """
        from furu._lock import create_exclusive

        self.meta_dir.mkdir(parents=True, exist_ok=True)
        return create_exclusive(self.meta_dir / name, data)

    def replace_file(self, name: str, data: bytes) -> None:
        """Atomically replace `.furu/<name>` with `data`."""
        write_bytes_atomic(self.meta_dir / name, data)

    def remove_file(self, name: str, *, if_content: bytes | None = None) -> bool:
        """Remove `.furu/<name>` (only if it still holds `if_content`, when given).

        Raises:
            FuruStoreError: with `if_content`, the file is not a regular file (see `read_file`).
        """
        path = self.meta_dir / name
        try:
            if if_content is not None and self.read_file(name) != if_content:
                return False
            path.unlink()
            return True
        except FileNotFoundError:
            return False

    def record_attempt(
        self,
        status: AttemptStatus,
        *,
        backend: str,
        scheduler: dict[str, Any] | None = None,
        reason: str | None = None,
        only_if_job: str | None = None,
    ) -> bool:
        """Record what a scheduler knows about an attempt that no furu process is running.

        `queued` opens a new attempt (numbered after the last; `attempts` counts it only once
        it runs). Other statuses update the latest attempt when it belongs to `only_if_job`
        (a scheduler job id, `123` or `123_4`). Nothing is written while a live process holds
        the compute lock, or once the step has a result.

        Returns:
            True when the attempt was recorded; False when it was not ours to write.
        """
        from furu._state import Attempt, AttemptStatus, ResultStatus, StateManager, now_iso

        if self.live_holder() is not None or self.has_result():
            return False
        states = StateManager(self.path)
        try:
            previous = states.read_raw()
        except FuruStoreError:
            previous = None
        last = previous.attempt if previous else None
        if only_if_job is not None and (last is None or last.job_id != only_if_job):
            return False
        count = previous.attempts if previous else 0
        if status is AttemptStatus.QUEUED or last is None:
            attempt = Attempt.new(
                os.urandom(16).hex(), count + 1, status, backend, scheduler, reason
            )
        else:
            stamp = now_iso()
            attempt = dataclasses.replace(
                last,
                status=status,
                updated_at=stamp,
                ended_at=None if status is AttemptStatus.PREEMPTED else stamp,
                scheduler={**last.scheduler, **(scheduler or {})},
                reason=reason,
            )
        result = previous.result_status if previous else ResultStatus.INCOMPLETE
        if result in (ResultStatus.ABSENT, ResultStatus.SUCCESS):
            result = ResultStatus.INCOMPLETE
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        states.write(result, attempt, count, note=self.note_change)
        return True

    def invalidate(self, reason: str) -> bool:
        """Remove the result so the next `load_or_create()` recomputes; False if it is running.

        Takes the compute lock while it removes `SUCCESS.json`, so a process that is computing
        the step right now is never disturbed; the reason goes to the attempt and the log.
        """
        from furu._state import ResultStatus, StateManager

        lock = self._take_lock()
        if lock is None:
            return False
        try:
            self.success_path.unlink(missing_ok=True)
            states = StateManager(self.path)
            try:
                state = states.read_raw()
            except FuruStoreError:
                state = None
            if state is not None and state.attempt is not None:
                attempt = dataclasses.replace(state.attempt, reason=reason)
                states.write(
                    ResultStatus.INCOMPLETE, attempt, state.attempts, note=self.note_change
                )
            self.append_log(f"{reason}: SUCCESS.json removed")
        finally:
            lock.release()
        self.note_change("invalidate")
        return True

    def _take_lock(self) -> ComputeLock | None:
        """The compute lock, for a change to the stored result; None while a live process
        holds it (a dead holder's lock is broken first)."""
        from furu._lock import ComputeLock, break_if_dead

        lock = ComputeLock.try_acquire(self.meta_dir, lease_secs=60.0, heartbeat=20.0)
        if lock is None:
            holder = self.lock_holder()
            if (
                holder is not None
                and not holder.is_alive()
                and break_if_dead(self.meta_dir, holder)
            ):
                lock = ComputeLock.try_acquire(self.meta_dir, lease_secs=60.0, heartbeat=20.0)
        return lock

    def delete(self) -> bool:
        """Remove the whole directory and its own raw files; False when it was already gone.

        Holds the compute lock while the directory is renamed away, so it disappears from
        listings at once and a process that starts computing the step meanwhile waits, then
        creates it anew.

        Raises:
            FuruLockNotAcquired: a live process holds its compute lock (it is being computed).
        """
        from furu._errors import FuruLockNotAcquired

        if not self.path.exists():
            return False
        lock = self._take_lock()
        if lock is None:
            if not self.meta_dir.is_dir():
                return False
            holder = self.live_holder()
            raise FuruLockNotAcquired(
                f"{self.id} is being computed{f' by {holder.describe()}' if holder else ''}, "
                "so it cannot be deleted now; wait until it finishes, or stop that process.",
                lock_path=self.lock_path,
            )
        trash = self.path.with_name(
            f".{self.path.name}.deleting.{os.getpid()}.{os.urandom(4).hex()}"
        )
        try:
            os.rename(self.path, trash)
        except FileNotFoundError:
            return False
        finally:
            lock.release()  # after the rename its file is gone with the directory
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(self.raw_dir, ignore_errors=True)
        self.note_change("delete")
        return True


def _check_label(value: str, what: str, where: StepDir) -> str:
    value = value.strip()
    if not value or len(value) > _LABEL_MAX or any(ord(c) < 32 for c in value):
        raise FuruStoreError(
            f"{what} {value!r} for {where.id} must be 1 to {_LABEL_MAX} printable characters; "
            "shorten it or remove control characters.",
            path=where.labels_path,
        )
    return value
