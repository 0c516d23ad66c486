"""furu's settings: one mutable object, `FURU_CONFIG`, filled from `FURU_*` variables.

Settings are read from the environment once, when furu is imported (and again by
`FURU_CONFIG.reload()`), so the hot path of a cache hit never parses the environment. Assigning an
attribute changes the behaviour of this process from then on:

```python
furu.FURU_CONFIG.ignore_git_diff = True
furu.FURU_CONFIG.lease_secs = 300.0
```
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from furu._errors import FuruConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

MIN_HEARTBEAT_SECS = 0.1
"""The shortest interval between lease renewals: each one touches (and reads) the lock file, so
renewing more often would turn the heartbeat into a busy loop against the store (costly on
NFS)."""
MIN_LEASE_SECS = 0.3
"""The shortest lease (and `FURU_STALE_AFTER_SECS`): room for three renewals."""
DEFAULT_MAX_DIFF_BYTES = 1_000_000
DEFAULT_MAX_UNTRACKED_BYTES = 10_000_000
DEFAULT_MAX_UNTRACKED_FILES = 1_000
MAX_CODE_STATE_BYTES = 1 << 30
"""The most a code state's diff, or its untracked files, may hold (1 GiB): each is held in
memory once per process, and written into the store."""
MAX_UNTRACKED_FILES = 1_000_000


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_bool(name: str, default: bool, *, error: type[FuruConfigError] = FuruConfigError) -> bool:
    """The boolean in variable `name` (1/true/yes/on, 0/false/no/off); `error` names it if not."""
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise error(
        f"{name}={raw!r} is not a boolean. Set {name} to one of 1/true/yes/on or 0/false/no/off."
    )


def env_float(
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    why: str = "",
    zero_means: str | None = None,
    example: float | None = None,
    error: type[FuruConfigError] = FuruConfigError,
) -> float:
    """The finite number (at least `minimum`) in variable `name`; `error` names it if not.

    Args:
        why: why the minimum is what it is, for the message.
        zero_means: when given, 0 is allowed too and means this (e.g. "the default").
        example: the value the message suggests (default: `default`).
    """
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise error(
            f"{name}={raw!r} is not a number of seconds. Set {name} to a number such as "
            f"{default:g}, or unset it for the default."
        ) from None
    if zero_means is not None and value == 0:
        return value
    if not math.isfinite(value) or not value >= minimum:
        zero = f"0 ({zero_means}) or " if zero_means is not None else ""
        raise error(
            f"{name}={raw!r} must be {zero}a finite number of at least {minimum:g}{why}. Set "
            f"{name} to e.g. {default if example is None else example:g}, or unset it for the "
            "default."
        )
    return value


def env_int(
    name: str,
    default: int,
    *,
    maximum: int | None = None,
    error: type[FuruConfigError] = FuruConfigError,
) -> int:
    """The non-negative whole number (at most `maximum`) in variable `name`; `error` names it
    if not."""
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(
            f"{name}={raw!r} is not a whole number. Set {name} to e.g. {default}."
        ) from None
    if value < 0:
        raise error(f"{name}={raw!r} must not be negative. Set {name} to e.g. {default}.")
    if maximum is not None and value > maximum:
        raise error(
            f"{name}={raw!r} is more than the most furu allows, {maximum}. Set {name} to at most "
            f"{maximum} (e.g. {default}), or unset it for the default."
        )
    return value


MIN_SAMPLE_SECS = 0.01
"""The shortest interval between two samples of a running step's resident memory."""

_LEASE_WHY = f" (room for three lease renewals, which come at most every {MIN_HEARTBEAT_SECS:g} s)"


def _env_names(name: str) -> frozenset[str]:
    """A comma-separated list of qualified class names, or `ALL`."""
    raw = _env(name) or ""
    names = frozenset(part.strip() for part in raw.split(",") if part.strip())
    for entry in names:
        if entry != "ALL" and ("." not in entry or " " in entry):
            raise FuruConfigError(
                f"{name} holds {entry!r}, which is not a qualified class name. List classes as "
                f"module.Class separated by commas (e.g. {name}=my_project.pipelines.TrainModel), "
                "or set it to ALL."
            )
    return names


def _env_level(name: str) -> str:
    raw = (_env(name) or "INFO").upper()
    if raw not in _LOG_LEVELS:
        raise FuruConfigError(f"{name}={raw!r} is not a log level. Use one of {_LOG_LEVELS}.")
    return raw


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest directory, from `start` (the working directory) upward, with a pyproject.toml.

    Falls back to the nearest directory holding a `.gitignore` (a project without packaging).
    """
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    for marker in ("pyproject.toml", ".gitignore"):
        for directory in candidates:
            if (directory / marker).is_file():
                return directory
    return None


def _default_root() -> Path:
    project = find_project_root()
    return (project or Path.cwd()) / "furu-data"


@dataclass
class FuruConfig:
    """Every setting furu reads, with the `FURU_*` variable each one comes from.

    A scheduler's own settings (how often to ask it, how many requeues to allow) belong to the
    package that drives it, not to this object.

    Attributes:
        base_root: where artifacts live (`FURU_PATH`; default `furu-data/` beside the project's
            `pyproject.toml`).
        version_controlled_root: where `version_controlled=True` steps live
            (`FURU_VERSION_CONTROLLED_PATH`; default `furu-data/artifacts/` beside the
            project's `pyproject.toml`, whatever `FURU_PATH` says).
        log_level: console verbosity (`FURU_LOG_LEVEL`).
        ignore_git_diff: record only the commit, not the uncommitted diff and untracked files
            (`FURU_IGNORE_DIFF`).
        max_git_patch_bytes: the most bytes of uncommitted diff a code state records; files
            whose diff does not fit are left out, and named (`FURU_MAX_GIT_PATCH_BYTES`).
        max_untracked_bytes: the most bytes of untracked files a code state records
            (`FURU_MAX_UNTRACKED_BYTES`).
        max_untracked_files: the most untracked files a code state records
            (`FURU_MAX_UNTRACKED_FILES`).
        wait_log_every: seconds between "still waiting" messages (`FURU_WAIT_LOG_EVERY_SECS`).
        stale_after: a holder on another host with no heartbeat for this long counts as dead,
            whatever lease its lock claims (`FURU_STALE_AFTER_SECS`).
        lease_secs: how long a compute lock stays valid without a heartbeat (`FURU_LEASE_SECS`).
        heartbeat_secs: how often the holder renews its lease (`FURU_HEARTBEAT_SECS`,
            default lease / 3; at least 0.1 s, and the lease and `stale_after` at least 0.3 s).
        rich_uncaught_tracebacks: format uncaught exceptions with rich
            (`FURU_RICH_UNCAUGHT_TRACEBACKS`).
        force_recompute: classes recomputed once per process even when cached
            (`FURU_FORCE_RECOMPUTE`, qualified names or `ALL`), wherever they are in the graph
            below the steps asked for, even below cached dependents.
        force_recompute_dependents: recompute, once per process too, every step that depends
            (directly or not) on a `force_recompute` class; by default those keep their cached
            results (`FURU_FORCE_RECOMPUTE_DEPENDENTS`).
        always_rerun: classes recomputed on every call (`FURU_ALWAYS_RERUN`).
        dry_run: report what would be computed, compute nothing (`FURU_DRY_RUN`).
        allow_main: allow steps defined in `__main__` (`FURU_ALLOW_MAIN`).
        allow_locals: allow steps defined inside functions (`FURU_ALLOW_LOCALS`).
        resource_sample_secs: how often the resident memory of a running step's process tree
            (and its GPU memory) is sampled (`FURU_RESOURCE_SAMPLE_SECS`, default 0.1; 0 turns
            sampling off, leaving the process's own exact peak; at least 0.01 s).
    """

    base_root: Path = field(default_factory=_default_root)
    version_controlled_root: Path | None = None
    log_level: str = "INFO"
    ignore_git_diff: bool = False
    max_git_patch_bytes: int = DEFAULT_MAX_DIFF_BYTES
    max_untracked_bytes: int = DEFAULT_MAX_UNTRACKED_BYTES
    max_untracked_files: int = DEFAULT_MAX_UNTRACKED_FILES
    wait_log_every: float = 10.0
    stale_after: float = 1800.0
    lease_secs: float = 120.0
    heartbeat_secs: float | None = None
    rich_uncaught_tracebacks: bool = True
    force_recompute: frozenset[str] = frozenset()
    force_recompute_dependents: bool = False
    always_rerun: frozenset[str] = frozenset()
    dry_run: bool = False
    allow_main: bool = False
    allow_locals: bool = False
    resource_sample_secs: float = 0.1

    @classmethod
    def from_env(cls) -> FuruConfig:
        """Read every `FURU_*` variable; a malformed one raises `FuruConfigError` naming it."""
        path = _env("FURU_PATH")
        vc_path = _env("FURU_VERSION_CONTROLLED_PATH")
        return cls(
            base_root=Path(path).expanduser().resolve() if path else _default_root(),
            version_controlled_root=Path(vc_path).expanduser().resolve() if vc_path else None,
            log_level=_env_level("FURU_LOG_LEVEL"),
            ignore_git_diff=env_bool("FURU_IGNORE_DIFF", False),
            max_git_patch_bytes=env_int(
                "FURU_MAX_GIT_PATCH_BYTES", DEFAULT_MAX_DIFF_BYTES, maximum=MAX_CODE_STATE_BYTES
            ),
            max_untracked_bytes=env_int(
                "FURU_MAX_UNTRACKED_BYTES",
                DEFAULT_MAX_UNTRACKED_BYTES,
                maximum=MAX_CODE_STATE_BYTES,
            ),
            max_untracked_files=env_int(
                "FURU_MAX_UNTRACKED_FILES",
                DEFAULT_MAX_UNTRACKED_FILES,
                maximum=MAX_UNTRACKED_FILES,
            ),
            wait_log_every=env_float("FURU_WAIT_LOG_EVERY_SECS", 10.0, minimum=0.01),
            stale_after=env_float(
                "FURU_STALE_AFTER_SECS", 1800.0, minimum=MIN_LEASE_SECS, why=_LEASE_WHY
            ),
            lease_secs=env_float("FURU_LEASE_SECS", 120.0, minimum=MIN_LEASE_SECS, why=_LEASE_WHY),
            heartbeat_secs=env_float(
                "FURU_HEARTBEAT_SECS",
                0.0,
                minimum=MIN_HEARTBEAT_SECS,
                why=(
                    " (each renewal touches the lock file: more often would be a busy loop "
                    "against the store)"
                ),
                zero_means="a third of FURU_LEASE_SECS, the default",
                example=10.0,
            )
            or None,
            rich_uncaught_tracebacks=env_bool("FURU_RICH_UNCAUGHT_TRACEBACKS", True),
            force_recompute=_env_names("FURU_FORCE_RECOMPUTE"),
            force_recompute_dependents=env_bool("FURU_FORCE_RECOMPUTE_DEPENDENTS", False),
            always_rerun=_env_names("FURU_ALWAYS_RERUN"),
            dry_run=env_bool("FURU_DRY_RUN", False),
            allow_main=env_bool("FURU_ALLOW_MAIN", False),
            allow_locals=env_bool("FURU_ALLOW_LOCALS", False),
            resource_sample_secs=env_float(
                "FURU_RESOURCE_SAMPLE_SECS",
                0.1,
                minimum=MIN_SAMPLE_SECS,
                why=" (each sample reads /proc for every process of the step's tree)",
                zero_means="no sampling: only the process's own exact peak",
            ),
        )

    def reload(self) -> None:
        """Re-read every `FURU_*` variable into this object (after changing `os.environ`)."""
        fresh = FuruConfig.from_env()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between lease renewals: `heartbeat_secs`, or a third of the lease.

        Never less than `MIN_HEARTBEAT_SECS`, whatever was assigned in Python.
        """
        if self.heartbeat_secs:
            interval = min(self.heartbeat_secs, self.lease_secs / 2)
        else:
            interval = self.lease_secs / 3
        return max(interval, MIN_HEARTBEAT_SECS)

    def vc_root(self) -> Path:
        """The root of version-controlled artifacts; raises when it has nowhere to go."""
        if self.version_controlled_root is not None:
            return self.version_controlled_root
        project = find_project_root()
        if project is None:
            raise FuruConfigError(
                f"version_controlled=True steps are stored beside the project's pyproject.toml "
                f"(or .gitignore), and none was found from {Path.cwd()} upward. Run from inside "
                "your project, or set FURU_VERSION_CONTROLLED_PATH to the directory to use."
            )
        return project / "furu-data" / "artifacts"

    def data_root(self, version_controlled: bool) -> Path:
        """The directory under which a step's `<module>/<Class>/<hash>` directory lives."""
        return self.vc_root() if version_controlled else self.base_root / "data"

    def is_listed(self, names: frozenset[str], namespace: str) -> bool:
        return is_listed(names, namespace)


def is_listed(names: frozenset[str], namespace: str) -> bool:
    """Whether a class list (`FURU_FORCE_RECOMPUTE`, `FURU_ALWAYS_RERUN`) names `namespace`."""
    return bool(names) and ("ALL" in names or namespace in names)


FURU_CONFIG = FuruConfig.from_env()


def get_furu_root() -> Path:
    """The store root (`FURU_PATH`): artifacts live under `<root>/data/`."""
    return FURU_CONFIG.base_root


def set_furu_root(path: Path | str) -> None:
    """Point this process at another store root (as `FURU_PATH` does)."""
    FURU_CONFIG.base_root = Path(path).expanduser().resolve()


def load_env(path: Path | str | None = None, *, override: bool = False) -> bool:
    """Load a `.env` file into `os.environ` (needs python-dotenv) and re-read `FURU_*`.

    Args:
        path: the file; default: the nearest `.env` from the working directory upward.
        override: let the file replace variables that are already set.

    Returns:
        True when a file was loaded; False when there is none or python-dotenv is missing.
    """
    try:
        import dotenv
    except ImportError:
        return False
    target = str(path) if path is not None else dotenv.find_dotenv(usecwd=True)
    if not target or not Path(target).is_file():
        return False
    dotenv.load_dotenv(target, override=override)
    FURU_CONFIG.reload()
    return True
