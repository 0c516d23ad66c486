"""furu._errors: one root, structured fields, and every error survives pickling."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import furu
from furu import (
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


class _LocalError(Exception):
    """Picklable: defined at module level."""


def _unpicklable_error() -> Exception:
    return ValueError("holds a lock", threading.Lock())


def _examples() -> list[FuruError]:
    return [
        FuruError("root"),
        FuruConfigError("bad FURU_LEASE_SECS"),
        FuruIdentityError("in __main__"),
        FuruHashError("cannot hash X.a", path="X.a", type_name="builtins.object"),
        FuruStoreError("truncated", path="/s/state.json"),
        FuruNotFoundError("no result", furu_dir="/s"),
        FuruComputeError(
            "failed",
            state_path="/s/.furu/state.json",
            original_error=_LocalError("inner"),
            traceback_text="Traceback...",
        ),
        FuruRemoteError("x.Y: msg", type_name="x.Y"),
        FuruLockNotAcquired("lost", lock_path="/s/.furu/compute.lock"),
        FuruWaitTimeout("waited", furu_dir="/s", waited_sec=12.5, holder="h:1 (attempt ab)"),
        FuruBatchError("batch", failures=[("Step abc", _LocalError("e"))], skipped=["Dep def"]),
    ]


def _plain(value: Any) -> Any:
    """Exceptions compare by identity: compare their type and args instead."""
    if isinstance(value, BaseException):
        return (type(value), _plain(value.args), _plain(vars(value)))
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _fields(err: BaseException) -> dict[str, Any]:
    fields = _plain(vars(err))
    assert isinstance(fields, dict)
    return fields


def test_every_exported_error_is_covered() -> None:
    exported = {
        name
        for name in furu.__all__
        if isinstance(getattr(furu, name), type) and issubclass(getattr(furu, name), BaseException)
    }
    assert exported == {type(err).__name__ for err in _examples()}


@pytest.mark.parametrize("err", _examples(), ids=lambda e: type(e).__name__)
def test_every_error_derives_from_furu_error(err: FuruError) -> None:
    assert isinstance(err, FuruError)
    assert isinstance(err, Exception)


@pytest.mark.parametrize("err", _examples(), ids=lambda e: type(e).__name__)
def test_every_error_pickles_with_its_fields(err: FuruError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert back.args == err.args
    assert _fields(back) == _fields(err)


def test_hierarchy() -> None:
    assert issubclass(FuruHashError, FuruIdentityError)
    assert issubclass(FuruConfigError, ValueError)  # catchable as the builtin it is
    assert issubclass(FuruIdentityError, TypeError)


def test_structured_fields() -> None:
    store = FuruStoreError("x", path="/a/b")
    assert store.path == Path("/a/b")
    compute = FuruComputeError("x", state_path="/s.json", original_error=None)
    assert compute.state_path == Path("/s.json")
    assert compute.original_error is None
    assert compute.traceback_text == ""
    timeout = FuruWaitTimeout("x", furu_dir="/d", waited_sec=1.0, holder="h")
    assert (timeout.furu_dir, timeout.waited_sec, timeout.holder) == (Path("/d"), 1.0, "h")
    assert FuruLockNotAcquired("x", lock_path="/l").lock_path == Path("/l")
    hashing = FuruHashError("x", path="A.b[1]", type_name="mod.T")
    assert (hashing.path, hashing.type_name) == ("A.b[1]", "mod.T")


def test_compute_error_keeps_a_picklable_original() -> None:
    err = FuruComputeError("x", state_path="/s", original_error=KeyError("k"))
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back.original_error, KeyError)
    assert back.original_error.args == ("k",)
    assert back.state_path == Path("/s")


def test_compute_error_with_an_unpicklable_original() -> None:
    original = _unpicklable_error()
    with pytest.raises(TypeError):
        pickle.dumps(original)
    err = FuruComputeError("failed", state_path="/s", original_error=original)
    assert err.original_error is original  # replaced only when crossing a boundary
    back = pickle.loads(pickle.dumps(err))
    remote = back.original_error
    assert isinstance(remote, FuruRemoteError)
    assert remote.type_name == "builtins.ValueError"
    assert str(remote).startswith("builtins.ValueError: ('holds a lock', <unlocked _thread.lock")
    assert back.state_path == Path("/s")


def test_batch_error_with_an_unpicklable_failure() -> None:
    err = FuruBatchError("b", failures=[("S 123", _unpicklable_error())], skipped=[])
    name, stand_in = err.failures[0]
    assert name == "S 123"
    assert isinstance(stand_in, FuruRemoteError)
    back = pickle.loads(pickle.dumps(err))
    assert back.failures[0][0] == "S 123"
    assert isinstance(back.failures[0][1], FuruRemoteError)
    assert back.skipped == []


def test_a_real_compute_error_pickles() -> None:
    import core_test_steps as steps

    with pytest.raises(FuruComputeError) as info:
        steps.Failing(message="real").load_or_create()
    back = pickle.loads(pickle.dumps(info.value))
    assert back.state_path == info.value.state_path
    assert isinstance(back.original_error, ValueError)
    assert str(back.original_error) == "real"
    assert "ValueError: real" in back.traceback_text
