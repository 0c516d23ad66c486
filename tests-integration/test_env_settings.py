"""`FURU_*` environment variables, as a user sets them: in the environment of a new process."""

from __future__ import annotations

from pathlib import Path

import pytest

from furu_harness import Store

SCRIPT_STEP = """
import furu

class ScriptStep(furu.Furu[str]):
    name: str = "script"

    def _create(self) -> str:
        (self.furu_dir / "out.txt").write_text("made in a script")
        return "made in a script"

    def _load(self) -> str:
        return (self.furu_dir / "out.txt").read_text()

step = ScriptStep()
print(step.load_or_create())
print(step.furu_dir)
"""


@pytest.mark.timeout(60)
def test_furu_path_decides_where_the_artifact_goes(store: Store) -> None:
    elsewhere = store.dir / "elsewhere"
    spec = store.counted("placed")

    out = store.start({"step": spec}, name="placed", FURU_PATH=str(elsewhere)).ok()

    furu_dir = Path(out["furu_dir"])
    assert furu_dir.parent == elsewhere / "data" / "furu_steps" / "Counted"
    assert (furu_dir / ".furu" / "SUCCESS.json").is_file()
    assert (furu_dir / "result.txt").is_file()
    assert not store.root.exists()  # the default store of these tests was not touched


@pytest.mark.timeout(90)
def test_force_recompute_recomputes_once_per_process_for_listed_classes(store: Store) -> None:
    spec = store.counted("forced")
    counter = spec["kwargs"]["counter_path"]
    store.start({"step": spec}, name="first").ok()
    assert store.count(counter) == 1

    for i, names in enumerate(
        ["furu_steps.Counted", "furu_steps.Inner, furu_steps.Counted", "ALL"]
    ):
        proc = store.start(
            {"step": spec, "calls": 2}, name=f"forced{i}", FURU_FORCE_RECOMPUTE=names
        )
        out = proc.ok()
        assert store.count(counter) == 2 + i, names  # once in this process, not twice
        assert out["results"] == [f"forced made by pid {proc.pid}"] * 2
        assert "(success->recompute)" in proc.stderr

    other = store.start({"step": spec}, name="other", FURU_FORCE_RECOMPUTE="furu_steps.Inner").ok()
    plain = store.start({"step": spec}, name="plain").ok()
    assert store.count(counter) == 4
    assert other["results"] == plain["results"]


@pytest.mark.timeout(60)
def test_always_rerun_recomputes_on_every_call(store: Store) -> None:
    spec = store.counted("rerun")
    counter = spec["kwargs"]["counter_path"]
    store.start({"step": spec}, name="first").ok()

    proc = store.start({"step": spec, "calls": 3}, name="rerun", FURU_ALWAYS_RERUN="ALL")

    assert proc.ok()["results"] == [f"rerun made by pid {proc.pid}"] * 3
    assert store.count(counter) == 1 + 3
    store.start({"step": spec, "calls": 2}, name="after").ok()
    assert store.count(counter) == 4


@pytest.mark.timeout(60)
def test_dry_run_computes_nothing_and_prints_the_plan(store: Store) -> None:
    spec = store.counted("dry")

    proc = store.start({"step": spec, "calls": 2}, name="dry", FURU_DRY_RUN="1")

    out = proc.ok()
    assert out["results"] == [None, None]
    assert "FURU_DRY_RUN" in proc.stderr
    assert "plan: 1 to create, 0 cached" in proc.stderr
    assert f"create Counted {Path(out['furu_dir']).name[:9]} (missing: " in proc.stderr
    assert store.count(spec["kwargs"]["counter_path"]) == 0
    assert store.files() == []  # at most directories


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FURU_LEASE_SECS", "abc"),
        ("FURU_LEASE_SECS", "inf"),
        ("FURU_FORCE_RECOMPUTE", "not a name"),
        ("FURU_ALWAYS_RERUN", "Counted"),
        ("FURU_DRY_RUN", "maybe"),
        ("FURU_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_malformed_variable_fails_at_import_naming_it(
    store: Store, name: str, value: str
) -> None:
    proc = store.start_code("import furu", name="import", **{name: value})

    assert proc.wait() == 1
    assert "FuruConfigError" in proc.stderr
    assert name in proc.stderr
    assert repr(value) in proc.stderr


@pytest.mark.timeout(60)
def test_a_step_defined_in_main_is_refused_unless_allowed(store: Store) -> None:
    refused = store.start_code(SCRIPT_STEP, name="refused")
    assert refused.wait() == 1
    assert "FuruIdentityError" in refused.stderr
    assert "FURU_ALLOW_MAIN=1" in refused.stderr
    assert not store.root.exists()

    allowed = store.start_code(SCRIPT_STEP, name="allowed", FURU_ALLOW_MAIN="1")
    assert allowed.wait() == 0, allowed.describe()
    result, furu_dir = allowed.stdout.splitlines()[-2:]
    assert result == "made in a script"
    assert Path(furu_dir).parent == store.root / "data" / "__main__" / "ScriptStep"


@pytest.mark.timeout(60)
def test_a_step_defined_in_a_function_is_refused_unless_allowed(store: Store) -> None:
    refused = store.start({"action": "local"}, name="refused")
    out = refused.result()
    assert refused.popen.returncode == 3
    assert out["error_type"] == "FuruIdentityError"
    assert "FURU_ALLOW_LOCALS=1" in out["message"]

    allowed = store.start({"action": "local"}, name="allowed", FURU_ALLOW_LOCALS="1").ok()
    assert allowed["results"] == ["local"]
    assert "locals" in Path(allowed["furu_dir"]).parent.name
