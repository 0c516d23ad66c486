"""furu: cached, inspectable pipeline steps.

A step is a chz config (`furu.Furu[T]`); its hash names a directory; `load_or_create()` loads
what is there or computes it exactly once across every process and host sharing the store.

(PYTEST_DONT_REWRITE: pytest rewrites the asserts of packages that ship a pytest plugin, and
would leave its helper names in this namespace.)
"""

# Helpers under private names: everything public in `dir(furu)` is in `__all__`
# (tests/test_exported_members.py), so no `annotations`, `importlib` or `Any` leak into it.
import importlib as _importlib
import typing as _typing

import chz
from chz.util import MISSING

from furu._errors import (
    FuruBatchError,
    FuruComputeError,
    FuruConfigError,
    FuruError,
    FuruHashError,
    FuruIdentityError,
    FuruLockNotAcquired,
    FuruNotFoundError,
    FuruRemoteError,
    FuruStoreError,
    FuruWaitTimeout,
)
from furu._furu import Furu
from furu._furu_list import FuruList
from furu._logging import configure_logging, get_logger
from furu._settings import (
    FURU_CONFIG,
    FuruConfig,
    env_bool,
    env_float,
    env_int,
    get_furu_root,
    load_env,
    set_furu_root,
)
from furu._store import read_regular_file

if _typing.TYPE_CHECKING:
    from furu._attempt_context import AttemptContext, attempt_context, current_attempt_context
    from furu._batch import load_or_create_many
    from furu._bundle import ExportReport, export_steps
    from furu._bundle_import import ImportReport, import_bundle
    from furu._catalog import CatalogEntry
    from furu._code_state import CodeState
    from furu._executor import Executor, InlineExecutor, Job, LocalExecutor, Reporter, Submitted
    from furu._explain import Diff, Explanation, FieldChange, Neighbour, Reason, diff, explain
    from furu._gc import GcCandidate, GcPlan, GcProtected, GcReport, plan_gc
    from furu._graph import StoreGraph
    from furu._journal import JournalCompaction
    from furu._lock import LockInfo
    from furu._manifest import (
        STALE_KINDS,
        Manifest,
        ManifestClass,
        ManifestDependency,
        ManifestExperiment,
        ManifestField,
        ManifestList,
        StaleCause,
    )
    from furu._manifest_scan import build_manifest
    from furu._metadata import Metadata, MetadataManager
    from furu._migration import FieldAdded, FieldRemoved, FieldRenamed, undo_migration
    from furu._migration_plan import Migration, MigrationPlan, migrate
    from furu._ops import (
        SkippedStep,
        StepChanges,
        busy_reason,
        find_step,
        invalidate_steps,
        plan_targets,
        remove_steps,
    )
    from furu._planning import Plan, PlannedStep, plan
    from furu._policy import RunContext, RunPolicy
    from furu._serialization import FuruSerializer
    from furu._stale import StaleResult, StoredRecord, find_stale
    from furu._state import (
        Attempt,
        AttemptStatus,
        Resources,
        ResultStatus,
        StateManager,
        StepState,
        status_rank,
    )
    from furu._step_dir import Labels, StepDir, StepId
    from furu._tagged import ClassRef, RenderedConfig, config_leaves, render_config, untag
    from furu._usage import StepUsage, Usage, UsageRow, disk_usage
    from furu._workspace import Journal, Store, step_dir, step_id

# Imported on first use: a script that only loads cached results never pays for batches,
# executors, metadata capture or state handling (`import furu` stays close to `import chz`).
_LAZY = {
    "AttemptContext": "furu._attempt_context",
    "attempt_context": "furu._attempt_context",
    "current_attempt_context": "furu._attempt_context",
    "load_or_create_many": "furu._batch",
    "ExportReport": "furu._bundle",
    "export_steps": "furu._bundle",
    "ImportReport": "furu._bundle_import",
    "import_bundle": "furu._bundle_import",
    "CatalogEntry": "furu._catalog",
    "CodeState": "furu._code_state",
    "Diff": "furu._explain",
    "Explanation": "furu._explain",
    "FieldChange": "furu._explain",
    "Neighbour": "furu._explain",
    "Reason": "furu._explain",
    "diff": "furu._explain",
    "explain": "furu._explain",
    "Executor": "furu._executor",
    "InlineExecutor": "furu._executor",
    "Job": "furu._executor",
    "LocalExecutor": "furu._executor",
    "Reporter": "furu._executor",
    "Submitted": "furu._executor",
    "LockInfo": "furu._lock",
    "STALE_KINDS": "furu._manifest",
    "Manifest": "furu._manifest",
    "ManifestClass": "furu._manifest",
    "ManifestDependency": "furu._manifest",
    "ManifestExperiment": "furu._manifest",
    "ManifestField": "furu._manifest",
    "ManifestList": "furu._manifest",
    "StaleCause": "furu._manifest",
    "build_manifest": "furu._manifest_scan",
    "StaleResult": "furu._stale",
    "StoredRecord": "furu._stale",
    "find_stale": "furu._stale",
    "Metadata": "furu._metadata",
    "MetadataManager": "furu._metadata",
    "FieldAdded": "furu._migration",
    "FieldRemoved": "furu._migration",
    "FieldRenamed": "furu._migration",
    "undo_migration": "furu._migration",
    "Migration": "furu._migration_plan",
    "MigrationPlan": "furu._migration_plan",
    "migrate": "furu._migration_plan",
    "SkippedStep": "furu._ops",
    "StepChanges": "furu._ops",
    "busy_reason": "furu._ops",
    "find_step": "furu._ops",
    "invalidate_steps": "furu._ops",
    "plan_targets": "furu._ops",
    "remove_steps": "furu._ops",
    "Plan": "furu._planning",
    "PlannedStep": "furu._planning",
    "plan": "furu._planning",
    "RunContext": "furu._policy",
    "RunPolicy": "furu._policy",
    "FuruSerializer": "furu._serialization",
    "Attempt": "furu._state",
    "AttemptStatus": "furu._state",
    "Resources": "furu._state",
    "ResultStatus": "furu._state",
    "StateManager": "furu._state",
    "StepState": "furu._state",
    "status_rank": "furu._state",
    "ClassRef": "furu._tagged",
    "RenderedConfig": "furu._tagged",
    "config_leaves": "furu._tagged",
    "render_config": "furu._tagged",
    "untag": "furu._tagged",
    "Labels": "furu._step_dir",
    "StepDir": "furu._step_dir",
    "StepId": "furu._step_dir",
    "StoreGraph": "furu._graph",
    "GcCandidate": "furu._gc",
    "GcPlan": "furu._gc",
    "GcProtected": "furu._gc",
    "GcReport": "furu._gc",
    "plan_gc": "furu._gc",
    "JournalCompaction": "furu._journal",
    "StepUsage": "furu._usage",
    "Usage": "furu._usage",
    "UsageRow": "furu._usage",
    "disk_usage": "furu._usage",
    "Journal": "furu._workspace",
    "Store": "furu._workspace",
    "step_dir": "furu._workspace",
    "step_id": "furu._workspace",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'furu' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "FURU_CONFIG",
    "MISSING",
    "STALE_KINDS",
    "Attempt",
    "AttemptContext",
    "AttemptStatus",
    "CatalogEntry",
    "ClassRef",
    "CodeState",
    "Diff",
    "Executor",
    "Explanation",
    "ExportReport",
    "FieldAdded",
    "FieldChange",
    "FieldRemoved",
    "FieldRenamed",
    "Furu",
    "FuruBatchError",
    "FuruComputeError",
    "FuruConfig",
    "FuruConfigError",
    "FuruError",
    "FuruHashError",
    "FuruIdentityError",
    "FuruList",
    "FuruLockNotAcquired",
    "FuruNotFoundError",
    "FuruRemoteError",
    "FuruSerializer",
    "FuruStoreError",
    "FuruWaitTimeout",
    "GcCandidate",
    "GcPlan",
    "GcProtected",
    "GcReport",
    "ImportReport",
    "InlineExecutor",
    "Job",
    "Journal",
    "JournalCompaction",
    "Labels",
    "LocalExecutor",
    "LockInfo",
    "Manifest",
    "ManifestClass",
    "ManifestDependency",
    "ManifestExperiment",
    "ManifestField",
    "ManifestList",
    "Metadata",
    "MetadataManager",
    "Migration",
    "MigrationPlan",
    "Neighbour",
    "Plan",
    "PlannedStep",
    "Reason",
    "RenderedConfig",
    "Reporter",
    "Resources",
    "ResultStatus",
    "RunContext",
    "RunPolicy",
    "SkippedStep",
    "StaleCause",
    "StaleResult",
    "StateManager",
    "StepChanges",
    "StepDir",
    "StepId",
    "StepState",
    "StepUsage",
    "Store",
    "StoreGraph",
    "StoredRecord",
    "Submitted",
    "Usage",
    "UsageRow",
    "__version__",
    "attempt_context",
    "build_manifest",
    "busy_reason",
    "chz",
    "config_leaves",
    "configure_logging",
    "current_attempt_context",
    "diff",
    "disk_usage",
    "env_bool",
    "env_float",
    "env_int",
    "explain",
    "export_steps",
    "find_stale",
    "find_step",
    "get_furu_root",
    "get_logger",
    "import_bundle",
    "invalidate_steps",
    "load_env",
    "load_or_create_many",
    "migrate",
    "plan",
    "plan_gc",
    "plan_targets",
    "read_regular_file",
    "remove_steps",
    "render_config",
    "set_furu_root",
    "status_rank",
    "step_dir",
    "step_id",
    "undo_migration",
    "untag",
]
