"""furu.testing.isolated_store: a store of its own for a while, every setting restored after."""

from __future__ import annotations

import os
from pathlib import Path

import core_test_steps

import furu
from furu.testing import isolated_store


def test_points_furu_and_its_variables_at_the_store_then_restores_them(tmp_path: Path) -> None:
    outer_root = furu.get_furu_root()
    outer_lease = furu.FURU_CONFIG.lease_secs
    outer_env = {k: v for k, v in os.environ.items() if k.startswith("FURU_")}
    with isolated_store(tmp_path / "inner") as store:
        assert store.root == tmp_path / "inner"
        assert store.version_controlled_root == tmp_path / "inner" / "artifacts"
        assert furu.get_furu_root() == store.root
        assert os.environ["FURU_PATH"] == str(store.root)
        assert os.environ["FURU_VERSION_CONTROLLED_PATH"] == str(store.root / "artifacts")
        step = core_test_steps.Counted(value=5)
        assert step.load_or_create() == 10
        assert step.furu_dir.is_relative_to(store.root)
        assert [d.id for d in store.step_dirs()] == [furu.step_id(step)]
        furu.FURU_CONFIG.lease_secs = outer_lease + 7.0
        os.environ["FURU_DRY_RUN"] = "1"
    assert furu.get_furu_root() == outer_root
    assert furu.FURU_CONFIG.lease_secs == outer_lease
    assert {k: v for k, v in os.environ.items() if k.startswith("FURU_")} == outer_env
    assert not core_test_steps.Counted(value=5).exists()  # the outer store never had it


def test_forced_recomputes_are_counted_per_store(tmp_path: Path) -> None:
    furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Counted"})
    step = core_test_steps.Counted(value=2)
    step.load_or_create()
    step.load_or_create()  # recomputed once per process: this one loads
    assert core_test_steps.CALLS["Counted"] == 1
    with isolated_store(tmp_path / "inner"):
        furu.FURU_CONFIG.force_recompute = frozenset({"core_test_steps.Counted"})
        step.load_or_create()
        step.load_or_create()
        assert core_test_steps.CALLS["Counted"] == 2
    step.load_or_create()  # the outer record is back: still spent here
    assert core_test_steps.CALLS["Counted"] == 2
