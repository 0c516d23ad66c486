"""Damaged `.furu/` files: furu recomputes or explains, and never reports a false success.

Each example builds a real step in a fresh store, damages one of its files (random bytes, a
truncation of the real file, or the real JSON with fields deleted or replaced by arbitrary JSON),
and checks what `get_state()`, `get_metadata()` and `load_or_create()` do:

- `SUCCESS.json` alone decides "done": whatever its content, a present marker loads the cached
  result, and with it absent nothing reads as success;
- a damaged file either makes furu recompute or raises a `FuruError` whose message names the
  file; no other exception escapes;
- a damaged `compute.lock` is broken at once: it never makes a caller wait for a holder.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import furu
import furu_steps
from furu_harness import furu_config, store_config

HOSTNAME = os.uname().nodename
PID_NAMESPACE = os.readlink("/proc/self/ns/pid")
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([HOSTNAME, PID_NAMESPACE, 0, -1, 1, 1e9, math.inf, math.nan, "running"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
DELETE = object()
T = TypeVar("T")


@contextlib.contextmanager
def created_step() -> Iterator[furu_steps.QuickWait]:
    """A step created successfully in a fresh temporary store, which this process uses."""
    with (
        tempfile.TemporaryDirectory(prefix="furu-corrupt-") as tmp,
        furu_config(**store_config(Path(tmp) / "store")),
    ):
        step = furu_steps.QuickWait(name="victim", counter_path=str(Path(tmp) / "victim.count"))
        assert step.load_or_create() == expected(step)
        yield step


def expected(step: furu_steps.Counted) -> str:
    return f"{step.name} made by pid {os.getpid()}"


def runs(step: furu_steps.Counted) -> int:
    return len(Path(step.counter_path).read_text().splitlines())


def meta(step: furu.Furu[Any], name: str) -> Path:
    return step.furu_dir / ".furu" / name


def mutate_fields(doc: Any, data: st.DataObject, paths: list[tuple[str, ...]]) -> Any:
    """Delete some fields of `doc`, or replace them with arbitrary JSON."""
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True))
    for path in chosen:
        parent = doc
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        value = data.draw(st.just(DELETE) | JSON, label=".".join(path))
        if value is DELETE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return doc


def damaged(data: st.DataObject, valid: bytes, paths: list[tuple[str, ...]]) -> bytes:
    """Random bytes, a strict prefix of `valid`, `valid` with mutated fields, or other JSON."""
    kind = data.draw(st.sampled_from(["bytes", "truncated", "fields", "json"]), label="kind")
    if kind == "bytes":
        return data.draw(st.binary(max_size=200), label="bytes")
    if kind == "truncated":
        # Drawn independently of len(valid), which varies between runs (times, temp paths).
        return valid[: data.draw(st.integers(min_value=0), label="cut") % len(valid)]
    doc = mutate_fields(json.loads(valid), data, paths) if kind == "fields" else data.draw(JSON)
    return json.dumps(doc).encode()


def keep_result(data: st.DataObject, step: furu.Furu[Any]) -> bool:
    """Draw whether the step keeps its result; if not, delete its `SUCCESS.json`."""
    has_result = data.draw(st.booleans(), label="has_result")
    if not has_result:
        meta(step, "SUCCESS.json").unlink()
    return has_result


def outcome(call: Callable[[], T]) -> tuple[T | None, furu.FuruError | None]:
    """What `call` returned, or the furu error it raised (any other exception propagates)."""
    try:
        return call(), None
    except furu.FuruError as err:
        return None, err


def assert_names(err: furu.FuruError, path: Path) -> None:
    assert str(path) in str(err), f"{type(err).__name__} does not name {path}: {err}"


def assert_store_error(err: furu.FuruError, path: Path) -> None:
    assert isinstance(err, furu.FuruStoreError), err
    assert err.path == path
    assert_names(err, path)


def assert_loads_or_recomputes(step: furu_steps.Counted, has_result: bool) -> None:
    before = runs(step)
    assert step.load_or_create() == expected(step)
    assert runs(step) == before + (0 if has_result else 1)
    assert meta(step, "SUCCESS.json").exists()
    if not has_result:  # a cache hit takes no lock, so it leaves any lock file alone
        assert not meta(step, "compute.lock").exists()
    assert step.get_state().result_status is furu.ResultStatus.SUCCESS


STATE_FIELDS = [
    ("result_status",),
    ("attempts",),
    ("updated_at",),
    ("schema",),
    ("attempt",),
    ("attempt", "id"),
    ("attempt", "number"),
    ("attempt", "status"),
    ("attempt", "pid"),
    ("attempt", "host"),
    ("attempt", "started_at"),
    ("attempt", "error"),
    ("attempt", "reason"),
    ("attempt", "scheduler"),
]


@SETTINGS
@given(st.data())
def test_damaged_state_json_never_reads_as_success_and_is_recomputed(data: st.DataObject) -> None:
    with created_step() as step:
        path = meta(step, "state.json")
        path.write_bytes(damaged(data, path.read_bytes(), STATE_FIELDS))
        has_result = keep_result(data, step)

        state, err = outcome(step.get_state)
        if err is not None:
            assert not has_result  # the marker alone says success, whatever state.json holds
            assert_store_error(err, path)
        else:
            assert state is not None
            assert (state.result_status is furu.ResultStatus.SUCCESS) == has_result
            assert state.attempt is None or isinstance(state.attempt.status, furu.AttemptStatus)

        assert_loads_or_recomputes(step, has_result)


METADATA_FIELDS = [
    ("furu_namespace",),
    ("furu_hash",),
    ("furu_obj",),
    ("dependencies",),
    ("git_commit",),
    ("timestamp",),
    ("pid",),
    ("schema",),
    ("extra",),
    ("unexpected_field",),
]


@SETTINGS
@given(st.data())
def test_damaged_metadata_json_is_reported_and_rewritten(data: st.DataObject) -> None:
    with created_step() as step:
        path = meta(step, "metadata.json")
        path.write_bytes(damaged(data, path.read_bytes(), METADATA_FIELDS))
        has_result = keep_result(data, step)

        _, err = outcome(step.get_metadata)
        if err is not None:
            assert_store_error(err, path)
        state = step.get_state()
        assert (state.result_status is furu.ResultStatus.SUCCESS) == has_result

        assert_loads_or_recomputes(step, has_result)
        if not has_result:  # recomputing rewrote it
            assert step.get_metadata().furu_hash == step._furu_hash


@SETTINGS
@given(st.data())
def test_damaged_success_json_still_means_done_because_presence_is_the_truth(
    data: st.DataObject,
) -> None:
    with created_step() as step:
        path = meta(step, "SUCCESS.json")
        fields = [("namespace",), ("hash",), ("attempt_id",), ("created_at",), ("duration_sec",)]
        path.write_bytes(damaged(data, path.read_bytes(), fields))

        assert step.exists()
        assert step.get_state().result_status is furu.ResultStatus.SUCCESS
        assert_loads_or_recomputes(step, has_result=True)


def test_empty_success_json_counts_as_done(tmp_path: Path) -> None:
    with furu_config(**store_config(tmp_path / "store")):
        step = furu_steps.Counted(name="empty-marker", counter_path=str(tmp_path / "count"))
        step.load_or_create()
        meta(step, "SUCCESS.json").write_bytes(b"")

        assert step.exists()
        assert step.get_state().result_status is furu.ResultStatus.SUCCESS
        assert step.load_or_create() == expected(step)
        assert runs(step) == 1


LOCK_FIELDS = [
    ("host",),
    ("pid",),
    ("pid_start",),
    ("pid_namespace",),
    ("attempt_id",),
    ("job_id",),
    ("lease_secs",),
    ("created_at",),
]


def claims_a_live_holder(raw: bytes) -> bool:
    """Whether a lock is well formed and names a holder that may really be alive.

    Only such a lock may make a caller wait (and then time out); any other is damaged and must
    be broken at once. Its mtime, the last heartbeat, is an hour old, so only a holder on this
    host (and pid namespace) whose pid exists, or a lease of more than an hour, counts.
    """
    try:
        lock = json.loads(raw)
        host, pid = str(lock["host"]), int(lock["pid"])
        lease = float(lock["lease_secs"])
        float(lock["created_at"]), str(lock["attempt_id"])
    except (ValueError, KeyError, TypeError, OverflowError):
        return False
    if not math.isfinite(lease):
        return False
    if host == HOSTNAME and lock.get("pid_namespace") == PID_NAMESPACE:
        return 0 < pid < 2**31 and os.path.exists(f"/proc/{pid}")
    return lease > 3000


def lock_claimed_by(attempt_id: str) -> dict[str, Any]:
    """A well-formed lock of a holder on another host, heartbeat an hour ago (see _lock.py)."""
    return {
        "host": "another-node.invalid",
        "pid": 4242,
        "pid_start": "12345",
        "pid_namespace": PID_NAMESPACE,
        "attempt_id": attempt_id,
        "job_id": None,
        "lease_secs": 60.0,
        "created_at": time.time() - 3600,
    }


def write_lock(step: furu.Furu[Any], raw: bytes) -> Path:
    path = meta(step, "compute.lock")
    path.write_bytes(raw)
    then = time.time() - 3600
    os.utime(path, (then, then))
    return path


@SETTINGS
@given(st.data())
def test_damaged_compute_lock_never_blocks_and_reads_as_crashed(data: st.DataObject) -> None:
    with created_step() as step:
        states = furu.StateManager(step.furu_dir)
        done = states.read_raw()
        assert done is not None
        assert done.attempt is not None
        # The attempt the lock belongs to, recorded as running (as a killed holder leaves it).
        running = replace(done.attempt, status=furu.AttemptStatus.RUNNING, ended_at=None)
        states.write(furu.ResultStatus.INCOMPLETE, running, done.attempts)
        template = json.dumps(lock_claimed_by(running.id)).encode()
        raw = damaged(data, template, LOCK_FIELDS)
        path = write_lock(step, raw)
        has_result = keep_result(data, step)

        state = step.get_state()
        if has_result:
            assert state.result_status is furu.ResultStatus.SUCCESS
        else:
            assert state.result_status is furu.ResultStatus.INCOMPLETE
            assert state.attempt is not None
            if not claims_a_live_holder(raw):
                assert state.attempt.status is furu.AttemptStatus.CRASHED

        _, err = outcome(lambda: assert_loads_or_recomputes(step, has_result))
        if err is not None:
            assert isinstance(err, furu.FuruWaitTimeout), err
            assert claims_a_live_holder(raw), f"waited for a damaged lock {raw!r}: {err}"
            assert_names(err, path)


def lock_json(**fields: Any) -> str:
    return json.dumps({"attempt_id": "a", "lease_secs": 60, "created_at": 0, **fields})


LOCAL = {"host": HOSTNAME, "pid_namespace": PID_NAMESPACE}
FOREIGN = {"host": "another-node.invalid", "pid_namespace": None, "pid": 1}
DAMAGED_LOCKS = {
    "empty": "",
    "null": "null",
    "a list": "[1, 2]",
    "no host": lock_json(pid=1),
    "pid Infinity": lock_json(**LOCAL, pid=math.inf),
    "pid 0": lock_json(**LOCAL, pid=0),
    "pid -1": lock_json(**LOCAL, pid=-1),
    "pid 2**64": lock_json(**LOCAL, pid=2**64),
    "lease NaN": lock_json(**FOREIGN, lease_secs=math.nan),
    "lease Infinity": lock_json(**FOREIGN, lease_secs=math.inf),
    "lease a word": lock_json(**FOREIGN, lease_secs="long"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("raw", DAMAGED_LOCKS.values(), ids=DAMAGED_LOCKS.keys())
def test_each_kind_of_damaged_compute_lock_is_broken_at_once(tmp_path: Path, raw: str) -> None:
    assert not claims_a_live_holder(raw.encode())
    with furu_config(**store_config(tmp_path / "store")):
        step = furu_steps.QuickWait(name="locked", counter_path=str(tmp_path / "count"))
        meta(step, "compute.lock").parent.mkdir(parents=True)
        write_lock(step, raw.encode())

        assert step.get_state().result_status is furu.ResultStatus.ABSENT
        assert step.load_or_create() == expected(step)  # no FuruWaitTimeout: it did not wait
        assert runs(step) == 1
        assert not meta(step, "compute.lock").exists()


DAMAGED_STATES = {
    "attempts null": '{"result_status": "failed", "attempts": null}',
    "attempts a word": '{"result_status": "failed", "attempts": "three"}',
    "attempts a list": '{"result_status": "failed", "attempts": [3]}',
    "attempts Infinity": '{"result_status": "failed", "attempts": Infinity}',
    "attempt a number": '{"result_status": "failed", "attempt": 7}',
    "attempt a word": '{"result_status": "failed", "attempt": "running"}',
    "attempt bad status": '{"result_status": "failed", "attempt": {"status": "exploded"}}',
    "no result_status": '{"attempts": 1}',
    "a list": "[]",
}


@pytest.mark.parametrize("raw", DAMAGED_STATES.values(), ids=DAMAGED_STATES.keys())
def test_each_kind_of_damaged_state_json_is_a_store_error_then_recomputed(
    tmp_path: Path, raw: str
) -> None:
    with furu_config(**store_config(tmp_path / "store")):
        step = furu_steps.Counted(name="stated", counter_path=str(tmp_path / "count"))
        path = meta(step, "state.json")
        path.parent.mkdir(parents=True)
        path.write_text(raw)

        with pytest.raises(furu.FuruStoreError) as info:
            step.get_state()
        assert info.value.path == path
        assert_names(info.value, path)
        assert step.load_or_create() == expected(step)
        assert runs(step) == 1
        assert step.get_state().attempts == 1
