"""The JSON of the API's view of the code (ADR 0005): the manifest, migrations, and tasks.

The server never imports user code: what it says about the code comes from `manifest.json`
(written by `furu manifest`), and what changes the store for a code change (a migration) runs
as a `furu` subprocess in the project's environment, like a rerun. Model names are part of the
contract (`openapi.json`), as in `_models`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from furu import AttemptStatus, ResultStatus
from furu_server._models import _Model, _Request

NAMESPACE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
HASH_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"


class ManifestField(_Model):
    """A field of a class of the code."""

    name: str
    type: str
    has_default: bool
    default: Any = None
    """The default (tagged JSON, as `metadata.json` holds configs); null when none."""


class ManifestDependency(_Model):
    """A class this class depends on, through `field` (its type, or `_dependencies()`)."""

    field: str
    namespace: str


class ManifestClass(_Model):
    """A `furu.Furu` class of the current code, with its experiments in the store."""

    namespace: str
    class_name: str
    bases: list[str]
    fields: list[ManifestField]
    dependencies: list[ManifestDependency]
    migrations: list[dict[str, Any]]
    """The migrations it declares (`furu_migrations`), as the manifest records them."""
    doc: str | None
    experiments: int
    """Its experiments in the index (all of them, stale or not)."""
    stale: int
    counts: dict[str, int]
    """Its experiments per result status."""


class ManifestExperiment(_Model):
    """A named experiment of a `FuruList` of the code, and its status in the store."""

    name: str
    """Its name in the list (the experiments' display name)."""
    namespace: str
    class_name: str
    hash: str
    ref: str
    """`<namespace>/<hash>`: the id the experiment routes take."""
    indexed: bool
    """Whether the store holds it; false: defined in the code, not yet run."""
    status: str
    """`defined, not yet run`, or its result status (`success`, `failed`, ...)."""
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    stale: bool | None
    config: dict[str, Any] | None
    snippet: str | None
    """Python that reproduces it (from the manifest)."""


class ManifestList(_Model):
    """A module-level `FuruList` of the code."""

    name: str
    module: str | None
    experiments: list[ManifestExperiment]


class ManifestInfo(_Model):
    """The current code as `furu manifest` last recorded it, joined with the store's index."""

    path: str
    written_at: str | None
    modules: list[str]
    errors: list[str]
    """What `furu manifest` could not import or describe (each names the module or class)."""
    classes: list[ManifestClass]
    lists: list[ManifestList]
    removed_classes: list[str]
    """Namespaces with experiments in the store that the code no longer defines."""
    stale: int
    """Stale experiments in the whole store."""
    truncated: bool = False
    """Whether a value (a config, a default, a snippet) was cut to keep the response small."""


class Task(_Model):
    """A `furu` command this server runs in the project's environment (a subprocess):
    `manifest` (POST /api/manifest/refresh), `migration` (POST /api/migrations/apply),
    `sweep` (POST /api/sweeps) or `batch` (POST /api/batches)."""

    id: str
    kind: Literal["manifest", "migration", "sweep", "batch"]
    status: Literal["running", "succeeded", "failed"]
    pid: int | None
    started_at: str
    ended_at: str | None
    returncode: int | None
    command: list[str]
    output_tail: str
    """The last lines of its output (stdout and stderr)."""
    progress: str | None
    """Its last progress line, while it runs."""
    result: Any = None
    """What the command printed as JSON when it ended (a migration: its result)."""
    error: str | None = None
    """Why it failed, in a sentence (the command's own message when it printed one)."""


class MigrationRequest(_Request):
    """Which stored experiments of a class to migrate to the current code, and how.

    `mode`: `default` gives every new field its default; `value` sets fields to `values`
    (the others take their defaults); `only` migrates just `hashes` (hash prefixes; with
    `values`, when given). `where` keeps only the stored configs whose field (a dotted path)
    equals the value given, e.g. `{"lr": 0.1}` (`furu migrate --where lr=0.1`).
    """

    namespace: str = Field(max_length=500, pattern=NAMESPACE_PATTERN)
    mode: Literal["default", "value", "only"] = "default"
    values: dict[str, Any] = Field(default_factory=dict, max_length=100)
    hashes: list[str] = Field(default_factory=list, max_length=10_000)
    where: dict[str, Any] = Field(default_factory=dict, max_length=100)


class MigrationChange(_Model):
    """How one field maps from the stored config to the current code's."""

    field: str
    kind: str
    """`added`, `removed`, `renamed`, `changed`, `dependency` (a migrated dependency)."""
    old: Any = None
    new: Any = None


class MigrationItem(_Model):
    """One experiment of a migration plan: old hash -> new hash."""

    namespace: str
    old_hash: str
    new_hash: str | None
    status: str
    """What the migration does or did with it (`planned`, `migrated`, `exists`, `skipped`...)."""
    reason: str | None = None
    changes: list[MigrationChange] = Field(default_factory=list)
    via: str | None = None
    """The field through which it holds a migrated dependency (it is migrated with it)."""
    dependent: bool = False
    """Migrated because a dependency it holds was migrated (`via` names the field)."""


class MigrationPlan(_Model):
    """What `furu migrate --dry-run --json` says a migration would do (nothing is written)."""

    namespace: str
    mode: Literal["default", "value", "only"]
    items: list[MigrationItem]
    total: int
    counts: dict[str, int]
    """Items per status: `planned`, `skipped` (e.g. migrated already), `failed`."""
    command: list[str]
    """The command that applies it (to run it yourself)."""
    raw: dict[str, Any]
    """The command's JSON as it printed it."""


class UndoRequest(_Request):
    """The migration to undo: its alias `<namespace>/<hash>` (or the migrated result's, to
    undo every live alias of it)."""

    ref: str = Field(
        max_length=700,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/[A-Za-z0-9_-]{1,128}$",
    )


class UndoneMigration(_Model):
    alias: str
    """`<namespace>/<hash>` of the alias directory removed."""
    migrated_from: str
    """`<namespace>/<hash>` of the result it linked to (kept)."""


class Undone(_Model):
    undone: list[UndoneMigration]
