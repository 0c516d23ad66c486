"""Rewrite the absolute paths an imported step's `metadata.json` holds to the target store's.

`metadata.json` records where the step lived (`furu_path`) and where each dependency lived
(`dependencies[].furu_path`): the dashboard links and `furu show` read them, so after an import
they must name the target store. Other top-level strings that start with the source store's
root (or its version-controlled root) are rebased too. What is history or identity is left
alone: the config (`furu_obj`, `furu_python_def`, whose values are part of the hash), the
command line and the log. Where the step came from is kept in `extra.imported_from`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from furu._bundle_manifest import BundleManifest
from furu._errors import FuruError
from furu._step_dir import StepDir, StepId

_KEPT = frozenset({"furu_obj", "furu_python_def", "config_schema", "command", "extra"})
"""Top-level metadata fields never rewritten: identity and history."""


def rewrite_record(
    data: dict[str, Any], target: StepDir, manifest: BundleManifest, bundle: Path
) -> dict[str, Any]:
    """`data` (a `metadata.json` record) pointed at the target store (see the module doc)."""
    from furu._state import now_iso

    rebase = _Rebase(manifest, target)
    old_path = data.get("furu_path")
    for key, value in list(data.items()):
        if key not in _KEPT and isinstance(value, str):
            data[key] = rebase.path(value)
    data["furu_path"] = os.path.abspath(target.path)
    deps = data.get("dependencies")
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, dict) and isinstance(dep.get("furu_path"), str):
            dep["furu_path"] = rebase.dependency(dep)
    extra = data.get("extra")
    data["extra"] = {
        **(extra if isinstance(extra, dict) else {}),
        "imported_from": {
            "store": manifest.source_root,
            "furu_path": old_path,
            "host": manifest.data["source"].get("host"),
            "bundle": bundle.name,
            "at": now_iso(),
        },
    }
    return data


class _Rebase:
    """Maps paths below the source store's roots to the target store's."""

    def __init__(self, manifest: BundleManifest, target: StepDir) -> None:
        store = target.store
        self.target = target
        self.kinds = manifest.kinds
        self.pairs: list[tuple[str, str]] = []
        vc_root = store.version_controlled_root
        if manifest.source_vc_root and vc_root is not None:
            self.pairs.append((manifest.source_vc_root, os.path.abspath(vc_root)))
        if manifest.source_root:
            self.pairs.append((manifest.source_root, os.path.abspath(store.root)))

    def path(self, value: str) -> str:
        for old, new in self.pairs:
            if value == old or value.startswith(old.rstrip(os.sep) + os.sep):
                return new + value[len(old) :]
        return value

    def dependency(self, dep: dict[str, Any]) -> str:
        """The dependency's path here: in the bundle, already here, or rebased."""
        namespace, digest = dep.get("namespace"), dep.get("hash")
        old = str(dep["furu_path"])
        if not isinstance(namespace, str) or not isinstance(digest, str):
            return self.path(old)
        store = self.target.store
        kind = self.kinds.get(StepId(namespace, digest))
        try:
            if kind is not None:
                dep_dir = store.step_dir(namespace, digest, version_controlled=kind == "vc")
                return os.path.abspath(dep_dir.path)
            here = store.step_dir(namespace, digest)
        except FuruError:  # a malformed reference: leave the recorded path rebased
            return self.path(old)
        return os.path.abspath(here.path) if here.exists() else self.path(old)
