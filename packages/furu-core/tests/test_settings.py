"""furu._settings: FURU_* parsing, the store root, the version-controlled root, `.env` files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import furu
from furu import FuruConfig, FuruConfigError
from furu._settings import MIN_HEARTBEAT_SECS, find_project_root

pytestmark = pytest.mark.usefixtures("no_furu_env")


def test_defaults_without_any_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    config = FuruConfig.from_env()
    assert config.base_root == tmp_path.resolve() / "furu-data"
    assert config.version_controlled_root is None
    assert config.log_level == "INFO"
    assert config.ignore_git_diff is False
    assert config.max_git_patch_bytes == 1_000_000
    assert config.wait_log_every == 10.0
    assert config.stale_after == 1800.0
    assert config.lease_secs == 120.0
    assert config.heartbeat_secs is None
    assert config.rich_uncaught_tracebacks is True
    assert config.force_recompute == frozenset()
    assert config.always_rerun == frozenset()
    assert config.dry_run is False
    assert config.allow_main is False
    assert config.allow_locals is False


def test_every_variable_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "FURU_PATH": str(tmp_path / "store"),
        "FURU_VERSION_CONTROLLED_PATH": str(tmp_path / "vc"),
        "FURU_LOG_LEVEL": "debug",
        "FURU_IGNORE_DIFF": "yes",
        "FURU_MAX_GIT_PATCH_BYTES": "2048",
        "FURU_WAIT_LOG_EVERY_SECS": "3",
        "FURU_STALE_AFTER_SECS": "60",
        "FURU_LEASE_SECS": "30",
        "FURU_HEARTBEAT_SECS": "4",
        "FURU_RICH_UNCAUGHT_TRACEBACKS": "off",
        "FURU_FORCE_RECOMPUTE": "pkg.mod.A, pkg.mod.B",
        "FURU_ALWAYS_RERUN": "ALL",
        "FURU_DRY_RUN": "true",
        "FURU_ALLOW_MAIN": "on",
        "FURU_ALLOW_LOCALS": " TRUE ",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = FuruConfig.from_env()
    assert config.base_root == (tmp_path / "store").resolve()
    assert config.version_controlled_root == (tmp_path / "vc").resolve()
    assert config.log_level == "DEBUG"
    assert config.ignore_git_diff is True
    assert config.max_git_patch_bytes == 2048
    assert config.wait_log_every == 3.0
    assert config.stale_after == 60.0
    assert config.lease_secs == 30.0
    assert config.heartbeat_secs == 4.0
    assert config.heartbeat_interval == 4.0
    assert config.rich_uncaught_tracebacks is False
    assert config.force_recompute == frozenset({"pkg.mod.A", "pkg.mod.B"})
    assert config.always_rerun == frozenset({"ALL"})
    assert config.dry_run is True
    assert config.allow_main is True
    assert config.allow_locals is True


def test_furu_path_expands_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FURU_PATH", "~/store")
    assert FuruConfig.from_env().base_root == (tmp_path / "store").resolve()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FURU_IGNORE_DIFF", "maybe", "FURU_IGNORE_DIFF='maybe' is not a boolean"),
        ("FURU_DRY_RUN", "2", "FURU_DRY_RUN='2' is not a boolean"),
        ("FURU_ALLOW_MAIN", "yess", "FURU_ALLOW_MAIN='yess' is not a boolean"),
        ("FURU_ALLOW_LOCALS", "nope", "FURU_ALLOW_LOCALS='nope' is not a boolean"),
        ("FURU_RICH_UNCAUGHT_TRACEBACKS", "x", "FURU_RICH_UNCAUGHT_TRACEBACKS='x' is not"),
        ("FURU_LEASE_SECS", "soon", "FURU_LEASE_SECS='soon' is not a number of seconds"),
        ("FURU_LEASE_SECS", "0", "FURU_LEASE_SECS='0' must be a finite number of at least 0.3"),
        ("FURU_LEASE_SECS", "nan", "FURU_LEASE_SECS='nan' must be a finite number of at least 0.3"),
        ("FURU_LEASE_SECS", "inf", "FURU_LEASE_SECS='inf' must be a finite number of at least 0.3"),
        (
            "FURU_LEASE_SECS",
            "0.2",
            "FURU_LEASE_SECS='0.2' must be a finite number of at least 0.3 (room for three lease "
            "renewals, which come at most every 0.1 s)",
        ),
        (
            "FURU_WAIT_LOG_EVERY_SECS",
            "-1",
            "FURU_WAIT_LOG_EVERY_SECS='-1' must be a finite number of at least 0.01",
        ),
        ("FURU_WAIT_LOG_EVERY_SECS", "x", "FURU_WAIT_LOG_EVERY_SECS='x' is not a number"),
        (
            "FURU_STALE_AFTER_SECS",
            "0.01",
            "FURU_STALE_AFTER_SECS='0.01' must be a finite number of at least 0.3",
        ),
        ("FURU_HEARTBEAT_SECS", "often", "FURU_HEARTBEAT_SECS='often' is not a number"),
        (
            "FURU_HEARTBEAT_SECS",
            "-3",
            "FURU_HEARTBEAT_SECS='-3' must be 0 (a third of FURU_LEASE_SECS, the default) or a "
            "finite number of at least 0.1",
        ),
        (
            "FURU_HEARTBEAT_SECS",
            "1e-9",
            "FURU_HEARTBEAT_SECS='1e-9' must be 0 (a third of FURU_LEASE_SECS, the default) or a "
            "finite number of at least 0.1 (each renewal touches the lock file: more often would "
            "be a busy loop against the store). Set FURU_HEARTBEAT_SECS to e.g. 10, or unset it",
        ),
        ("FURU_HEARTBEAT_SECS", "0.05", "FURU_HEARTBEAT_SECS='0.05' must be 0 (a third of"),
        ("FURU_MAX_GIT_PATCH_BYTES", "1e6", "FURU_MAX_GIT_PATCH_BYTES='1e6' is not a whole"),
        ("FURU_MAX_GIT_PATCH_BYTES", "-5", "FURU_MAX_GIT_PATCH_BYTES='-5' must not be negative"),
        ("FURU_MAX_GIT_PATCH_BYTES", "five", "FURU_MAX_GIT_PATCH_BYTES='five' is not a whole"),
        ("FURU_LOG_LEVEL", "verbose", "FURU_LOG_LEVEL='VERBOSE' is not a log level"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(FuruConfigError) as info:
        FuruConfig.from_env()
    assert expected in str(info.value)


def test_bad_number_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_LEASE_SECS", "soon")
    with pytest.raises(FuruConfigError, match="Set FURU_LEASE_SECS to a number such as 120"):
        FuruConfig.from_env()
    monkeypatch.setenv("FURU_LEASE_SECS", "0")
    with pytest.raises(FuruConfigError, match=r"Set FURU_LEASE_SECS to e\.g\. 120, or unset it"):
        FuruConfig.from_env()


def test_bad_log_level_lists_the_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_LOG_LEVEL", "loud")
    with pytest.raises(FuruConfigError) as info:
        FuruConfig.from_env()
    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        assert level in str(info.value)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_true_spellings(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FURU_IGNORE_DIFF", value)
    assert FuruConfig.from_env().ignore_git_diff is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_false_spellings(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FURU_RICH_UNCAUGHT_TRACEBACKS", value)
    assert FuruConfig.from_env().rich_uncaught_tracebacks is False


def test_empty_numbers_mean_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_LEASE_SECS", "")
    monkeypatch.setenv("FURU_MAX_GIT_PATCH_BYTES", " ")
    config = FuruConfig.from_env()
    assert config.lease_secs == 120.0
    assert config.max_git_patch_bytes == 1_000_000


def test_scheduler_settings_are_not_the_core_s(monkeypatch: pytest.MonkeyPatch) -> None:
    """FURU_POLL_INTERVAL_SECS & co. belong to the scheduler's package: the core ignores them."""
    monkeypatch.setenv("FURU_POLL_INTERVAL_SECS", "not read here")
    monkeypatch.setenv("FURU_PREEMPT_MAX", "not read here")
    monkeypatch.setenv("FURU_CANCELLED_IS_PREEMPTED", "not read here")
    config = FuruConfig.from_env()
    for name in ("poll_interval", "preempt_max", "cancelled_is_preempted"):
        assert not hasattr(config, name)


# ---------------------------------------------------------------- FORCE_RECOMPUTE / ALWAYS_RERUN


@pytest.mark.parametrize("variable", ["FURU_FORCE_RECOMPUTE", "FURU_ALWAYS_RERUN"])
def test_class_lists(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    attr = "force_recompute" if variable == "FURU_FORCE_RECOMPUTE" else "always_rerun"
    monkeypatch.setenv(variable, " a.B ,, my_project.pipelines.TrainModel,a.B ")
    names = getattr(FuruConfig.from_env(), attr)
    assert names == frozenset({"a.B", "my_project.pipelines.TrainModel"})
    monkeypatch.setenv(variable, "ALL")
    assert getattr(FuruConfig.from_env(), attr) == frozenset({"ALL"})
    monkeypatch.setenv(variable, "")
    assert getattr(FuruConfig.from_env(), attr) == frozenset()


@pytest.mark.parametrize("variable", ["FURU_FORCE_RECOMPUTE", "FURU_ALWAYS_RERUN"])
@pytest.mark.parametrize("entry", ["TrainModel", "all", "my pkg.Train"])
def test_class_list_bad_entry(monkeypatch: pytest.MonkeyPatch, variable: str, entry: str) -> None:
    monkeypatch.setenv(variable, f"a.B,{entry}")
    with pytest.raises(FuruConfigError) as info:
        FuruConfig.from_env()
    message = str(info.value)
    assert f"{variable} holds {entry!r}, which is not a qualified class name" in message
    assert f"{variable}=my_project.pipelines.TrainModel" in message
    assert "or set it to ALL" in message


def test_is_listed() -> None:
    config = FuruConfig.from_env()
    assert not config.is_listed(frozenset(), "a.B")
    assert config.is_listed(frozenset({"a.B"}), "a.B")
    assert not config.is_listed(frozenset({"a.B"}), "a.C")
    assert config.is_listed(frozenset({"ALL"}), "x.Y")


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_defaults_to_a_third_of_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_LEASE_SECS", "90")
    config = FuruConfig.from_env()
    assert config.heartbeat_secs is None
    assert config.heartbeat_interval == 30.0
    config.lease_secs = 12.0
    assert config.heartbeat_interval == 4.0


def test_heartbeat_never_exceeds_half_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_LEASE_SECS", "10")
    monkeypatch.setenv("FURU_HEARTBEAT_SECS", "60")
    assert FuruConfig.from_env().heartbeat_interval == 5.0
    monkeypatch.setenv("FURU_HEARTBEAT_SECS", "0")
    assert FuruConfig.from_env().heartbeat_interval == pytest.approx(10 / 3)


# ---------------------------------------------------------------- roots


def test_set_and_get_furu_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    furu.set_furu_root(tmp_path / "a")
    assert furu.get_furu_root() == tmp_path / "a"
    assert furu.FURU_CONFIG.base_root == tmp_path / "a"
    monkeypatch.chdir(tmp_path)
    furu.set_furu_root("relative/store")
    assert furu.get_furu_root() == tmp_path.resolve() / "relative" / "store"
    assert furu.get_furu_root().is_absolute()


def test_data_root(tmp_path: Path) -> None:
    furu.set_furu_root(tmp_path / "s")
    furu.FURU_CONFIG.version_controlled_root = tmp_path / "vc"
    assert furu.FURU_CONFIG.data_root(False) == tmp_path / "s" / "data"
    assert furu.FURU_CONFIG.data_root(True) == tmp_path / "vc"


def test_vc_root_beside_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(project / "src" / "deep")
    config = FuruConfig.from_env()
    assert config.vc_root() == project.resolve() / "furu-data" / "artifacts"
    # FURU_PATH moves the data, not the version-controlled artifacts.
    monkeypatch.setenv("FURU_PATH", str(tmp_path / "elsewhere"))
    assert FuruConfig.from_env().vc_root() == project.resolve() / "furu-data" / "artifacts"
    assert config.base_root == project.resolve() / "furu-data"


def test_pyproject_wins_over_a_nearer_gitignore(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("")
    assert find_project_root(tmp_path / "sub") == tmp_path.resolve()
    (tmp_path / "pyproject.toml").unlink()
    assert find_project_root(tmp_path / "sub") == (tmp_path / "sub").resolve()


def test_vc_root_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_VERSION_CONTROLLED_PATH", str(tmp_path / "mine"))
    assert FuruConfig.from_env().vc_root() == (tmp_path / "mine").resolve()


def test_vc_root_error_without_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    # This test needs a tmp dir that no pyproject.toml / .gitignore encloses.
    assert find_project_root() is None, "an enclosing project marker exists above tmp_path"
    config = FuruConfig.from_env()
    assert config.base_root == nowhere.resolve() / "furu-data"
    with pytest.raises(FuruConfigError) as info:
        config.vc_root()
    message = str(info.value)
    assert "version_controlled=True" in message
    assert "pyproject.toml" in message
    assert str(nowhere.resolve()) in message
    assert "set FURU_VERSION_CONTROLLED_PATH" in message


def test_reload_rereads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_WAIT_LOG_EVERY_SECS", "7")
    furu.FURU_CONFIG.reload()
    assert furu.FURU_CONFIG.wait_log_every == 7.0


# ---------------------------------------------------------------- .env files


def test_load_env_reads_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text(
        f"FURU_PATH={tmp_path / 'from-dotenv'}\nFURU_LOG_LEVEL=WARNING\n"
        "FURU_MAX_GIT_PATCH_BYTES=2\n"
    )
    assert furu.load_env(env_file) is True
    assert os.environ["FURU_LOG_LEVEL"] == "WARNING"
    assert furu.get_furu_root() == (tmp_path / "from-dotenv").resolve()
    assert furu.FURU_CONFIG.log_level == "WARNING"
    assert furu.FURU_CONFIG.max_git_patch_bytes == 2


def test_load_env_finds_dotenv_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("FURU_DRY_RUN=1\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert furu.load_env() is True
    assert furu.FURU_CONFIG.dry_run is True


def test_load_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("FURU_MAX_GIT_PATCH_BYTES=3\n")
    monkeypatch.setenv("FURU_MAX_GIT_PATCH_BYTES", "7")
    assert furu.load_env(env_file) is True
    assert furu.FURU_CONFIG.max_git_patch_bytes == 7
    assert furu.load_env(env_file, override=True) is True
    assert furu.FURU_CONFIG.max_git_patch_bytes == 3


def test_load_env_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = furu.FURU_CONFIG.base_root
    assert furu.load_env(tmp_path / "missing.env") is False
    # This needs a tmp dir that no .env file encloses.
    assert not any((d / ".env").is_file() for d in [tmp_path, *tmp_path.parents])
    assert furu.load_env() is False
    assert furu.FURU_CONFIG.base_root is before  # nothing was re-read


def test_the_heartbeat_never_runs_hot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_HEARTBEAT_SECS", "0.1")
    monkeypatch.setenv("FURU_LEASE_SECS", "0.3")
    config = FuruConfig.from_env()
    assert config.heartbeat_interval == pytest.approx(0.1)
    config.heartbeat_secs = 1e-9  # assigned in Python: still at least MIN_HEARTBEAT_SECS
    assert config.heartbeat_interval == MIN_HEARTBEAT_SECS
    config.heartbeat_secs, config.lease_secs = None, 0.01
    assert config.heartbeat_interval == MIN_HEARTBEAT_SECS
