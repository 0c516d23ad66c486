"""The JSON the API speaks: response and request bodies (the committed `openapi.json`'s schemas).

Model names are part of the contract: furu-client's models are generated from them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from furu import AttemptStatus, ResultStatus
from furu_server._errors import ErrorCode
from furu_server._sorting import Order, SortKey
from furu_server.filters import FilterExpr
from furu_server.filters._fields import MAX_COLUMNS
from furu_server.filters._models import check_json_depth


class _Model(BaseModel):
    """A response body (clients ignore fields they do not know, so adding one is compatible)."""


class _Request(BaseModel):
    """A request body: unknown fields are refused (a typo is an error, not a no-op)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Model):
    code: ErrorCode
    message: str
    detail: dict[str, Any] | None = None


class ErrorResponse(_Model):
    """The envelope of every error."""

    error: ErrorBody


class ExperimentSummary(_Model):
    """One row of a listing."""

    namespace: str
    hash: str
    class_name: str
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    attempt_number: int | None
    backend: str | None
    hostname: str | None
    user: str | None
    started_at: str | None
    ended_at: str | None
    updated_at: str | None
    created_at: str | None
    runtime_sec: float | None
    wall_sec: float | None
    """Seconds the latest attempt's `_create()` ran (null while it runs, and for attempts
    recorded before furu measured resources); the fields below likewise."""
    cpu_user_sec: float | None
    """CPU seconds in user mode, of the process and its waited-for child processes."""
    cpu_system_sec: float | None
    peak_rss_bytes: int | None
    """Peak resident memory of the process and its child processes."""
    gpu_peak_memory_bytes: int | None
    """Peak GPU memory of the step's processes; null without NVIDIA's management library."""
    gpu_utilization_pct: float | None
    """Mean utilisation (0-100) of the GPUs the attempt used."""
    n_dependencies: int
    name: str | None
    tags: list[str]
    version_controlled: bool
    size_bytes: int
    furu_dir: str
    stale: bool | None = None
    """Whether the current code would no longer produce this directory (its class is gone or
    its fields changed, or a dependency is stale); null when unknown (no `manifest.json`:
    run `furu manifest`, or POST /api/manifest/refresh). ADR 0005 section 4."""
    stale_kind: str | None = None
    """Why it is stale, as a stable code (`furu.STALE_KINDS`): `class-removed`,
    `fields-changed`, `dependency-stale` or `broken-alias`."""
    stale_reason: str | None = None
    """The same in a sentence: "field `average` was added (default False)", "its `model`
    (pkg.TrainModel/3f9...) is stale (fields-changed)"."""
    migrated_from: str | None = None
    """`<namespace>/<hash>` of the stored result this directory is an alias of (a migration
    made it; its files are links into that directory)."""
    display_name: str | None = None
    """Its name in the code: the name a module-level `FuruList` gives this config (from the
    manifest), else its own name (`name`)."""
    values: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    """The values of the `columns` a search asked for (`config.lr`, `result.accuracy`, ...),
    by field; a field the experiment lacks is left out."""


class IndexInfo(_Model):
    """How fresh the index a response came from is."""

    generation: int
    experiments: int
    built: bool
    refreshing: bool
    last_refresh_at: str | None
    last_refresh_kind: str | None
    last_refresh_seconds: float | None
    problems: int = Field(
        description="Experiments the index holds with a problem (a damaged file, text that "
        "is not UTF-8, a value truncated in the index: see docs/server.md, Limits)."
    )
    problem_examples: list[str] = Field(
        description="A few of them, `namespace/hash: problem`, the newest first (and records "
        "that could not be indexed at all)."
    )
    build_total: int | None = Field(
        default=None,
        description="While the index is first built: how many experiments the store walk "
        "found (None before the walk ends, and once built). `experiments` counts those "
        "indexed so far, so a client shows 'indexing <experiments> of <build_total>'.",
    )


class FieldInfo(_Model):
    """A field a table can show as a column and sort by."""

    name: str = Field(
        description="As `columns` and `sort_field` take it: `config.lr`, `result.accuracy`, "
        "`downstream.Evaluate.result.accuracy`."
    )
    source: Literal["config", "result", "downstream"]
    kind: Literal["num", "str", "bool", "null", "mixed"]
    experiments: int = Field(
        description="How many experiments (of the class asked for) have it; for a downstream "
        "field, how many have a dependent of that class with it."
    )
    downstream_class: str | None = None


class FieldList(_Model):
    """The config, result and downstream result fields of the index (of one class)."""

    class_name: str | None
    fields: list[FieldInfo]
    truncated: bool = Field(description="More fields exist than listed (the first 2000 are).")
    generation: int


class ExperimentList(_Model):
    items: list[ExperimentSummary]
    total: int
    offset: int
    limit: int
    sort: SortKey
    order: Order
    index: IndexInfo


class SearchRequest(_Request):
    """A search: a filter tree or its text form (both: they are and-ed)."""

    filter: FilterExpr | None = None
    query: str | None = None
    sort: SortKey = SortKey.updated
    order: Order = Order.desc
    sort_field: str | None = Field(default=None, max_length=1000)
    """Sort by a config or result field instead of `sort`: `config.lr`, `result.accuracy`,
    or `downstream.Evaluate.result.accuracy` (the result of its dependents of that class).
    Experiments without the field come last."""
    columns: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=MAX_COLUMNS
    )
    """Config and result fields (the forms `sort_field` takes) whose values each item carries
    in `values`, so a table needs no request per row."""
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)

    # A tree too deep is refused with the filter's limit before pydantic recurses into it.
    _filter_depth = field_validator("filter", mode="before")(check_json_depth)


class ParseRequest(_Request):
    query: str = Field(max_length=10_000)


class ParseResponse(_Model):
    """A parsed text filter: the tree, and its canonical text."""

    filter: FilterExpr | None
    text: str


class Truncation(_Model):
    """Where a response was cut to stay within the server's limits (docs/server.md, Limits).

    `path` names the value (`config.note`, `rows[3][1]`, `line 5`), `size` its full size and
    `kept` what the response holds, both in `unit` (characters, bytes, items, levels, lines).
    """

    path: str
    unit: str
    size: int
    kept: int


class ErrorInfo(_Model):
    type: str | None
    message: str | None
    traceback: str | None


class Sizes(_Model):
    total_bytes: int
    file_count: int
    log_bytes: int
    truncated: bool


class UntrackedFile(_Model):
    """An untracked file a code state recorded."""

    path: str
    size: int
    mode: str
    """`file`, `executable` or `symlink`."""


class LeftOut(_Model):
    """A file whose diff or content a code state did not record (a size limit), and why."""

    path: str
    what: str
    """`diff` (its changes) or `untracked` (the file)."""
    bytes: int
    why: str


class CodeSource(StrEnum):
    """Where an experiment's recorded code comes from."""

    store = "store"
    inline = "inline"
    commit = "commit"


class CodeStateInfo(_Model):
    """The code an experiment was created from, and the command that recreates it."""

    source: CodeSource
    """`store`: a code state in the store's `code/` (commit, diff, untracked files); `inline`:
    a record of an older furu, its diff in `metadata.json`; `commit`: only the commit."""
    id: str | None
    commit: str
    branch: str | None
    remote: str | None
    dirty: bool | None
    """Whether the working tree differed from the commit (None: not recorded)."""
    changed_files: int | None
    diff: str | None
    """The recorded diff (`git diff --binary HEAD`), its first characters when long."""
    diff_bytes: int
    diff_truncated: bool
    untracked: list[UntrackedFile]
    left_out: list[LeftOut]
    left_out_count: int
    problem: str | None
    """Why part of the code state cannot be shown (e.g. the store lacks it)."""
    checkout_command: str
    """`furu checkout <namespace>/<hash> <dir>`: run in a clone of the repository."""


class MigrationInfo(_Model):
    """One migration as its directories record it (ADR 0005 section 5)."""

    migrated_from: str
    """`<namespace>/<hash>` of the stored result that is reused."""
    migrated_to: str
    """`<namespace>/<hash>` of the alias directory (the config of the current code)."""
    at: str | None
    by: str | None
    how: str | None
    """How it was decided: `default`, `value`, `only`, a declared migration, ..."""
    undone: bool = False
    """Whether this line records the undo of the migration (`migrations.jsonl`)."""
    broken: bool = False
    """Whether the directory it links to is gone (the alias's files dangle): recompute it."""
    record: dict[str, Any] = Field(default_factory=dict)
    """The record as written (clipped to the detail limits)."""


class ExperimentDetail(ExperimentSummary):
    """Everything recorded about one experiment, read from its files."""

    config: dict[str, Any] | None
    python_def: str | None
    state: dict[str, Any] | None
    metadata: dict[str, Any] | None
    error: ErrorInfo | None
    sizes: Sizes
    class_bases: list[str]
    config_schema: list[dict[str, Any]]
    problems: list[str]
    results: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    """Its scalar results, `result.*` in filters: from `.furu/results.json` (what the step's
    `_results()` returned), `results.json`, `metrics.json`, `eval.json`, or the last line of
    `results.jsonl`, `metrics.jsonl`, `eval.jsonl`."""
    code_state: CodeStateInfo | None = None
    """The code it was created from (None: made outside a git repository)."""
    migration: MigrationInfo | None = None
    """Set when this directory is an alias a migration made (`.furu/migration.json`): its
    files are links into the directory it was migrated from."""
    migrations: list[MigrationInfo] = Field(default_factory=list)
    """Migrations made from this directory to others, and their undos
    (`.furu/migrations.jsonl`), oldest first."""
    truncated: bool = False
    """Whether a value was cut to keep the response within the limits (see `truncations`)."""
    truncations: list[Truncation] = Field(default_factory=list)


class Related(_Model):
    """A parent (dependency) or child (dependent) of an experiment, with its status."""

    field: str
    namespace: str
    hash: str
    class_name: str
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    indexed: bool


class Relationships(_Model):
    namespace: str
    hash: str
    parents: list[Related]
    children: list[Related]
    children_total: int


class LineageNode(_Model):
    namespace: str
    hash: str
    class_name: str
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    depth: int
    display_name: str | None = None
    """Its name in a `FuruList` of the code, else its own name: how the lineage labels it."""
    values: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    """Its config's scalar leaves (`config.lr`): the dashboard labels the unnamed nodes of a
    class by the fields that differ among them (`lr=0.3, l2=0.01`)."""


class LineageEdge(_Model):
    """`source` is the dependency, `target` the experiment that uses it via `field`."""

    source: str
    target: str
    field: str


class Lineage(_Model):
    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool


class NamespaceInfo(_Model):
    namespace: str
    class_name: str
    total: int
    counts: dict[str, int]
    size_bytes: int


class Stats(_Model):
    total: int
    by_result_status: dict[str, int]
    by_attempt_status: dict[str, int]
    by_backend: dict[str, int]
    namespaces: int
    size_bytes: int
    running: int
    failed: int
    index: IndexInfo


class DagNode(_Model):
    namespace: str
    class_name: str
    total: int
    counts: dict[str, int]
    bases: list[str]
    has_experiments: bool
    stale: int = 0
    """Its experiments that are stale (0 when unknown: no manifest)."""
    in_code: bool | None = None
    """Whether the manifest (the current code) defines the class; null without a manifest."""
    defined_only: bool = False
    """A class of the code without any experiment yet (`source=code`)."""


class DagEdge(_Model):
    """Experiments of `target` use experiments of `source` through `field` (`count` times)."""

    source: str
    target: str
    field: str
    count: int


class SubclassEdge(_Model):
    child: str
    parent: str


class FieldValueCount(_Model):
    value: float | int | str | bool | None
    count: int


class VaryingField(_Model):
    """A config field whose value differs among a class's experiments."""

    field: str
    """As the filter language names it: `config.lr`."""
    distinct: int
    values: list[FieldValueCount]
    """The most common values first (at most 8), with how many experiments have each."""


class ClassFailure(_Model):
    namespace: str
    hash: str
    error_type: str | None
    error_message: str | None
    ended_at: str | None


class DagClass(_Model):
    """One class of the DAG in detail: its varying config fields and its recent failures."""

    namespace: str
    class_name: str
    total: int
    failed: int
    varying: list[VaryingField]
    """Config fields (its dependencies' fields too: `config.model.lr`) with more than one value
    among its experiments, most distinct first (at most 30)."""
    constant: int
    """How many config fields have one value in all of them."""
    failures: list[ClassFailure]
    """Its failed experiments, most recent first (at most 10)."""


class DagSource(StrEnum):
    """Where `GET /api/dag` takes the graph from."""

    experiments = "experiments"
    """The classes and dependencies of the stored experiments (the index)."""
    code = "code"
    """The classes and dependencies of the current code (`manifest.json`), with counts."""


class Dag(_Model):
    nodes: list[DagNode]
    edges: list[DagEdge]
    subclass_edges: list[SubclassEdge]
    source: DagSource = DagSource.experiments
    manifest_written_at: str | None = None
    """When the manifest the code graph (and the stale counts) come from was written."""


class Change(_Model):
    path: str
    kind: Literal["added", "removed", "changed"]
    a: Any = None
    b: Any = None


class Diff(_Model):
    a: str
    b: str
    same_class: bool
    config: list[Change]
    metadata: list[Change]
    truncated: bool = False
    """Whether a side was cut to the detail limits before comparing (see `truncations`)."""
    truncations: list[Truncation] = Field(default_factory=list)


class LogChunk(_Model):
    """A piece of `furu.log` from byte `offset`; ask again from `next_offset` to tail."""

    text: str
    offset: int
    next_offset: int
    size: int
    eof: bool
    running: bool


class ArtifactEntry(_Model):
    path: str
    type: Literal["file", "dir", "symlink"]
    size: int
    modified_at: str
    linked: bool = False
    """An entry of a migrated alias: a link into the directory it was migrated from (listed,
    and served, as what it links to)."""


class ArtifactTree(_Model):
    entries: list[ArtifactEntry]
    total_bytes: int
    file_count: int
    truncated: bool


class Column(_Model):
    name: str
    type: str


class Preview(_Model):
    """A page of a file: a table (`columns`, `rows`), text, JSON, or an image's MIME type."""

    path: str
    kind: Literal["table", "text", "json", "image", "binary"]
    mime: str
    size: int
    columns: list[Column] | None = None
    rows: list[list[Any]] | None = None
    total_rows: int | None = None
    offset: int = 0
    text: str | None = None
    value: Any = None
    truncated: bool = False
    url: str | None = None
    truncations: list[Truncation] = Field(default_factory=list)
    """Where the preview was cut (a long line or cell, a deep or large JSON value, the read
    limit); `truncated` is also true when it has more rows or text than it shows."""


class TagsUpdate(_Request):
    tags: list[str] = Field(max_length=100)


class NameUpdate(_Request):
    name: str | None = None


class Labels(_Model):
    """The tags and name of an experiment (`.furu/tags.json`)."""

    tags: list[str]
    name: str | None


class InvalidateRequest(_Request):
    dependents: bool = False


class Invalidated(_Model):
    invalidated: list[str]
    skipped: list[str]


class PlannedStep(_Model):
    """One experiment an invalidation would hit, with its status now."""

    namespace: str
    hash: str
    class_name: str
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    root: bool
    """Whether it is the experiment asked for (else a dependent)."""
    busy: str | None = None
    """Why it would be skipped (it is being computed, running or queued); null: it would be
    invalidated."""


class InvalidatePlan(_Model):
    """What `POST .../invalidate` with the same `dependents` would hit, from
    `furu.plan_targets` (the function the action itself uses), nothing changed."""

    targets: list[PlannedStep]
    dependents: int
    """How many of `targets` are dependents (not the experiment asked for)."""
    truncated: bool = False
    """Whether `targets` lists only the first ones (the counts are of all)."""


class Deleted(_Model):
    deleted: str


class Snippet(_Model):
    """Python that recreates (`code`) or reruns (`rerun_code`) an experiment."""

    code: str
    rerun_code: str
    imports: list[str]
    overrides: dict[str, Any]
    changed: bool


class RerunRequest(_Request):
    overrides: dict[str, Any] = Field(default_factory=dict)
    force: bool = True


class Run(_Model):
    """A rerun started by this server, in a subprocess."""

    id: str
    namespace: str
    hash: str
    status: Literal["running", "succeeded", "failed"]
    pid: int | None
    started_at: str
    ended_at: str | None
    returncode: int | None
    command: list[str]
    output_tail: str
    result_hash: str | None


class Health(_Model):
    status: Literal["ok"]
    index: IndexInfo


class Version(_Model):
    server: str
    furu: str
    api: str
    python: str


class RefreshResult(_Model):
    kind: str
    changed: int
    removed: int
    seconds: float
    generation: int
