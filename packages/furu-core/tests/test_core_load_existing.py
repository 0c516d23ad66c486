"""Furu.load_existing(): load the cached result or raise FuruNotFoundError; never compute."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import furu

CREATED: list[str] = []
GATE = threading.Event()
ENTERED = threading.Event()


class Result(furu.Furu[str]):
    name: str = "r"
    fail: bool = False
    valid: bool = True

    def _create(self) -> str:
        CREATED.append(self.name)
        if self.fail:
            raise ValueError(f"{self.name} cannot be made")
        (self.furu_dir / "out.txt").write_text(f"made {self.name}")
        return ""

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()

    def _validate(self) -> bool:
        return self.valid or not (self.furu_dir / "out.txt").exists()


class Gated(furu.Furu[str]):
    def _create(self) -> str:
        ENTERED.set()
        assert GATE.wait(30)
        (self.furu_dir / "out.txt").write_text("gated")
        return ""

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()


@pytest.fixture(autouse=True)
def _reset() -> None:
    CREATED.clear()
    GATE.clear()
    ENTERED.clear()


def test_loads_what_is_cached_without_computing() -> None:
    step = Result(name="cached")
    assert step.load_or_create() == "made cached"
    assert Result(name="cached").load_existing() == "made cached"
    assert CREATED == ["cached"]


def test_a_missing_step_raises_naming_it_its_directory_and_what_to_run(furu_store: Path) -> None:
    step = Result(name="never")
    with pytest.raises(furu.FuruNotFoundError) as info:
        step.load_existing()
    assert str(info.value) == (
        f"Result {step._furu_hash[:9]}: load_existing() found nothing to load: it has no "
        f"result in {step.furu_dir} (never attempted in this store). load_existing() never "
        "computes: create it with load_or_create() (or furu.load_or_create_many), or point "
        f"FURU_PATH at the store that holds it (this process uses {furu_store})."
    )
    assert info.value.furu_dir == step.furu_dir
    assert isinstance(info.value, LookupError)
    assert CREATED == []
    assert not step.furu_dir.exists()  # no lock taken, no directory made


def test_a_failed_step_raises_with_its_recorded_error() -> None:
    step = Result(name="broken", fail=True)
    with pytest.raises(furu.FuruComputeError):
        step.load_or_create()
    with pytest.raises(furu.FuruNotFoundError) as info:
        step.load_existing()
    assert "(result failed; attempt 1 failed: builtins.ValueError: broken cannot be made)" in (
        str(info.value)
    )
    assert CREATED == ["broken"]  # not retried


def test_a_result_validate_rejects_is_not_loaded() -> None:
    step = Result(name="stale", valid=False)
    step.load_or_create()
    with pytest.raises(furu.FuruNotFoundError) as info:
        step.load_existing()
    assert f"its result in {step.furu_dir} is there, but Result._validate() rejects it" in str(
        info.value
    )


def test_a_step_being_computed_raises_at_once_without_waiting_or_locking() -> None:
    step = Gated()
    worker = threading.Thread(target=step.load_or_create)
    worker.start()
    try:
        assert ENTERED.wait(30)
        lock = furu.step_dir(step).meta_dir / "compute.lock"  # furu_dir is the staging dir now
        before = lock.read_bytes()
        with pytest.raises(furu.FuruNotFoundError, match="another process is computing it"):
            step.load_existing()
        assert lock.read_bytes() == before
    finally:
        GATE.set()
        worker.join(30)
    assert step.load_existing() == "gated"


def test_forcing_settings_do_not_make_it_compute() -> None:
    step = Result(name="forced")
    step.load_or_create()
    furu.FURU_CONFIG.always_rerun = frozenset({"ALL"})
    assert step.load_existing() == "made forced"
    assert CREATED == ["forced"]
