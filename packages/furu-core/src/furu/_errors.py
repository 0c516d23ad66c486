"""The exceptions furu raises.

Every furu error derives from `FuruError`, so `except furu.FuruError` catches them all:

```
FuruError
├── FuruConfigError          a FURU_* variable or a class option holds a bad value
├── FuruIdentityError        a step cannot be given an identity (namespace or hash)
│   └── FuruHashError        a config value has no canonical encoding (names the field path)
├── FuruStoreError           a file in the store is missing, truncated or corrupt
├── FuruNotFoundError        `load_existing()` found no result (names the step and directory)
├── FuruComputeError         `_create` raised (carries `state_path` and `original_error`)
├── FuruLockNotAcquired      the compute lock could not be taken
├── FuruWaitTimeout          waited `_max_wait_time_sec` for another holder
└── FuruBatchError           some steps of `load_or_create_many` failed (lists each)
```

Errors cross process and SLURM boundaries, so each one pickles: the constructor arguments are
kept in `self.args`-compatible form and `__reduce__` rebuilds the instance from its fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class FuruError(Exception):
    """Root of every error furu raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


def _rebuild(cls: type[FuruError], state: dict[str, Any], args: tuple[Any, ...]) -> FuruError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class FuruConfigError(FuruError, ValueError):
    """A setting (environment variable, class option or argument) holds an unusable value."""


class FuruIdentityError(FuruError, TypeError):
    """A step cannot be given a stable identity (e.g. a class defined in `__main__`)."""


class FuruHashError(FuruIdentityError):
    """A config value has no canonical encoding.

    Attributes:
        path: where the value sits, e.g. `TrainModel.optimizer.betas[1]`.
        type_name: the qualified name of the offending value's type.
    """

    def __init__(self, message: str, *, path: str, type_name: str) -> None:
        super().__init__(message)
        self.path = path
        self.type_name = type_name


class FuruStoreError(FuruError):
    """A file in the store is missing, truncated or does not hold what furu expects.

    Attributes:
        path: the file involved.
    """

    def __init__(self, message: str, *, path: Path | str) -> None:
        super().__init__(message)
        self.path = Path(path)


class FuruNotFoundError(FuruError, LookupError):
    """`load_existing()` found no cached result (it never computes one).

    Attributes:
        furu_dir: the step's directory, where the result would be.
    """

    def __init__(self, message: str, *, furu_dir: Path | str) -> None:
        super().__init__(message)
        self.furu_dir = Path(furu_dir)


class FuruComputeError(FuruError):
    """`_create` raised; the failure is recorded in the step's `state.json`.

    Attributes:
        state_path: the `state.json` that records the failed attempt.
        original_error: the exception `_create` raised (a `FuruRemoteError` stand-in when the
            original cannot be pickled across a process boundary).
        traceback_text: the formatted traceback of the original error.
    """

    def __init__(
        self,
        message: str,
        *,
        state_path: Path | str,
        original_error: BaseException | None,
        traceback_text: str = "",
    ) -> None:
        super().__init__(message)
        self.state_path = Path(state_path)
        self.original_error = original_error
        self.traceback_text = traceback_text

    def __reduce__(self) -> tuple[Any, ...]:
        state = self.__dict__.copy()
        state["original_error"] = _picklable(self.original_error)
        return (_rebuild, (type(self), state, self.args))


class FuruRemoteError(FuruError):
    """Stands in for an exception that could not be pickled across a process boundary."""

    def __init__(self, message: str, *, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name


def _picklable(err: BaseException | None) -> BaseException | None:
    import pickle

    if err is None:
        return None
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        name = f"{type(err).__module__}.{type(err).__qualname__}"
        return FuruRemoteError(f"{name}: {err}", type_name=name)
    return err


class FuruLockNotAcquired(FuruError):
    """The compute lock of a step could not be taken.

    Attributes:
        lock_path: the lock file.
    """

    def __init__(self, message: str, *, lock_path: Path | str) -> None:
        super().__init__(message)
        self.lock_path = Path(lock_path)


class FuruWaitTimeout(FuruError):
    """Waited the step's `_max_wait_time_sec` while another process held its lock.

    Attributes:
        furu_dir: the step's directory.
        waited_sec: how long this process waited.
        holder: a description of the lock holder (host, pid, attempt).
    """

    def __init__(self, message: str, *, furu_dir: Path | str, waited_sec: float, holder: str):
        super().__init__(message)
        self.furu_dir = Path(furu_dir)
        self.waited_sec = waited_sec
        self.holder = holder


class FuruBatchError(FuruError):
    """Some steps of a batch failed; the others ran.

    Attributes:
        failures: `(step description, error)` for every step that failed.
        skipped: descriptions of the steps not run because a dependency failed.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: Sequence[tuple[str, BaseException]],
        skipped: Sequence[str],
    ) -> None:
        super().__init__(message)
        self.failures = [(name, _picklable(err)) for name, err in failures]
        self.skipped = list(skipped)
