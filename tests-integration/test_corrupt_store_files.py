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
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import furu
from furu_harness import furu_config, store_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import furu_steps

HOSTNAME = os.uname().nodename
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
    | st.sampled_from([HOSTNAME, 0, -1, 1, 4242, 1e9, "running", "success", "failed"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
DELETE = object()


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


def assert_names(err: furu.FuruError, path: Path) -> None:
    assert str(path) in str(err), f"{type(err).__name__} does not name {path}: {err}"


def assert_loads_or_recomputes(step: furu_steps.Counted, has_result: bool) -> None:
    before = runs(step)
    assert step.load_or_create() == expected(step)
    assert runs(step) == before + (0 if has_result else 1)
    assert meta(step, "SUCCESS.json").exists()
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

        try:
            state = step.get_state()
        except furu.FuruStoreError as err:
            assert not has_result  # the marker alone says success, whatever state.json holds
            assert err.path == path
            assert_names(err, path)
        else:
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

        try:
            step.get_metadata()
        except furu.FuruStoreError as err:
            assert err.path == path
            assert_names(err, path)
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
    ("attempt_id",),
    ("job_id",),
    ("lease_secs",),
    ("created_at",),
]


def claims_a_live_holder(raw: bytes) -> bool:
    """Whether a lock is well formed and names a holder that may really be alive.

    Only such a lock may make a caller wait (and then time out); any other is damaged and must
    be broken at once. Its mtime, the last heartbeat, is an hour old.
    """
    try:
        lock = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(lock, dict) or not isinstance(lock.get("attempt_id"), str):
        return False
    host, pid, lease = lock.get("host"), lock.get("pid"), lock.get("lease_secs")
    if not isinstance(host, str) or not _is_number(lock.get("created_at")):
        return False
    if host == HOSTNAME:
        if type(pid) is not int or pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OverflowError):
            return True
        return True
    return _is_number(lease) and lease > 3000


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


@SETTINGS
@given(st.data())
def test_damaged_compute_lock_never_blocks_and_reads_as_crashed(data: st.DataObject) -> None:
    with created_step() as step:
        states = furu.StateManager(step.furu_dir)
        done = states.read_raw()
        assert done is not None and done.attempt is not None
        # The attempt the lock belongs to, recorded as running (as a killed holder leaves it).
        running = replace(done.attempt, status=furu.AttemptStatus.RUNNING, ended_at=None)
        states.write(furu.ResultStatus.INCOMPLETE, running, done.attempts)
        then = time.time() - 3600
        template = {
            "host": "another-node.invalid",
            "pid": 4242,
            "pid_start": "12345",
            "attempt_id": running.id,
            "job_id": None,
            "lease_secs": 60.0,
            "created_at": then,
        }
        raw = damaged(data, json.dumps(template).encode(), LOCK_FIELDS)
        path = meta(step, "compute.lock")
        path.write_bytes(raw)
        os.utime(path, (then, then))
        has_result = keep_result(data, step)

        state = step.get_state()
        if has_result:
            assert state.result_status is furu.ResultStatus.SUCCESS
        else:
            assert state.result_status is furu.ResultStatus.INCOMPLETE
            assert state.attempt is not None
            if not claims_a_live_holder(raw):
                assert state.attempt.status is furu.AttemptStatus.CRASHED

        try:
            assert_loads_or_recomputes(step, has_result)
        except furu.FuruWaitTimeout as err:
            assert claims_a_live_holder(raw), f"waited for a damaged lock {raw!r}: {err}"
            assert_names(err, path)
