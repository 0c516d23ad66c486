"""The API's models, generated from furu-server's `openapi.json`: do not edit by hand.

Regenerate with `python packages/furu-client/scripts/generate_models.py`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class Type(StrEnum):
    file = "file"
    dir = "dir"
    symlink = "symlink"


class ArtifactEntry(BaseModel):
    path: Annotated[str, Field(title="Path")]
    type: Annotated[Type, Field(title="Type")]
    size: Annotated[int, Field(title="Size")]
    modified_at: Annotated[str, Field(title="Modified At")]
    linked: Annotated[bool, Field(title="Linked")] = False


class ArtifactTree(BaseModel):
    entries: Annotated[list[ArtifactEntry], Field(title="Entries")]
    total_bytes: Annotated[int, Field(title="Total Bytes")]
    file_count: Annotated[int, Field(title="File Count")]
    truncated: Annotated[bool, Field(title="Truncated")]


class AttemptStatus(StrEnum):
    """
    What happened to the latest attempt at computing a step.
    """

    queued = "queued"
    running = "running"
    success = "success"
    failed = "failed"
    cancelled = "cancelled"
    preempted = "preempted"
    crashed = "crashed"


class Mode(StrEnum):
    rerun = "rerun"
    missing = "missing"


class Executor(StrEnum):
    local = "local"
    slurm = "slurm"


class MaxWorkers(RootModel[int]):
    root: Annotated[int, Field(ge=1, le=256, title="Max Workers")]


class BatchRequest(BaseModel):
    """
    Selected experiments, recomputed (`rerun`) or completed (`missing`: their missing or
    failed dependencies and themselves, when not cached).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    experiments: Annotated[list[str], Field(min_length=1, title="Experiments")]
    mode: Annotated[Mode, Field(title="Mode")]
    executor: Annotated[Executor, Field(title="Executor")] = Executor.local
    max_workers: Annotated[MaxWorkers | None, Field(title="Max Workers")] = None


class BetweenFilter(BaseModel):
    """
    `low <= path <= high`.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["between"], Field(title="Op")]
    path: Annotated[str, Field(max_length=500, min_length=1, title="Path")]
    low: Annotated[str | int | float | bool | None, Field(title="Low")]
    high: Annotated[str | int | float | bool | None, Field(title="High")]


class Kind(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"


class Change(BaseModel):
    path: Annotated[str, Field(title="Path")]
    kind: Annotated[Kind, Field(title="Kind")]
    a: Annotated[Any | None, Field(title="A")] = None
    b: Annotated[Any | None, Field(title="B")] = None


class ClassFailure(BaseModel):
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    error_type: Annotated[str | None, Field(title="Error Type")]
    error_message: Annotated[str | None, Field(title="Error Message")]
    ended_at: Annotated[str | None, Field(title="Ended At")]


class CodeSource(StrEnum):
    """
    Where an experiment's recorded code comes from.
    """

    store = "store"
    inline = "inline"
    commit = "commit"


class Column(BaseModel):
    name: Annotated[str, Field(title="Name")]
    type: Annotated[str, Field(title="Type")]


class Op(StrEnum):
    eq = "eq"
    ne = "ne"
    lt = "lt"
    le = "le"
    gt = "gt"
    ge = "ge"


class CompareFilter(BaseModel):
    """
    `path <op> value`; values compare only with values of the same kind (number, text, bool).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["eq", "ge", "gt", "le", "lt", "ne"], Field(title="Op")]
    path: Annotated[str, Field(max_length=500, min_length=1, title="Path")]
    value: Annotated[str | int | float | bool | None, Field(title="Value")]


class DagEdge(BaseModel):
    """
    Experiments of `target` use experiments of `source` through `field` (`count` times).
    """

    source: Annotated[str, Field(title="Source")]
    target: Annotated[str, Field(title="Target")]
    field: Annotated[str, Field(title="Field")]
    count: Annotated[int, Field(title="Count")]


class DagNode(BaseModel):
    namespace: Annotated[str, Field(title="Namespace")]
    class_name: Annotated[str, Field(title="Class Name")]
    total: Annotated[int, Field(title="Total")]
    counts: Annotated[dict[str, int], Field(title="Counts")]
    bases: Annotated[list[str], Field(title="Bases")]
    has_experiments: Annotated[bool, Field(title="Has Experiments")]
    stale: Annotated[int, Field(title="Stale")] = 0
    in_code: Annotated[bool | None, Field(title="In Code")] = None
    defined_only: Annotated[bool, Field(title="Defined Only")] = False


class DagSource(StrEnum):
    """
    Where `GET /api/dag` takes the graph from.
    """

    experiments = "experiments"
    code = "code"


class Deleted(BaseModel):
    deleted: Annotated[str, Field(title="Deleted")]


class ErrorCode(StrEnum):
    """
    Every `error.code` the API can answer with.
    """

    bad_request = "bad_request"
    filter_syntax = "filter_syntax"
    filter_invalid = "filter_invalid"
    not_a_file = "not_a_file"
    unauthorized = "unauthorized"
    host_not_allowed = "host_not_allowed"
    origin_not_allowed = "origin_not_allowed"
    path_outside_artifact = "path_outside_artifact"
    experiment_not_found = "experiment_not_found"
    file_not_found = "file_not_found"
    run_not_found = "run_not_found"
    manifest_not_found = "manifest_not_found"
    task_not_found = "task_not_found"
    route_not_found = "route_not_found"
    method_not_allowed = "method_not_allowed"
    experiment_running = "experiment_running"
    rerun_unavailable = "rerun_unavailable"
    store_not_writable = "store_not_writable"
    preview_unsupported = "preview_unsupported"
    invalid_request = "invalid_request"
    file_unreadable = "file_unreadable"
    manifest_unreadable = "manifest_unreadable"
    migration_failed = "migration_failed"
    plan_failed = "plan_failed"
    too_many_runs = "too_many_runs"
    index_unavailable = "index_unavailable"
    internal_error = "internal_error"


class ErrorInfo(BaseModel):
    type: Annotated[str | None, Field(title="Type")]
    message: Annotated[str | None, Field(title="Message")]
    traceback: Annotated[str | None, Field(title="Traceback")]


class ExistsFilter(BaseModel):
    """
    `path` has a value (for `config.x`: `x` or anything below it).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["exists"], Field(title="Op")]
    path: Annotated[str, Field(max_length=500, min_length=1, title="Path")]


class Source(StrEnum):
    config = "config"
    result = "result"
    downstream = "downstream"


class Kind1(StrEnum):
    num = "num"
    str = "str"
    bool = "bool"
    null = "null"
    mixed = "mixed"


class FieldInfo(BaseModel):
    """
    A field a table can show as a column and sort by.
    """

    name: Annotated[
        str,
        Field(
            description="As `columns` and `sort_field` take it: `config.lr`, `result.accuracy`, `downstream.Evaluate.result.accuracy`.",
            title="Name",
        ),
    ]
    source: Annotated[Source, Field(title="Source")]
    kind: Annotated[Kind1, Field(title="Kind")]
    experiments: Annotated[
        int,
        Field(
            description="How many experiments (of the class asked for) have it; for a downstream field, how many have a dependent of that class with it.",
            title="Experiments",
        ),
    ]
    downstream_class: Annotated[str | None, Field(title="Downstream Class")] = None


class FieldList(BaseModel):
    """
    The config, result and downstream result fields of the index (of one class).
    """

    class_name: Annotated[str | None, Field(title="Class Name")]
    fields: Annotated[list[FieldInfo], Field(title="Fields")]
    truncated: Annotated[
        bool,
        Field(
            description="More fields exist than listed (the first 2000 are).",
            title="Truncated",
        ),
    ]
    generation: Annotated[int, Field(title="Generation")]


class FieldValueCount(BaseModel):
    value: Annotated[float | int | str | bool | None, Field(title="Value")]
    count: Annotated[int, Field(title="Count")]


class InFilter(BaseModel):
    """
    `path` equals one of `values`.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["in"], Field(title="Op")]
    path: Annotated[str, Field(max_length=500, min_length=1, title="Path")]
    values: Annotated[list[str | int | float | bool | None], Field(max_length=1000, title="Values")]


class IndexInfo(BaseModel):
    """
    How fresh the index a response came from is.
    """

    generation: Annotated[int, Field(title="Generation")]
    experiments: Annotated[int, Field(title="Experiments")]
    built: Annotated[bool, Field(title="Built")]
    refreshing: Annotated[bool, Field(title="Refreshing")]
    last_refresh_at: Annotated[str | None, Field(title="Last Refresh At")]
    last_refresh_kind: Annotated[str | None, Field(title="Last Refresh Kind")]
    last_refresh_seconds: Annotated[float | None, Field(title="Last Refresh Seconds")]
    problems: Annotated[
        int,
        Field(
            description="Experiments the index holds with a problem (a damaged file, text that is not UTF-8, a value truncated in the index: see docs/server.md, Limits).",
            title="Problems",
        ),
    ]
    problem_examples: Annotated[
        list[str],
        Field(
            description="A few of them, `namespace/hash: problem`, the newest first (and records that could not be indexed at all).",
            title="Problem Examples",
        ),
    ]
    build_total: Annotated[
        int | None,
        Field(
            description="While the index is first built: how many experiments the store walk found (None before the walk ends, and once built). `experiments` counts those indexed so far, so a client shows 'indexing <experiments> of <build_total>'.",
            title="Build Total",
        ),
    ] = None


class InvalidateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    dependents: Annotated[bool, Field(title="Dependents")] = False


class Invalidated(BaseModel):
    invalidated: Annotated[list[str], Field(title="Invalidated")]
    skipped: Annotated[list[str], Field(title="Skipped")]


class Labels(BaseModel):
    """
    The tags and name of an experiment (`.furu/tags.json`).
    """

    tags: Annotated[list[str], Field(title="Tags")]
    name: Annotated[str | None, Field(title="Name")]


class LeftOut(BaseModel):
    """
    A file whose diff or content a code state did not record (a size limit), and why.
    """

    path: Annotated[str, Field(title="Path")]
    what: Annotated[str, Field(title="What")]
    bytes: Annotated[int, Field(title="Bytes")]
    why: Annotated[str, Field(title="Why")]


class LineageEdge(BaseModel):
    """
    `source` is the dependency, `target` the experiment that uses it via `field`.
    """

    source: Annotated[str, Field(title="Source")]
    target: Annotated[str, Field(title="Target")]
    field: Annotated[str, Field(title="Field")]


class LogChunk(BaseModel):
    """
    A piece of `furu.log` from byte `offset`; ask again from `next_offset` to tail.
    """

    text: Annotated[str, Field(title="Text")]
    offset: Annotated[int, Field(title="Offset")]
    next_offset: Annotated[int, Field(title="Next Offset")]
    size: Annotated[int, Field(title="Size")]
    eof: Annotated[bool, Field(title="Eof")]
    running: Annotated[bool, Field(title="Running")]


class ManifestDependency(BaseModel):
    """
    A class this class depends on, through `field` (its type, or `_dependencies()`).
    """

    field: Annotated[str, Field(title="Field")]
    namespace: Annotated[str, Field(title="Namespace")]


class ManifestField(BaseModel):
    """
    A field of a class of the code.
    """

    name: Annotated[str, Field(title="Name")]
    type: Annotated[str, Field(title="Type")]
    has_default: Annotated[bool, Field(title="Has Default")]
    default: Annotated[Any | None, Field(title="Default")] = None


class MigrationChange(BaseModel):
    """
    How one field maps from the stored config to the current code's.
    """

    field: Annotated[str, Field(title="Field")]
    kind: Annotated[str, Field(title="Kind")]
    old: Annotated[Any | None, Field(title="Old")] = None
    new: Annotated[Any | None, Field(title="New")] = None


class MigrationInfo(BaseModel):
    """
    One migration as its directories record it (ADR 0005 section 5).
    """

    migrated_from: Annotated[str, Field(title="Migrated From")]
    migrated_to: Annotated[str, Field(title="Migrated To")]
    at: Annotated[str | None, Field(title="At")]
    by: Annotated[str | None, Field(title="By")]
    how: Annotated[str | None, Field(title="How")]
    undone: Annotated[bool, Field(title="Undone")] = False
    broken: Annotated[bool, Field(title="Broken")] = False
    record: Annotated[dict[str, Any] | None, Field(title="Record")] = None


class MigrationItem(BaseModel):
    """
    One experiment of a migration plan: old hash -> new hash.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    old_hash: Annotated[str, Field(title="Old Hash")]
    new_hash: Annotated[str | None, Field(title="New Hash")]
    status: Annotated[str, Field(title="Status")]
    reason: Annotated[str | None, Field(title="Reason")] = None
    changes: Annotated[list[MigrationChange] | None, Field(title="Changes")] = None
    via: Annotated[str | None, Field(title="Via")] = None
    dependent: Annotated[bool, Field(title="Dependent")] = False


class Mode1(StrEnum):
    default = "default"
    value = "value"
    only = "only"


class MigrationPlan(BaseModel):
    """
    What `furu migrate --dry-run --json` says a migration would do (nothing is written).
    """

    namespace: Annotated[str, Field(title="Namespace")]
    mode: Annotated[Mode1, Field(title="Mode")]
    items: Annotated[list[MigrationItem], Field(title="Items")]
    total: Annotated[int, Field(title="Total")]
    counts: Annotated[dict[str, int], Field(title="Counts")]
    command: Annotated[list[str], Field(title="Command")]
    raw: Annotated[dict[str, Any], Field(title="Raw")]


class MigrationRequest(BaseModel):
    """
    Which stored experiments of a class to migrate to the current code, and how.

    `mode`: `default` gives every new field its default; `value` sets fields to `values`
    (the others take their defaults); `only` migrates just `hashes` (hash prefixes; with
    `values`, when given). `where` keeps only the stored configs whose field (a dotted path)
    equals the value given, e.g. `{"lr": 0.1}` (`furu migrate --where lr=0.1`).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    namespace: Annotated[
        str,
        Field(
            max_length=500,
            pattern="^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
            title="Namespace",
        ),
    ]
    mode: Annotated[Mode1, Field(title="Mode")] = Mode1.default
    values: Annotated[dict[str, Any] | None, Field(max_length=100, title="Values")] = None
    hashes: Annotated[list[str] | None, Field(max_length=10000, title="Hashes")] = None
    where: Annotated[dict[str, Any] | None, Field(max_length=100, title="Where")] = None


class NameUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[str | None, Field(title="Name")] = None


class NamespaceInfo(BaseModel):
    namespace: Annotated[str, Field(title="Namespace")]
    class_name: Annotated[str, Field(title="Class Name")]
    total: Annotated[int, Field(title="Total")]
    counts: Annotated[dict[str, int], Field(title="Counts")]
    size_bytes: Annotated[int, Field(title="Size Bytes")]


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


class ParseRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    query: Annotated[str, Field(max_length=10000, title="Query")]


class Status(StrEnum):
    create = "create"
    cached = "cached"
    running = "running"


class PlannedItem(BaseModel):
    """
    One experiment of a plan: `create` (to compute), `cached` (loaded as it is) or
    `running` (being computed elsewhere now: the batch waits for it).
    """

    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    status: Annotated[Status, Field(title="Status")]
    reason: Annotated[str, Field(title="Reason")] = ""
    values: Annotated[dict[str, Any] | None, Field(title="Values")] = None


class Kind2(StrEnum):
    table = "table"
    text = "text"
    json = "json"
    image = "image"
    binary = "binary"


class RefreshResult(BaseModel):
    kind: Annotated[str, Field(title="Kind")]
    changed: Annotated[int, Field(title="Changed")]
    removed: Annotated[int, Field(title="Removed")]
    seconds: Annotated[float, Field(title="Seconds")]
    generation: Annotated[int, Field(title="Generation")]


class RerunRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    overrides: Annotated[dict[str, Any] | None, Field(title="Overrides")] = None
    force: Annotated[bool, Field(title="Force")] = True


class ResultStatus(StrEnum):
    """
    Whether a step has a result.
    """

    absent = "absent"
    incomplete = "incomplete"
    success = "success"
    failed = "failed"


class Status1(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Run(BaseModel):
    """
    A rerun started by this server, in a subprocess.
    """

    id: Annotated[str, Field(title="Id")]
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    status: Annotated[Status1, Field(title="Status")]
    pid: Annotated[int | None, Field(title="Pid")]
    started_at: Annotated[str, Field(title="Started At")]
    ended_at: Annotated[str | None, Field(title="Ended At")]
    returncode: Annotated[int | None, Field(title="Returncode")]
    command: Annotated[list[str], Field(title="Command")]
    output_tail: Annotated[str, Field(title="Output Tail")]
    result_hash: Annotated[str | None, Field(title="Result Hash")]


class SortField(RootModel[str]):
    root: Annotated[str, Field(max_length=1000, title="Sort Field")]


class Column1(RootModel[str]):
    root: Annotated[str, Field(max_length=1000)]


class Sizes(BaseModel):
    total_bytes: Annotated[int, Field(title="Total Bytes")]
    file_count: Annotated[int, Field(title="File Count")]
    log_bytes: Annotated[int, Field(title="Log Bytes")]
    truncated: Annotated[bool, Field(title="Truncated")]


class SlurmAvailability(BaseModel):
    """
    Whether the project's environment can run the batch on SLURM (furu-slurm).
    """

    available: Annotated[bool, Field(title="Available")]
    reason: Annotated[str, Field(title="Reason")]


class Snippet(BaseModel):
    """
    Python that recreates (`code`) or reruns (`rerun_code`) an experiment.
    """

    code: Annotated[str, Field(title="Code")]
    rerun_code: Annotated[str, Field(title="Rerun Code")]
    imports: Annotated[list[str], Field(title="Imports")]
    overrides: Annotated[dict[str, Any], Field(title="Overrides")]
    changed: Annotated[bool, Field(title="Changed")]


class SortKey(StrEnum):
    """
    What a listing can be sorted by.
    """

    updated = "updated"
    created = "created"
    started = "started"
    runtime = "runtime"
    status = "status"
    dependencies = "dependencies"
    class_ = "class"
    namespace = "namespace"
    name = "name"
    size = "size"
    hash = "hash"
    wall = "wall"
    cpu_user = "cpu_user"
    cpu_system = "cpu_system"
    peak_rss = "peak_rss"
    gpu_memory = "gpu_memory"
    gpu_utilization = "gpu_utilization"


class Stats(BaseModel):
    total: Annotated[int, Field(title="Total")]
    by_result_status: Annotated[dict[str, int], Field(title="By Result Status")]
    by_attempt_status: Annotated[dict[str, int], Field(title="By Attempt Status")]
    by_backend: Annotated[dict[str, int], Field(title="By Backend")]
    namespaces: Annotated[int, Field(title="Namespaces")]
    size_bytes: Annotated[int, Field(title="Size Bytes")]
    running: Annotated[int, Field(title="Running")]
    failed: Annotated[int, Field(title="Failed")]
    index: IndexInfo


class SubclassEdge(BaseModel):
    child: Annotated[str, Field(title="Child")]
    parent: Annotated[str, Field(title="Parent")]


class SweepPlan(BaseModel):
    """
    What launching would do (`furu.plan` in the project's environment): the requested
    experiments (`items`, in order) and the dependencies that must be created first.
    """

    items: Annotated[list[PlannedItem], Field(title="Items")]
    dependencies: Annotated[list[PlannedItem], Field(title="Dependencies")]
    to_create: Annotated[int, Field(title="To Create")]
    cached: Annotated[int, Field(title="Cached")]
    running: Annotated[int, Field(title="Running")]
    summary: Annotated[str, Field(title="Summary")]
    slurm: SlurmAvailability
    code: Annotated[str, Field(title="Code")]
    limit: Annotated[int, Field(title="Limit")]


class SweepRequest(BaseModel):
    """
    A sweep from one experiment: its config with `overrides` set, once per combination of
    `axes` (the cartesian product of each field's values).

    Values are JSON, typed by the field's recorded type (`config_schema`): `lr: [0.1, 0.3]`.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    axes: Annotated[dict[str, list[Any]] | None, Field(title="Axes")] = None
    overrides: Annotated[dict[str, Any] | None, Field(title="Overrides")] = None
    executor: Annotated[Executor, Field(title="Executor")] = Executor.local
    max_workers: Annotated[MaxWorkers | None, Field(title="Max Workers")] = None


class TagsUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    tags: Annotated[list[str], Field(max_length=100, title="Tags")]


class Kind3(StrEnum):
    manifest = "manifest"
    migration = "migration"
    sweep = "sweep"
    batch = "batch"


class Task(BaseModel):
    """
    A `furu` command this server runs in the project's environment (a subprocess):
    `manifest` (POST /api/manifest/refresh), `migration` (POST /api/migrations/apply),
    `sweep` (POST /api/sweeps) or `batch` (POST /api/batches).
    """

    id: Annotated[str, Field(title="Id")]
    kind: Annotated[Kind3, Field(title="Kind")]
    status: Annotated[Status1, Field(title="Status")]
    pid: Annotated[int | None, Field(title="Pid")]
    started_at: Annotated[str, Field(title="Started At")]
    ended_at: Annotated[str | None, Field(title="Ended At")]
    returncode: Annotated[int | None, Field(title="Returncode")]
    command: Annotated[list[str], Field(title="Command")]
    output_tail: Annotated[str, Field(title="Output Tail")]
    progress: Annotated[str | None, Field(title="Progress")]
    result: Annotated[Any | None, Field(title="Result")] = None
    error: Annotated[str | None, Field(title="Error")] = None


class Op1(StrEnum):
    contains = "contains"
    startswith_ = "startswith"
    regex = "regex"


class TextFilter(BaseModel):
    """
    Text matching: `contains` (a substring; for `tags`, a tag), `startswith`, `regex`.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["contains", "regex", "startswith"], Field(title="Op")]
    path: Annotated[str, Field(max_length=500, min_length=1, title="Path")]
    value: Annotated[str, Field(max_length=1000, title="Value")]


class Truncation(BaseModel):
    """
    Where a response was cut to stay within the server's limits (docs/server.md, Limits).

    `path` names the value (`config.note`, `rows[3][1]`, `line 5`), `size` its full size and
    `kept` what the response holds, both in `unit` (characters, bytes, items, levels, lines).
    """

    path: Annotated[str, Field(title="Path")]
    unit: Annotated[str, Field(title="Unit")]
    size: Annotated[int, Field(title="Size")]
    kept: Annotated[int, Field(title="Kept")]


class UndoRequest(BaseModel):
    """
    The migration to undo: its alias `<namespace>/<hash>` (or the migrated result's, to
    undo every live alias of it).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    ref: Annotated[
        str,
        Field(
            max_length=700,
            pattern="^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*/[A-Za-z0-9_-]{1,128}$",
            title="Ref",
        ),
    ]


class UndoneMigration(BaseModel):
    alias: Annotated[str, Field(title="Alias")]
    migrated_from: Annotated[str, Field(title="Migrated From")]


class UntrackedFile(BaseModel):
    """
    An untracked file a code state recorded.
    """

    path: Annotated[str, Field(title="Path")]
    size: Annotated[int, Field(title="Size")]
    mode: Annotated[str, Field(title="Mode")]


class VaryingField(BaseModel):
    """
    A config field whose value differs among a class's experiments.
    """

    field: Annotated[str, Field(title="Field")]
    distinct: Annotated[int, Field(title="Distinct")]
    values: Annotated[list[FieldValueCount], Field(title="Values")]


class Version(BaseModel):
    server: Annotated[str, Field(title="Server")]
    furu: Annotated[str, Field(title="Furu")]
    api: Annotated[str, Field(title="Api")]
    python: Annotated[str, Field(title="Python")]


class CodeStateInfo(BaseModel):
    """
    The code an experiment was created from, and the command that recreates it.
    """

    source: CodeSource
    id: Annotated[str | None, Field(title="Id")]
    commit: Annotated[str, Field(title="Commit")]
    branch: Annotated[str | None, Field(title="Branch")]
    remote: Annotated[str | None, Field(title="Remote")]
    dirty: Annotated[bool | None, Field(title="Dirty")]
    changed_files: Annotated[int | None, Field(title="Changed Files")]
    diff: Annotated[str | None, Field(title="Diff")]
    diff_bytes: Annotated[int, Field(title="Diff Bytes")]
    diff_truncated: Annotated[bool, Field(title="Diff Truncated")]
    untracked: Annotated[list[UntrackedFile], Field(title="Untracked")]
    left_out: Annotated[list[LeftOut], Field(title="Left Out")]
    left_out_count: Annotated[int, Field(title="Left Out Count")]
    problem: Annotated[str | None, Field(title="Problem")]
    checkout_command: Annotated[str, Field(title="Checkout Command")]


class Dag(BaseModel):
    nodes: Annotated[list[DagNode], Field(title="Nodes")]
    edges: Annotated[list[DagEdge], Field(title="Edges")]
    subclass_edges: Annotated[list[SubclassEdge], Field(title="Subclass Edges")]
    source: DagSource = DagSource.experiments
    manifest_written_at: Annotated[str | None, Field(title="Manifest Written At")] = None


class DagClass(BaseModel):
    """
    One class of the DAG in detail: its varying config fields and its recent failures.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    class_name: Annotated[str, Field(title="Class Name")]
    total: Annotated[int, Field(title="Total")]
    failed: Annotated[int, Field(title="Failed")]
    varying: Annotated[list[VaryingField], Field(title="Varying")]
    constant: Annotated[int, Field(title="Constant")]
    failures: Annotated[list[ClassFailure], Field(title="Failures")]


class Diff(BaseModel):
    a: Annotated[str, Field(title="A")]
    b: Annotated[str, Field(title="B")]
    same_class: Annotated[bool, Field(title="Same Class")]
    config: Annotated[list[Change], Field(title="Config")]
    metadata: Annotated[list[Change], Field(title="Metadata")]
    truncated: Annotated[bool, Field(title="Truncated")] = False
    truncations: Annotated[list[Truncation] | None, Field(title="Truncations")] = None


class ErrorBody(BaseModel):
    code: ErrorCode
    message: Annotated[str, Field(title="Message")]
    detail: Annotated[dict[str, Any] | None, Field(title="Detail")] = None


class ErrorResponse(BaseModel):
    """
    The envelope of every error.
    """

    error: ErrorBody


class ExperimentDetail(BaseModel):
    """
    Everything recorded about one experiment, read from its files.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    class_name: Annotated[str, Field(title="Class Name")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    attempt_number: Annotated[int | None, Field(title="Attempt Number")]
    backend: Annotated[str | None, Field(title="Backend")]
    hostname: Annotated[str | None, Field(title="Hostname")]
    user: Annotated[str | None, Field(title="User")]
    started_at: Annotated[str | None, Field(title="Started At")]
    ended_at: Annotated[str | None, Field(title="Ended At")]
    updated_at: Annotated[str | None, Field(title="Updated At")]
    created_at: Annotated[str | None, Field(title="Created At")]
    runtime_sec: Annotated[float | None, Field(title="Runtime Sec")]
    wall_sec: Annotated[float | None, Field(title="Wall Sec")]
    cpu_user_sec: Annotated[float | None, Field(title="Cpu User Sec")]
    cpu_system_sec: Annotated[float | None, Field(title="Cpu System Sec")]
    peak_rss_bytes: Annotated[int | None, Field(title="Peak Rss Bytes")]
    gpu_peak_memory_bytes: Annotated[int | None, Field(title="Gpu Peak Memory Bytes")]
    gpu_utilization_pct: Annotated[float | None, Field(title="Gpu Utilization Pct")]
    n_dependencies: Annotated[int, Field(title="N Dependencies")]
    name: Annotated[str | None, Field(title="Name")]
    tags: Annotated[list[str], Field(title="Tags")]
    version_controlled: Annotated[bool, Field(title="Version Controlled")]
    size_bytes: Annotated[int, Field(title="Size Bytes")]
    furu_dir: Annotated[str, Field(title="Furu Dir")]
    stale: Annotated[bool | None, Field(title="Stale")] = None
    stale_kind: Annotated[str | None, Field(title="Stale Kind")] = None
    stale_reason: Annotated[str | None, Field(title="Stale Reason")] = None
    migrated_from: Annotated[str | None, Field(title="Migrated From")] = None
    display_name: Annotated[str | None, Field(title="Display Name")] = None
    values: Annotated[dict[str, float | int | str | bool | None] | None, Field(title="Values")] = (
        None
    )
    config: Annotated[dict[str, Any] | None, Field(title="Config")]
    python_def: Annotated[str | None, Field(title="Python Def")]
    state: Annotated[dict[str, Any] | None, Field(title="State")]
    metadata: Annotated[dict[str, Any] | None, Field(title="Metadata")]
    error: ErrorInfo | None
    sizes: Sizes
    class_bases: Annotated[list[str], Field(title="Class Bases")]
    config_schema: Annotated[list[dict[str, Any]], Field(title="Config Schema")]
    problems: Annotated[list[str], Field(title="Problems")]
    results: Annotated[
        dict[str, float | int | str | bool | None] | None, Field(title="Results")
    ] = None
    code_state: CodeStateInfo | None = None
    migration: MigrationInfo | None = None
    migrations: Annotated[list[MigrationInfo] | None, Field(title="Migrations")] = None
    truncated: Annotated[bool, Field(title="Truncated")] = False
    truncations: Annotated[list[Truncation] | None, Field(title="Truncations")] = None


class ExperimentSummary(BaseModel):
    """
    One row of a listing.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    class_name: Annotated[str, Field(title="Class Name")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    attempt_number: Annotated[int | None, Field(title="Attempt Number")]
    backend: Annotated[str | None, Field(title="Backend")]
    hostname: Annotated[str | None, Field(title="Hostname")]
    user: Annotated[str | None, Field(title="User")]
    started_at: Annotated[str | None, Field(title="Started At")]
    ended_at: Annotated[str | None, Field(title="Ended At")]
    updated_at: Annotated[str | None, Field(title="Updated At")]
    created_at: Annotated[str | None, Field(title="Created At")]
    runtime_sec: Annotated[float | None, Field(title="Runtime Sec")]
    wall_sec: Annotated[float | None, Field(title="Wall Sec")]
    cpu_user_sec: Annotated[float | None, Field(title="Cpu User Sec")]
    cpu_system_sec: Annotated[float | None, Field(title="Cpu System Sec")]
    peak_rss_bytes: Annotated[int | None, Field(title="Peak Rss Bytes")]
    gpu_peak_memory_bytes: Annotated[int | None, Field(title="Gpu Peak Memory Bytes")]
    gpu_utilization_pct: Annotated[float | None, Field(title="Gpu Utilization Pct")]
    n_dependencies: Annotated[int, Field(title="N Dependencies")]
    name: Annotated[str | None, Field(title="Name")]
    tags: Annotated[list[str], Field(title="Tags")]
    version_controlled: Annotated[bool, Field(title="Version Controlled")]
    size_bytes: Annotated[int, Field(title="Size Bytes")]
    furu_dir: Annotated[str, Field(title="Furu Dir")]
    stale: Annotated[bool | None, Field(title="Stale")] = None
    stale_kind: Annotated[str | None, Field(title="Stale Kind")] = None
    stale_reason: Annotated[str | None, Field(title="Stale Reason")] = None
    migrated_from: Annotated[str | None, Field(title="Migrated From")] = None
    display_name: Annotated[str | None, Field(title="Display Name")] = None
    values: Annotated[dict[str, float | int | str | bool | None] | None, Field(title="Values")] = (
        None
    )


class Health(BaseModel):
    status: Annotated[Literal["ok"], Field(title="Status")]
    index: IndexInfo


class LineageNode(BaseModel):
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    class_name: Annotated[str, Field(title="Class Name")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    depth: Annotated[int, Field(title="Depth")]
    display_name: Annotated[str | None, Field(title="Display Name")] = None
    values: Annotated[dict[str, float | int | str | bool | None] | None, Field(title="Values")] = (
        None
    )


class ManifestClass(BaseModel):
    """
    A `furu.Furu` class of the current code, with its experiments in the store.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    class_name: Annotated[str, Field(title="Class Name")]
    bases: Annotated[list[str], Field(title="Bases")]
    fields: Annotated[list[ManifestField], Field(title="Fields")]
    dependencies: Annotated[list[ManifestDependency], Field(title="Dependencies")]
    migrations: Annotated[list[dict[str, Any]], Field(title="Migrations")]
    doc: Annotated[str | None, Field(title="Doc")]
    experiments: Annotated[int, Field(title="Experiments")]
    stale: Annotated[int, Field(title="Stale")]
    counts: Annotated[dict[str, int], Field(title="Counts")]


class ManifestExperiment(BaseModel):
    """
    A named experiment of a `FuruList` of the code, and its status in the store.
    """

    name: Annotated[str, Field(title="Name")]
    namespace: Annotated[str, Field(title="Namespace")]
    class_name: Annotated[str, Field(title="Class Name")]
    hash: Annotated[str, Field(title="Hash")]
    ref: Annotated[str, Field(title="Ref")]
    indexed: Annotated[bool, Field(title="Indexed")]
    status: Annotated[str, Field(title="Status")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    stale: Annotated[bool | None, Field(title="Stale")]
    config: Annotated[dict[str, Any] | None, Field(title="Config")]
    snippet: Annotated[str | None, Field(title="Snippet")]


class ManifestList(BaseModel):
    """
    A module-level `FuruList` of the code.
    """

    name: Annotated[str, Field(title="Name")]
    module: Annotated[str | None, Field(title="Module")]
    experiments: Annotated[list[ManifestExperiment], Field(title="Experiments")]


class PlannedStep(BaseModel):
    """
    One experiment an invalidation would hit, with its status now.
    """

    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    class_name: Annotated[str, Field(title="Class Name")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    root: Annotated[bool, Field(title="Root")]
    busy: Annotated[str | None, Field(title="Busy")] = None


class Preview(BaseModel):
    """
    A page of a file: a table (`columns`, `rows`), text, JSON, or an image's MIME type.
    """

    path: Annotated[str, Field(title="Path")]
    kind: Annotated[Kind2, Field(title="Kind")]
    mime: Annotated[str, Field(title="Mime")]
    size: Annotated[int, Field(title="Size")]
    columns: Annotated[list[Column] | None, Field(title="Columns")] = None
    rows: Annotated[list[list[Any]] | None, Field(title="Rows")] = None
    total_rows: Annotated[int | None, Field(title="Total Rows")] = None
    offset: Annotated[int, Field(title="Offset")] = 0
    text: Annotated[str | None, Field(title="Text")] = None
    value: Annotated[Any | None, Field(title="Value")] = None
    truncated: Annotated[bool, Field(title="Truncated")] = False
    url: Annotated[str | None, Field(title="Url")] = None
    truncations: Annotated[list[Truncation] | None, Field(title="Truncations")] = None


class Related(BaseModel):
    """
    A parent (dependency) or child (dependent) of an experiment, with its status.
    """

    field: Annotated[str, Field(title="Field")]
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    class_name: Annotated[str, Field(title="Class Name")]
    result_status: ResultStatus
    attempt_status: AttemptStatus | None
    indexed: Annotated[bool, Field(title="Indexed")]


class Relationships(BaseModel):
    namespace: Annotated[str, Field(title="Namespace")]
    hash: Annotated[str, Field(title="Hash")]
    parents: Annotated[list[Related], Field(title="Parents")]
    children: Annotated[list[Related], Field(title="Children")]
    children_total: Annotated[int, Field(title="Children Total")]


class Undone(BaseModel):
    undone: Annotated[list[UndoneMigration], Field(title="Undone")]


class ExperimentList(BaseModel):
    items: Annotated[list[ExperimentSummary], Field(title="Items")]
    total: Annotated[int, Field(title="Total")]
    offset: Annotated[int, Field(title="Offset")]
    limit: Annotated[int, Field(title="Limit")]
    sort: SortKey
    order: Order
    index: IndexInfo


class InvalidatePlan(BaseModel):
    """
    What `POST .../invalidate` with the same `dependents` would hit, from
    `furu.plan_targets` (the function the action itself uses), nothing changed.
    """

    targets: Annotated[list[PlannedStep], Field(title="Targets")]
    dependents: Annotated[int, Field(title="Dependents")]
    truncated: Annotated[bool, Field(title="Truncated")] = False


class Lineage(BaseModel):
    root: Annotated[str, Field(title="Root")]
    nodes: Annotated[list[LineageNode], Field(title="Nodes")]
    edges: Annotated[list[LineageEdge], Field(title="Edges")]
    truncated: Annotated[bool, Field(title="Truncated")]


class ManifestInfo(BaseModel):
    """
    The current code as `furu manifest` last recorded it, joined with the store's index.
    """

    path: Annotated[str, Field(title="Path")]
    written_at: Annotated[str | None, Field(title="Written At")]
    modules: Annotated[list[str], Field(title="Modules")]
    errors: Annotated[list[str], Field(title="Errors")]
    classes: Annotated[list[ManifestClass], Field(title="Classes")]
    lists: Annotated[list[ManifestList], Field(title="Lists")]
    removed_classes: Annotated[list[str], Field(title="Removed Classes")]
    stale: Annotated[int, Field(title="Stale")]
    truncated: Annotated[bool, Field(title="Truncated")] = False


class AndFilter(BaseModel):
    """
    True when every argument is (an empty `and` is true).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["and"], Field(title="Op")]
    args: Annotated[
        list[
            Annotated[
                AndFilter
                | OrFilter
                | NotFilter
                | CompareFilter
                | BetweenFilter
                | InFilter
                | TextFilter
                | ExistsFilter,
                Field(discriminator="op"),
            ]
        ],
        Field(title="Args"),
    ]


class NotFilter(BaseModel):
    """
    True when its argument is false (including when the field is missing).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["not"], Field(title="Op")]
    arg: Annotated[
        AndFilter
        | OrFilter
        | NotFilter
        | CompareFilter
        | BetweenFilter
        | InFilter
        | TextFilter
        | ExistsFilter,
        Field(discriminator="op", title="Arg"),
    ]


class OrFilter(BaseModel):
    """
    True when any argument is (an empty `or` is false).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    op: Annotated[Literal["or"], Field(title="Op")]
    args: Annotated[
        list[
            Annotated[
                AndFilter
                | OrFilter
                | NotFilter
                | CompareFilter
                | BetweenFilter
                | InFilter
                | TextFilter
                | ExistsFilter,
                Field(discriminator="op"),
            ]
        ],
        Field(title="Args"),
    ]


class ParseResponse(BaseModel):
    """
    A parsed text filter: the tree, and its canonical text.
    """

    filter: Annotated[
        AndFilter
        | OrFilter
        | NotFilter
        | CompareFilter
        | BetweenFilter
        | InFilter
        | TextFilter
        | ExistsFilter
        | None,
        Field(title="Filter"),
    ]
    text: Annotated[str, Field(title="Text")]


class SearchRequest(BaseModel):
    """
    A search: a filter tree or its text form (both: they are and-ed).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    filter: Annotated[
        AndFilter
        | OrFilter
        | NotFilter
        | CompareFilter
        | BetweenFilter
        | InFilter
        | TextFilter
        | ExistsFilter
        | None,
        Field(title="Filter"),
    ] = None
    query: Annotated[str | None, Field(title="Query")] = None
    sort: SortKey = SortKey.updated
    order: Order = Order.desc
    sort_field: Annotated[SortField | None, Field(title="Sort Field")] = None
    columns: Annotated[list[Column1] | None, Field(max_length=16, title="Columns")] = None
    limit: Annotated[int, Field(ge=1, le=1000, title="Limit")] = 50
    offset: Annotated[int, Field(ge=0, le=10000000, title="Offset")] = 0


AndFilter.model_rebuild()
NotFilter.model_rebuild()
OrFilter.model_rebuild()
