"""Read and check a bundle's manifest (`furu-bundle.json`) before trusting anything in it.

A bundle may come from anyone. Every name in the manifest becomes a path in the target store,
so each is checked here, once: namespaces and hashes as `Store.step_dir` wants them, `rel_dir`
equal to what they imply, relative file paths without `..` or empty parts, no file under a
step's `.furu/compute.lock` or `attempts/`, symlinks that stay inside their step, sizes that
are non-negative integers and checksums that are sha256 digests. The result maps every tar
member name the bundle may hold to where it goes; `furu._bundle_import` accepts no other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from furu._bundle import BUNDLE_FORMAT, BUNDLE_MANIFEST, BUNDLE_SCHEMA, CODE_FILES
from furu._bundle_files import BundleFile, Tree, inner_link, member_name, sibling_link
from furu._errors import FuruStoreError
from furu._step_dir import StepId
from furu._store import FURU_DIR, LOCK_FILE, MIB

MAX_MANIFEST_BYTES = 256 * MIB
"""A larger manifest is refused (furu writes about 150 bytes per file: ~1.5 million files)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HASH = re.compile(r"[0-9a-f]{8,128}")
_MAX_PATH = 4096


@dataclass
class BundleStep:
    """One step of a bundle, as its (checked) manifest describes it."""

    id: StepId
    kind: str
    rel_dir: str
    requested: bool
    code_state: str | None
    dependencies: list[str]
    tree: Tree
    raw: Tree


@dataclass(frozen=True)
class Expected:
    """A member the bundle must hold: where it goes in the staging directory."""

    file: BundleFile
    section: str
    """`steps`, `raw` or `code`."""
    owner: str
    """The step's `kind/rel_dir`, or the code state's id."""


@dataclass
class BundleManifest:
    """A checked manifest: its steps, code states and the members they list."""

    data: dict[str, Any]
    steps: list[BundleStep]
    code_states: dict[str, Tree]
    members: dict[str, Expected] = field(default_factory=dict)
    kinds: dict[StepId, str] = field(default_factory=dict)
    """Each step's kind (`data` or `vc`), by id."""
    rel_dirs: set[str] = field(default_factory=set)
    ancestors: set[str] = field(default_factory=set)
    """Every directory above a step's `rel_dir` (no step may live there)."""
    sibling_links: list[tuple[str, str, str, str]] = field(default_factory=list)
    """`(namespace, step, path, hash)` of symlinks into a sibling step's directory (the
    links of a migration alias)."""

    @property
    def source_root(self) -> str:
        return str(self.data["source"].get("root") or "")

    @property
    def source_vc_root(self) -> str | None:
        value = self.data["source"].get("version_controlled_root")
        return value if isinstance(value, str) else None


def bad(bundle: Path, message: str) -> FuruStoreError:
    return FuruStoreError(
        f"{bundle}: {message}. The bundle is damaged or was not written by `furu export`; "
        "nothing was imported. Export it again from the source store.",
        path=bundle,
    )


def parse_manifest(bundle: Path, raw: bytes) -> BundleManifest:
    """The checked manifest of `bundle` from the bytes of its `furu-bundle.json`.

    Raises:
        FuruStoreError: it is not JSON, not a furu bundle of a schema this furu reads, or any
            name, size or checksum in it is malformed (the message names the entry).
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad(bundle, f"{BUNDLE_MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise bad(bundle, f"{BUNDLE_MANIFEST} does not describe a furu bundle")
    if data.get("schema") != BUNDLE_SCHEMA:
        raise FuruStoreError(
            f"{bundle} has bundle schema {data.get('schema')!r}; this furu reads schema "
            f"{BUNDLE_SCHEMA}. Upgrade furu here (or export with the same furu version).",
            path=bundle,
        )
    if not isinstance(data.get("source"), dict):
        raise bad(bundle, "the manifest has no `source`")
    manifest = BundleManifest(data, [], {})
    for state in _list(bundle, data, "code_states"):
        _code_state(bundle, manifest, state)
    for step in _list(bundle, data, "steps"):
        _step(bundle, manifest, step)
    _check_sibling_links(bundle, manifest)
    return manifest


def _check_sibling_links(bundle: Path, manifest: BundleManifest) -> None:
    """A symlink may point into another step's directory only if the bundle holds that step
    (of the same class): the result a migration alias reuses."""
    for namespace, what, path, digest in manifest.sibling_links:
        if StepId(namespace, digest) not in manifest.kinds:
            raise bad(bundle, f"{what}: the symlink {path!r} points outside it")


def _list(bundle: Path, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise bad(bundle, f"the manifest's `{key}` is not a list")
    return value


def _code_state(bundle: Path, manifest: BundleManifest, entry: Any) -> None:
    state_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(state_id, str) or not _SHA256.fullmatch(state_id):
        raise bad(bundle, f"code state {state_id!r} is not a sha256 digest")
    tree = _tree(bundle, entry, f"code state {state_id}")
    for f in tree.files:
        if f.path not in CODE_FILES:
            raise bad(bundle, f"code state {state_id} lists {f.path!r}, not a code state file")
    if tree.dirs or tree.symlinks:
        raise bad(bundle, f"code state {state_id} lists directories or symlinks")
    manifest.code_states[state_id] = tree
    _add_members(bundle, manifest, tree, "code", state_id, ("code", state_id))


def _step(bundle: Path, manifest: BundleManifest, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise bad(bundle, "a step entry is not an object")
    namespace, digest = entry.get("namespace"), entry.get("hash")
    what = f"step {namespace!r}/{digest!r}"
    if not isinstance(namespace, str) or not all(
        _NAME_PART.fullmatch(p) for p in namespace.split(".")
    ):
        raise bad(bundle, f"{what} has a malformed namespace")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise bad(bundle, f"{what} has a malformed hash")
    kind = entry.get("kind")
    rel_dir = "/".join([*namespace.split("."), digest])
    if kind not in ("data", "vc") or entry.get("rel_dir") != rel_dir:
        raise bad(bundle, f"{what} has kind {kind!r} and rel_dir {entry.get('rel_dir')!r}")
    code_state = entry.get("code_state")
    if code_state is not None and code_state not in manifest.code_states:
        code_state = None  # left out of the bundle (the export reported it)
    links: list[tuple[str, str, str]] = []
    deps = entry.get("dependencies") or []
    if entry.get("raw") is not None and not isinstance(entry.get("raw"), dict):
        raise bad(bundle, f"{what}: `raw` is not an object")
    step = BundleStep(
        StepId(namespace, digest),
        kind,
        rel_dir,
        bool(entry.get("requested")),
        code_state,
        [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else [],
        _tree(bundle, entry, what, step=True, links=links),
        _tree(bundle, entry.get("raw") or {}, f"{what} (raw files)"),
    )
    if step.id in manifest.kinds:
        raise bad(bundle, f"{what} is listed twice")
    parts = rel_dir.split("/")
    above = {"/".join(parts[:end]) for end in range(1, len(parts))}
    if above & manifest.rel_dirs or rel_dir in manifest.ancestors:
        raise bad(bundle, f"{what} lies inside another step's directory, or holds one")
    if not any(f.path == f"{FURU_DIR}/SUCCESS.json" for f in step.tree.files):
        raise bad(bundle, f"{what} has no {FURU_DIR}/SUCCESS.json (bundles hold results only)")
    manifest.steps.append(step)
    manifest.kinds[step.id] = kind
    manifest.rel_dirs.add(rel_dir)
    manifest.ancestors |= above
    manifest.sibling_links += [(namespace, w, p, h) for w, p, h in links]
    owner = f"{kind}/{rel_dir}"
    _add_members(bundle, manifest, step.tree, "steps", owner, ("steps", kind, rel_dir))
    _add_members(bundle, manifest, step.raw, "raw", owner, ("raw", rel_dir))


def _tree(
    bundle: Path,
    entry: Any,
    what: str,
    *,
    step: bool = False,
    links: list[tuple[str, str, str]] | None = None,
) -> Tree:
    if not isinstance(entry, dict):
        raise bad(bundle, f"{what} is not an object")
    tree = Tree()
    links = links if links is not None else []
    for f in _items(bundle, entry, "files", what):
        tree.files.append(_file(bundle, f, what, step))
    for d in _items(bundle, entry, "dirs", what):
        tree.dirs.append(safe_path(bundle, d, what))
    for link in _items(bundle, entry, "symlinks", what):
        path = safe_path(bundle, link.get("path") if isinstance(link, dict) else None, what)
        target = link.get("target")
        sibling = sibling_link(path, target) if step and isinstance(target, str) else None
        if not isinstance(target, str) or not (inner_link(path, target) or sibling):
            raise bad(bundle, f"{what}: the symlink {path!r} points outside it ({target!r})")
        if sibling is not None:
            links.append((what, path, sibling))
        tree.symlinks.append({"path": path, "target": target})
    _check_shape(bundle, tree, what)
    return tree


def _check_shape(bundle: Path, tree: Tree, what: str) -> None:
    """Files, symlinks and directories must fit one tree: no name twice, nothing below a
    file or symlink (else writing them would fail half way, or write through a link)."""
    leaves: set[str] = set()
    for path in [*(f.path for f in tree.files), *(s["path"] for s in tree.symlinks)]:
        if path in leaves:
            raise bad(bundle, f"{what} lists {path!r} twice")
        leaves.add(path)
    for path in [*leaves, *tree.dirs]:
        parts = path.split("/")
        for end in range(1, len(parts)):
            if "/".join(parts[:end]) in leaves:
                raise bad(bundle, f"{what} lists {path!r} below the file {'/'.join(parts[:end])!r}")
        if path in tree.dirs and path in leaves:
            raise bad(bundle, f"{what} lists {path!r} both as a directory and as a file")


def _items(bundle: Path, entry: dict[str, Any], key: str, what: str) -> list[Any]:
    value = entry.get(key) or []
    if not isinstance(value, list):
        raise bad(bundle, f"{what}: `{key}` is not a list")
    return value


def _file(bundle: Path, entry: Any, what: str, step: bool) -> BundleFile:
    if not isinstance(entry, dict):
        raise bad(bundle, f"{what} lists a file that is not an object")
    path = safe_path(bundle, entry.get("path"), what)
    size, digest = entry.get("size"), entry.get("sha256")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise bad(bundle, f"{what}: {path!r} has size {size!r}")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise bad(bundle, f"{what}: {path!r} has checksum {digest!r}, not a sha256 digest")
    parts = path.split("/")
    if step and parts[0] == FURU_DIR and len(parts) > 1 and parts[1] in (LOCK_FILE, "attempts"):
        raise bad(bundle, f"{what} lists {path!r}: a lock or an attempt's files, never a result")
    return BundleFile(path, size, digest, entry.get("executable") is True)


def safe_path(bundle: Path, path: Any, what: str) -> str:
    """`path` if it is relative, without empty, `.` or `..` parts; else an error."""
    if (
        not isinstance(path, str)
        or not path
        or len(path) > _MAX_PATH
        or "\0" in path
        or path.startswith("/")
        or any(p in ("", ".", "..") for p in path.split("/"))
    ):
        raise bad(bundle, f"{what} lists the path {path!r}, which is absolute or leaves it")
    return path


def _add_members(
    bundle: Path,
    manifest: BundleManifest,
    tree: Tree,
    section: str,
    owner: str,
    prefix: tuple[str, ...],
) -> None:
    for f in tree.files:
        name = member_name(*prefix, f.path)
        if name in manifest.members:
            raise bad(bundle, f"the member {name!r} is listed twice")
        manifest.members[name] = Expected(f, section, owner)
