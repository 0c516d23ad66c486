"""`Furu[T]`: a chz config whose hash names a directory, computed exactly once.

Subclasses are chz classes (frozen, keyword-only) without needing the decorator. Identity
(namespace and hash) is computed once per instance; a cache hit is one `stat` of `SUCCESS.json`,
`_validate()` and `_load()`, and takes no lock.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    TypeVar,
    dataclass_transform,
    overload,
)

import chz

from furu._errors import FuruConfigError, FuruIdentityError, FuruNotFoundError
from furu._hashing import config_hash
from furu._logging import configure_logging, get_logger
from furu._settings import FURU_CONFIG
from furu._store import FURU_DIR, SUCCESS_FILE

if TYPE_CHECKING:
    from furu._executor import Submitted
    from furu._metadata import Metadata
    from furu._state import StepState

T = TypeVar("T")
_log = get_logger()

# Results standing in for steps while `furu.testing.stub(...)` contexts are open: identity ->
# result, per context (thread, task). `_stubbing` counts the contexts open in this process, so
# that outside them (always, outside tests) a load pays one global lookup, never a context read.
_stub_results: contextvars.ContextVar[Mapping[tuple[str, str], Any]] = contextvars.ContextVar(
    "furu_stub_results", default=MappingProxyType({})
)
_stubbing = 0
_NO_STUB: Any = object()


def _stub_of(step: Furu[Any]) -> Any:
    """The result a `furu.testing.stub` context gives `step`, else `_NO_STUB`."""
    return _stub_results.get().get(step._furu_identity(), _NO_STUB)


def _namespace_of(cls: type) -> str:
    """`module.Qualname`, refusing classes furu could not find again in another process."""
    module, qualname = cls.__module__, cls.__qualname__
    if module == "__main__" and not FURU_CONFIG.allow_main:
        raise FuruIdentityError(
            f"{qualname} is defined in __main__, so another process (or a later run) cannot "
            "import it and its artifacts would have an unstable namespace. Move it into an "
            "importable module, or set FURU_ALLOW_MAIN=1 to allow it anyway."
        )
    if "<locals>" in qualname and not FURU_CONFIG.allow_locals:
        raise FuruIdentityError(
            f"{module}.{qualname} is defined inside a function, so other processes cannot import "
            "it. Define it at module level, or set FURU_ALLOW_LOCALS=1 to allow it anyway."
        )
    return f"{module}.{qualname}"


_class_dirs: dict[type, str] = {}
_root_dirs: dict[tuple[Path, Path | None, bool], str] = {}


def _class_dir(cls: type) -> str:
    """`<module path>/<Qualname>` for a class, computed once."""
    found = _class_dirs.get(cls)
    if found is None:
        qualname = cls.__qualname__.replace("<locals>", "locals")
        found = _class_dirs[cls] = os.path.join(*cls.__module__.split("."), qualname)
    return found


def _root_dir(version_controlled: bool) -> str:
    key = (FURU_CONFIG.base_root, FURU_CONFIG.version_controlled_root, version_controlled)
    found = _root_dirs.get(key)
    if found is None:
        found = _root_dirs[key] = str(FURU_CONFIG.data_root(version_controlled))
    return found


class _Location:
    """Where a step lives for one store root (recomputed if the root changes).

    Kept as strings: a cache hit needs one `stat`, and building `Path` objects would cost more
    than the `stat` itself.
    """

    __slots__ = ("_furu_dir", "base_root", "dir", "success", "vc_root")

    def __init__(self, step: Furu[Any]) -> None:
        cls = type(step)
        step._furu_namespace  # noqa: B018 - refuses __main__ and <locals> classes
        self.base_root = FURU_CONFIG.base_root
        self.vc_root = FURU_CONFIG.version_controlled_root
        root = _root_dir(cls._furu_version_controlled)
        self.dir = f"{root}/{_class_dir(cls)}/{step._furu_hash}"
        self.success = f"{self.dir}/{FURU_DIR}/{SUCCESS_FILE}"
        self._furu_dir: Path | None = None

    @property
    def furu_dir(self) -> Path:
        if self._furu_dir is None:
            self._furu_dir = Path(self.dir)
        return self._furu_dir

    @property
    def meta_dir(self) -> Path:
        return self.furu_dir / FURU_DIR

    def current(self) -> bool:
        config = FURU_CONFIG
        return self.base_root is config.base_root and self.vc_root is config.version_controlled_root


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(chz.field,))
class Furu(Generic[T]):
    """A cached pipeline step: subclass it, declare fields, implement `_create` and `_load`.

    ```python
    class TrainModel(furu.Furu[Path]):
        lr: float = furu.chz.field(default=1e-3)

        def _create(self) -> Path: ...   # compute, write into self.furu_dir
        def _load(self) -> Path: ...     # read back from self.furu_dir
    ```

    Class options: `version_controlled=True` (in the class statement) stores the step under
    the version-controlled root; `_max_wait_time_sec` (class attribute) bounds how long a call
    waits for another process computing the same step.
    """

    _max_wait_time_sec: ClassVar[float] = 600.0
    _furu_version_controlled: ClassVar[bool] = False
    if TYPE_CHECKING:
        __chz_fields__: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, *, version_controlled: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if version_controlled is not None:
            if not isinstance(version_controlled, bool):
                raise FuruConfigError(
                    f"{cls.__qualname__}: version_controlled must be True or False, got "
                    f"{version_controlled!r}."
                )
            cls._furu_version_controlled = version_controlled
        chz.chz(cls)

    # ------------------------------------------------------------ to implement

    def _create(self) -> T:
        """Compute the result and write it into `self.furu_dir`.

        While this runs, `self.furu_dir` is the attempt's private staging directory, moved into
        the step's directory once this returned (ADR 0004). What it returns is not used:
        `load_or_create()` returns what `_load()` gives, on the first call too.
        """
        raise NotImplementedError(f"{type(self).__qualname__} must implement _create()")

    def _load(self) -> T:
        """Read the result back from `self.furu_dir`."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement _load()")

    def _validate(self) -> bool:
        """Return False to make a cached result count as missing (it is then recomputed)."""
        return True

    def _dependencies(self) -> Sequence[Furu[Any]]:
        """Steps this one uses without holding them as fields (planned before it)."""
        return ()

    def _results(self) -> Mapping[str, Any] | None:
        """The scalar results people sort and compare by (`{"accuracy": 0.93}`), or None.

        Called right after `_create` succeeds (`self.furu_dir` is still the attempt's staging
        directory, so read what `_create` wrote from there); furu stores what it returns in
        `.furu/results.json`, and the dashboard, `furu show` and the filter language show it
        as `result.<name>`. Nested mappings are flattened with dots. Without this method, a
        `results.json`, `metrics.json` or `eval.json` the step writes (or the last line of a
        `.jsonl` of those names) serves the same purpose; see `furu.read_results`.
        """
        return None

    def _checkpoint(self) -> None:
        """Save progress now: the attempt is being stopped and will be resumed later.

        Called while `_create` is paused, in the main thread, with `self.furu_dir` still the
        attempt's staging directory, when SIGTERM arrives (a local preemption; the attempt is
        then recorded `preempted`) or, with furu-slurm, when SLURM signals preemption or the
        time limit. The next attempt starts from the files this attempt left, so a step that
        already saves as it goes needs nothing here (see Checkpointing in the README).
        """

    # ------------------------------------------------------------ identity

    @functools.cached_property
    def _furu_hash(self) -> str:
        """The digest of this config: the name of its directory."""
        return config_hash(self)

    @functools.cached_property
    def _furu_namespace(self) -> str:
        """`module.Qualname` of the class."""
        return _namespace_of(type(self))

    def _furu_identity(self) -> tuple[str, str]:
        return self._furu_namespace, self._furu_hash

    @property
    def _furu_location(self) -> _Location:
        loc: _Location | None = self.__dict__.get("_furu_loc")
        if loc is None or not loc.current():
            loc = _Location(self)
            self.__dict__["_furu_loc"] = loc
        return loc

    @property
    def furu_dir(self) -> Path:
        """This step's directory: `<root>/data/<module path>/<Class>/<hash>`.

        While `_create` runs it is the attempt's private staging directory instead
        (`<hash>/.furu/attempts/<attempt id>`), whose files are moved into the step's directory
        when the attempt publishes (ADR 0004): write relative names, not this absolute path,
        into files that must find each other later.
        """
        staging: Path | None = self.__dict__.get("_furu_staging")
        return staging if staging is not None else self._furu_location.furu_dir

    @property
    def raw_dir(self) -> Path:
        """`<root>/raw`: shared by every step, for large files kept outside any one step."""
        path = FURU_CONFIG.base_root / "raw"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def step_raw_dir(self) -> Path:
        """`<root>/raw/steps/<module path>/<Class>/<hash>`: large files owned by this step.

        Write files here (rather than into the shared `raw_dir`) when they belong to this step
        alone: `furu du` counts them, `furu export` packs them, and deleting the step (`furu
        rm`, garbage collection, the dashboard) removes them. Created on first use; files
        written here are not staged, so write them from `_create` and name them yourself.
        """
        from furu._workspace import Store

        store = Store.current()
        path = store.step_dir_of(self).raw_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def __getstate__(self) -> dict[str, Any]:
        # Caches depend on this process's settings; the receiver recomputes them. The staging
        # directory is not sent either: a step pickled into its own result must load later.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_furu_")}

    # ------------------------------------------------------------ the API

    @overload
    def load_or_create(self, executor: None = None) -> T: ...

    @overload
    def load_or_create(self, executor: object) -> Submitted[T]: ...

    def load_or_create(self, executor: object = None) -> T | Submitted[T]:
        """Load the cached result, or compute it exactly once across processes and hosts.

        Args:
            executor: hand the step to an executor instead (a `furu.Executor`, or another
                library's executor that an installed package adapts, e.g. a cluster
                scheduler's executor with furu-slurm installed). The call returns at once with
                a `Submitted` handle: the step is not computed yet; `handle.result()` waits
                and loads it.

        Raises:
            FuruComputeError: `_create` raised (here, or in the process this one waited for).
            FuruWaitTimeout: another process held the step for `_max_wait_time_sec`.
        """
        configure_logging()
        if executor is not None:
            from furu._executor import as_executor

            return as_executor(executor).submit_step(self)
        if _stubbing and (stubbed := _stub_of(self)) is not _NO_STUB:
            return stubbed  # type: ignore[no-any-return]
        if self._furu_done(below=True):
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("load_or_create %s (success->load)", self._furu_short())
            try:
                return self._load()
            except OSError as exc:  # free unless raised: is it a migration alias left dangling?
                _raise_if_dangling(self, exc)
                raise
        from furu._compute import create

        return create(self)

    def load_existing(self) -> T:
        """Load the cached result, or raise: never computes, never takes a lock, never waits.

        For code that must only read results, such as an analysis notebook or a report over
        a finished sweep. A result another process is still computing counts as missing.
        FURU_FORCE_RECOMPUTE and FURU_ALWAYS_RERUN do not apply (nothing is computed).

        Raises:
            FuruNotFoundError: no result is cached (or `_validate()` rejects it); the message
                names the step, its directory, what its state says, and what to run.
        """
        if _stubbing and (stubbed := _stub_of(self)) is not _NO_STUB:
            return stubbed  # type: ignore[no-any-return]
        if self._furu_done(policy=False):
            try:
                return self._load()
            except OSError as exc:
                _raise_if_dangling(self, exc)
                raise
        raise self._furu_not_found()

    def exists(self) -> bool:
        """Whether a result is cached (its `SUCCESS.json` exists) and `_validate()` accepts it.

        FURU_FORCE_RECOMPUTE and FURU_ALWAYS_RERUN do not change the answer: a forced step
        exists, and `load_or_create()` still recomputes it. A step a `furu.testing.stub`
        context stands in for exists.
        """
        if _stubbing and _stub_of(self) is not _NO_STUB:
            return True
        return self._furu_done(policy=False)

    def get_state(self) -> StepState:
        """The step's state as on disk now (result status, latest attempt), healed."""
        from furu._state import StateManager

        return StateManager(self._furu_location.furu_dir).read()

    def get_metadata(self) -> Metadata:
        """The recorded metadata; for a step never attempted, what would be recorded now."""
        from furu._metadata import MetadataManager

        stored = MetadataManager.read(self._furu_location.furu_dir)
        return stored if stored is not None else MetadataManager.build(self._furu_record())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of this config, with `__class__` naming each step's class."""
        from furu._serialization import to_dict

        return to_dict(self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls: type[_S], data: dict[str, Any]) -> _S:
        """Rebuild a step from `to_dict()` output (its class must be `cls` or a subclass)."""
        from furu._serialization import from_dict

        obj = from_dict(data)
        if not isinstance(obj, cls):
            raise FuruConfigError(
                f"{cls.__qualname__}.from_dict got a {type(obj).__qualname__} "
                f"(from __class__={data.get('__class__')!r}); call from_dict on that class or "
                "on furu.Furu."
            )
        return obj

    def to_python(self) -> str:
        """Python that rebuilds this config, e.g. `TrainModel(lr=0.0003, steps=5000)`."""
        from furu._serialization import to_python

        return to_python(self)

    # ------------------------------------------------------------ internals

    def _furu_short(self) -> str:
        return f"{type(self).__qualname__} {self._furu_hash[:9]}"

    def _furu_done(self, policy: bool = True, below: bool = False) -> bool:
        """The one answer to "is this step done?": the marker, `_validate()`, the run policy.

        With `below`, a forced step anywhere below this one also makes it "not done", so
        that `load_or_create()` takes the slow path, which recomputes the forced steps first.
        Files alone (no `_validate()`, which is code) answer it as `StepDir.is_done`.
        """
        return (
            os.path.exists(self._furu_location.success)
            and self._validate()
            and not (policy and self._furu_forced(below))
        )

    def _furu_not_found(self) -> FuruNotFoundError:
        """Why `load_existing()` found no result, and what to run instead."""
        from furu._state import StateManager

        loc = self._furu_location
        if os.path.exists(loc.success):
            found = (
                f"its result in {loc.furu_dir} is there, but {type(self).__qualname__}."
                "_validate() rejects it"
            )
        else:
            try:
                state = StateManager(loc.furu_dir).read()
            except Exception as exc:  # a damaged state file: say so, it is still missing
                found = f"it has no result in {loc.furu_dir} (and its state is unreadable: {exc})"
            else:
                found = f"it has no result in {loc.furu_dir} ({_describe_state(state)})"
        return FuruNotFoundError(
            f"{self._furu_short()}: load_existing() found nothing to load: {found}. "
            "load_existing() never computes: create it with load_or_create() (or "
            "furu.load_or_create_many), or point FURU_PATH at the store that holds it "
            f"(this process uses {FURU_CONFIG.base_root}).",
            furu_dir=loc.furu_dir,
        )

    def _furu_forced(self, below: bool = False) -> bool:
        """Whether FURU_ALWAYS_RERUN or (once per process) FURU_FORCE_RECOMPUTE applies.

        It applies to this step's class, or with FURU_FORCE_RECOMPUTE_DEPENDENTS to a class
        below it; with `below`, also to any step below it (see `furu._policy.Forcing`).
        Without either setting (the common case) this is one check: no import, no lock.
        """
        config = FURU_CONFIG
        if not (config.force_recompute or config.always_rerun):
            return False
        from furu._policy import Forcing

        forcing = Forcing()
        return forcing.reason(self) is not None or (below and forcing.forced_below(self))

    def _furu_record(self) -> dict[str, Any]:
        """What the metadata says about the step itself (read by the server, never imported)."""
        from furu._dependencies import direct_dependencies
        from furu._serialization import qualified_name

        cls = type(self)
        return {
            "furu_namespace": self._furu_namespace,
            "furu_hash": self._furu_hash,
            "furu_path": str(self._furu_location.furu_dir),
            "furu_python_def": self.to_python(),
            "furu_obj": self.to_dict(),
            "class_bases": [
                qualified_name(base)
                for base in cls.__mro__[1:]
                if issubclass(base, Furu) and base is not Furu
            ],
            "dependencies": [
                {
                    "field": where,
                    "namespace": dep._furu_namespace,
                    "hash": dep._furu_hash,
                    "furu_path": str(dep._furu_location.furu_dir),
                }
                for where, dep in direct_dependencies(self)
            ],
            "config_schema": [
                {"name": name, "type": _type_repr(field.final_type)}
                for name, field in cls.__chz_fields__.items()
            ],
            "version_controlled": cls._furu_version_controlled,
        }


_S = TypeVar("_S", bound=Furu[Any])


def _raise_if_dangling(step: Furu[Any], exc: OSError) -> None:
    """`_load()` raised `exc`: say so clearly if the step is a migration alias whose old
    result is gone (`furu._migration`)."""
    from furu._migration import dangling_alias_error

    error = dangling_alias_error(step, exc)
    if error is not None:
        raise error from exc


def _describe_state(state: StepState) -> str:
    attempt = state.attempt
    if attempt is None:
        return "never attempted in this store"
    text = f"result {state.result_status.value}; attempt {attempt.number} {attempt.status.value}"
    if attempt.status.value == "running":
        text += f" on {attempt.host} (pid {attempt.pid}): another process is computing it"
    elif attempt.status.value == "queued":
        text += ": it waits for a scheduler to run it"
    elif attempt.error:
        text += f": {attempt.error.get('type')}: {attempt.error.get('message')}"
    return text


def _type_repr(tp: Any) -> str:
    from chz.tiepin import type_repr

    try:
        return str(type_repr(tp))
    except Exception:
        return repr(tp)
