"""Import a bundle (`furu export`) into a store: verify everything, then publish step by step.

1. Stream the tar once. Its first member must be the manifest, checked by
   `furu._bundle_manifest`; every later member must be a regular file the manifest lists, of
   the listed size and sha256, and is written into a private staging directory inside the
   target store (`.furu-import-…`, invisible to listings). `tarfile.extractall` is never used:
   the manifest, not the archive, decides every path that is written.
2. Once every member is there and verified, decide per step: new (imported), already here
   with the same files (skipped), here without a result (its attempt is replaced), or here
   with another result (a conflict). One conflict and nothing is imported.
3. Publish: code states first, then each step's raw files and directory, each with one
   `rename` (dependencies before what depends on them), after its `metadata.json` is
   rewritten to name the target store's paths. Each step is noted in the journal and catalog.

A failure at any point removes the staging directory: a bundle is never half imported.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from furu._bundle import BUNDLE_MANIFEST
from furu._bundle_files import CHUNK, LeftOut, Tree, scan_tree, sibling_link
from furu._bundle_manifest import (
    MAX_MANIFEST_BYTES,
    BundleManifest,
    BundleStep,
    Expected,
    bad,
    parse_manifest,
)
from furu._bundle_publish import publish
from furu._errors import FuruStoreError
from furu._step_dir import StepDir, StepId
from furu._store import FURU_DIR, HOSTNAME, METADATA_MAX_BYTES, dump_json, write_all
from furu._workspace import Store

STAGING_PREFIX = ".furu-import-"
METADATA_PATH = f"{FURU_DIR}/metadata.json"
LOG_PATH = f"{FURU_DIR}/furu.log"


@dataclass(frozen=True)
class ImportedStep:
    """What an import did (or, with `dry_run`, would do) with one step of the bundle.

    Attributes:
        id: the step.
        action: `imported` (new here), `replaced` (here without a result: the bundle's
            result replaced its attempt), `skipped` (here with the same files) or `conflict`
            (here with a different result, or being computed: nothing was imported).
        detail: why, for `skipped`, `replaced` and `conflict`.
    """

    id: StepId
    action: str
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"step": str(self.id), "action": self.action, "detail": self.detail}


@dataclass
class ImportReport:
    """What `import_bundle` did: per step, per code state, and how much it verified.

    Nothing was imported when `conflicts` is not empty (or when `dry_run`).
    """

    bundle: Path
    store: Path
    dry_run: bool
    steps: list[ImportedStep] = field(default_factory=list)
    code_states: dict[str, str] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    @property
    def conflicts(self) -> list[ImportedStep]:
        return [s for s in self.steps if s.action == "conflict"]

    def count(self, action: str) -> int:
        return sum(s.action == action for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": str(self.bundle),
            "store": str(self.store),
            "dry_run": self.dry_run,
            "ok": not self.conflicts,
            "counts": {a: self.count(a) for a in ("imported", "replaced", "skipped", "conflict")},
            "steps": [s.to_json() for s in self.steps],
            "code_states": self.code_states,
            "files": self.files,
            "bytes": self.bytes,
        }


def import_bundle(store: Store, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """Import the bundle at `path` into `store` (see the module docstring for the steps).

    Args:
        store: the target store.
        path: a bundle `furu export` wrote (`.tar` or `.tar.gz`).
        dry_run: verify the whole bundle and say what would happen, writing nothing.

    Returns:
        Per step what happened. When `report.conflicts` is not empty nothing was imported.

    Raises:
        FuruStoreError: the bundle is damaged, truncated or hostile (a member outside the
            manifest, a link or device, a path leaving the store, a checksum mismatch), the
            store has no version-controlled root for such steps, or the disk is full.
    """
    bundle = Path(path)
    staging = _Staging(store, bundle, dry_run)
    staging.sweep_dead()
    try:
        manifest, files, size = _receive(bundle, store, staging)
        report = ImportReport(bundle, store.root, dry_run, files=files, bytes=size)
        report.steps = [_decide(store, step) for step in manifest.steps]
        report.code_states = {
            i: "skipped" if (store.code_root / i / "manifest.json").is_file() else "imported"
            for i in manifest.code_states
        }
        if not dry_run and not report.conflicts:
            publish(store, manifest, staging, report)
        return report
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise FuruStoreError(
                f"the disk holding {store.root} filled up while {bundle} was imported; nothing "
                "was imported. Free space and import again.",
                path=store.root,
            ) from exc
        raise FuruStoreError(
            f"cannot import {bundle} into {store.root} ({exc}); check that the bundle is a "
            "readable file and the store writable (FURU_PATH or --root chooses it).",
            path=Path(exc.filename) if exc.filename else store.root,
        ) from exc
    finally:
        staging.remove()


class _Staging:
    """The private directories members are written to: one per root (renames stay local).

    It also rewrites each step's `metadata.json` as it arrives (once verified), keeping the
    record for the catalog, and appends a line to each step's log saying where it came from.
    """

    def __init__(self, store: Store, bundle: Path, dry_run: bool) -> None:
        self.store, self.bundle, self.dry_run = store, bundle, dry_run
        self.name = f"{STAGING_PREFIX}{HOSTNAME}-{os.getpid()}-{os.urandom(4).hex()}"
        self.data = store.root / self.name
        vc_root = store.version_controlled_root
        self.vc = vc_root / self.name if vc_root is not None else None
        self.made: set[Path] = set()
        self.manifest: BundleManifest | None = None
        self.records: dict[str, dict[str, Any]] = {}
        """Each step's rewritten metadata, by `kind/rel_dir`."""

    def parent(self, path: Path) -> None:
        """Create the directory holding `path` (once: a bundle has many files per directory)."""
        if path.parent not in self.made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(path.parent)

    def path(self, expected: Expected, name: str) -> Path:
        if expected.section == "steps" and expected.owner.startswith("vc/"):
            assert self.vc is not None
            return self.vc / name
        return self.data / name

    def step(self, step: BundleStep) -> Path:
        root = self.vc if step.kind == "vc" and self.vc is not None else self.data
        return root / "steps" / step.kind / step.rel_dir

    def metadata(self, owner: str, raw: bytes) -> bytes:
        """The verified `metadata.json` of step `owner`, pointed at the target store."""
        from furu._bundle_paths import rewrite_record

        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return raw  # damaged at the source: imported as it is, like the source holds it
        if not isinstance(data, dict) or self.manifest is None:
            return raw
        kind, _, rel_dir = owner.partition("/")
        target = StepDir(self.store, kind, rel_dir)
        self.records[owner] = rewrite_record(data, target, self.manifest, self.bundle)
        return dump_json(self.records[owner])

    def log_line(self) -> bytes:
        source = self.manifest.source_root if self.manifest else "?"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp} INFO furu imported from {self.bundle} (store {source})\n".encode()

    def sweep_dead(self) -> None:
        """Remove what imports killed on this host left (their pid is gone)."""
        for root in (self.data.parent, self.vc.parent if self.vc else None):
            if root is None or self.dry_run:
                continue
            for old in root.glob(f"{STAGING_PREFIX}{HOSTNAME}-*"):
                pid = old.name.removeprefix(f"{STAGING_PREFIX}{HOSTNAME}-").split("-")[0]
                if pid.isdigit() and not _alive(int(pid)):
                    shutil.rmtree(old, ignore_errors=True)

    def remove(self) -> None:
        for root in (self.data, self.vc):
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- 1. receive and verify


def _receive(bundle: Path, store: Store, staging: _Staging) -> tuple[BundleManifest, int, int]:
    """Stream `bundle`: the manifest, then each member verified into `staging`."""
    try:
        tar = tarfile.open(bundle, "r|*")  # noqa: SIM115 - closed by the `with` below
    except FileNotFoundError:
        raise FuruStoreError(
            f"there is no bundle at {bundle}; give the path `furu export -o` wrote.", path=bundle
        ) from None
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise bad(bundle, f"it is not a tar file ({exc})") from None
    last = "the start"
    try:
        with tar:
            manifest = _read_manifest(bundle, tar)
            _check_roots(bundle, store, manifest)
            staging.manifest = manifest
            seen: set[str] = set()
            size = 0
            while (member := tar.next()) is not None:
                last = f"the member {member.name!r}"
                expected = _check_member(bundle, manifest, member, seen)
                try:
                    size += _copy(bundle, tar, member, expected, staging)
                except OSError as exc:
                    if exc.errno == errno.ENOSPC:
                        raise
                    raise bad(bundle, f"{last} could not be written ({exc})") from exc
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise bad(bundle, f"the archive is truncated or damaged after {last} ({exc})") from None
    missing = [name for name in manifest.members if name not in seen]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise bad(bundle, f"it ends before the member {missing[0]!r}{more}: it is truncated")
    return manifest, len(seen), size


def _read_manifest(bundle: Path, tar: tarfile.TarFile) -> BundleManifest:
    first = tar.next()
    if first is None or first.name != BUNDLE_MANIFEST or not first.isreg():
        raise bad(bundle, f"its first member is not {BUNDLE_MANIFEST}")
    if first.size > MAX_MANIFEST_BYTES:
        raise bad(
            bundle,
            f"its {BUNDLE_MANIFEST} holds {first.size} bytes, more than the "
            f"{MAX_MANIFEST_BYTES} furu reads (export fewer steps per bundle)",
        )
    source = tar.extractfile(first)
    assert source is not None
    return parse_manifest(bundle, source.read(first.size))


def _check_roots(bundle: Path, store: Store, manifest: BundleManifest) -> None:
    vc = [s for s in manifest.steps if s.kind == "vc"]
    if vc and store.version_controlled_root is None:
        raise FuruStoreError(
            f"{bundle} holds {len(vc)} version-controlled step(s) ({vc[0].id}, …) but the store "
            f"{store.root} has no version-controlled root; set FURU_VERSION_CONTROLLED_PATH "
            "and import again.",
            path=bundle,
        )


def _check_member(
    bundle: Path, manifest: BundleManifest, member: tarfile.TarInfo, seen: set[str]
) -> Expected:
    name = member.name
    where = f"the member {name!r}"
    if name.startswith("/") or os.path.isabs(name):
        raise bad(bundle, f"{where} has an absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise bad(bundle, f"{where} climbs out of its directory with '..'")
    if member.issym() or member.islnk():
        link = "symbolic" if member.issym() else "hard"
        raise bad(bundle, f"{where} is a {link} link (to {member.linkname!r}); bundles hold files")
    if member.ischr() or member.isblk() or member.isfifo():
        raise bad(bundle, f"{where} is a device or FIFO; bundles hold regular files only")
    if not member.isreg():
        raise bad(bundle, f"{where} is not a regular file (tar type {member.type!r})")
    expected = manifest.members.get(name)
    if expected is None:
        raise bad(bundle, f"{where} is not listed in its {BUNDLE_MANIFEST}")
    if name in seen:
        raise bad(bundle, f"{where} appears twice")
    if member.size != expected.file.size:
        raise bad(
            bundle, f"{where} holds {member.size} bytes, the manifest lists {expected.file.size}"
        )
    seen.add(name)
    return expected


def _copy(
    bundle: Path,
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    expected: Expected,
    staging: _Staging,
) -> int:
    """Write `member` to its staging path (nothing with `dry_run`), checking its sha256."""
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    what = expected.file.path if expected.section == "steps" else None
    if staging.dry_run:
        _stream(source, digest, None)
    elif what == METADATA_PATH and member.size <= METADATA_MAX_BYTES:
        raw = source.read(member.size)
        digest.update(raw)
        _check_digest(bundle, member, digest, expected)
        _write_new(
            staging,
            staging.path(expected, member.name),
            expected,
            [staging.metadata(expected.owner, raw)],
        )
        return member.size
    else:
        fd = _create(staging, staging.path(expected, member.name), expected)
        try:
            last = _stream(source, digest, fd)
            if what == LOG_PATH:
                write_all(fd, (b"" if last in (b"", b"\n") else b"\n") + staging.log_line())
        finally:
            os.close(fd)
    _check_digest(bundle, member, digest, expected)
    return member.size


def _check_digest(bundle: Path, member: tarfile.TarInfo, digest: Any, expected: Expected) -> None:
    if digest.hexdigest() != expected.file.sha256:
        raise bad(
            bundle,
            f"the member {member.name!r} has sha256 {digest.hexdigest()[:16]}…, the manifest "
            f"lists {expected.file.sha256[:16]}… (checksum mismatch)",
        )


def _create(staging: _Staging, dest: Path, expected: Expected) -> int:
    staging.parent(dest)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(dest, flags, 0o755 if expected.file.executable else 0o644)


def _write_new(staging: _Staging, dest: Path, expected: Expected, chunks: list[bytes]) -> None:
    fd = _create(staging, dest, expected)
    try:
        for chunk in chunks:
            write_all(fd, chunk)
    finally:
        os.close(fd)


def _stream(source: IO[bytes], digest: Any, fd: int | None) -> bytes:
    """Copy `source` to `fd` (if any) through `digest`; the last byte copied."""
    last = b""
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        if fd is not None:
            write_all(fd, chunk)
        last = chunk[-1:]
    return last


# ---------------------------------------------------------------- 2. decide


def _target(store: Store, step: BundleStep) -> StepDir:
    return StepDir(store, step.kind, step.rel_dir)


def _decide(store: Store, step: BundleStep) -> ImportedStep:
    target = _target(store, step)
    if not target.exists():
        return ImportedStep(step.id, "imported")
    holder = target.live_holder()
    if holder is not None:
        return ImportedStep(
            step.id, "conflict", f"being computed here by {holder.describe()}; import it later"
        )
    if not target.has_result():
        return ImportedStep(step.id, "replaced", "here without a result; the bundle's replaces it")
    difference = _difference(target, step)
    if difference is None:
        return ImportedStep(step.id, "skipped", "already here with the same files")
    return ImportedStep(
        step.id,
        "conflict",
        f"already here with a different result ({difference}); nothing is overwritten. "
        f"Delete it here (`furu rm {step.id}`) to import the bundle's, or import into another store",
    )


def _result_of(tree: Tree, raw: Tree) -> dict[str, str]:
    """The files (and symlinks) that make a result, outside `.furu/`: path -> checksum."""
    out = {f.path: f.sha256 for f in tree.files if not f.path.startswith(FURU_DIR + "/")}
    out |= {s["path"]: "-> " + s["target"] for s in tree.symlinks}
    out |= {"raw/" + f.path: f.sha256 for f in raw.files}
    out |= {"raw/" + s["path"]: "-> " + s["target"] for s in raw.symlinks}
    return out


def _difference(target: StepDir, step: BundleStep) -> str | None:
    """How the result here differs from the bundle's (the first few files); None if it does not."""
    ignored: list[LeftOut] = []
    siblings = frozenset(
        h for s in step.tree.symlinks if (h := sibling_link(s["path"], s["target"])) is not None
    )
    here = _result_of(
        scan_tree(target.path, meta=True, left_out=ignored, siblings=siblings),
        scan_tree(target.raw_dir, meta=False, left_out=ignored)
        if target.raw_dir.is_dir() and not target.raw_dir.is_symlink()
        else Tree(),
    )
    there = _result_of(step.tree, step.raw)
    diffs = [
        f"{p}: {'only in the bundle' if p not in here else 'only here' if p not in there else 'differs'}"
        for p in sorted(here.keys() | there.keys())
        if here.get(p) != there.get(p)
    ]
    if not diffs:
        return None
    return ", ".join(diffs[:3]) + (f" and {len(diffs) - 3} more" if len(diffs) > 3 else "")
