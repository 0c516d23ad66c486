"""furu: cached, inspectable pipeline steps.

A step is a chz config (`furu.Furu[T]`); its hash names a directory; `load_or_create()` loads
what is there or computes it exactly once across every process and host sharing the store.
"""

from __future__ import annotations

import chz
from chz.util import MISSING

from furu._batch import load_or_create_many
from furu._errors import (
    FuruBatchError,
    FuruComputeError,
    FuruConfigError,
    FuruError,
    FuruHashError,
    FuruIdentityError,
    FuruLockNotAcquired,
    FuruRemoteError,
    FuruStoreError,
    FuruWaitTimeout,
)
from furu._executor import Executor, InlineExecutor, Job, LocalExecutor, Reporter
from furu._furu import Furu
from furu._furu_list import FuruList
from furu._logging import configure_logging, get_logger
from furu._metadata import Metadata, MetadataManager
from furu._planning import Plan, PlannedStep, plan
from furu._serialization import FuruSerializer
from furu._settings import FURU_CONFIG, FuruConfig, get_furu_root, load_env, set_furu_root
from furu._state import Attempt, AttemptStatus, ResultStatus, StateManager, StepState

__version__ = "0.1.0"

__all__ = [
    "FURU_CONFIG",
    "MISSING",
    "Attempt",
    "AttemptStatus",
    "Executor",
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
    "FuruRemoteError",
    "FuruSerializer",
    "FuruStoreError",
    "FuruWaitTimeout",
    "InlineExecutor",
    "Job",
    "LocalExecutor",
    "Metadata",
    "MetadataManager",
    "Plan",
    "PlannedStep",
    "Reporter",
    "ResultStatus",
    "StateManager",
    "StepState",
    "__version__",
    "chz",
    "configure_logging",
    "get_furu_root",
    "get_logger",
    "load_env",
    "load_or_create_many",
    "plan",
    "set_furu_root",
]
