"""`furu export` / `furu import` from the shell, on a store made by the example pipeline.

The pipeline (`examples/pipeline.py`) runs in a subprocess inside a small git repository (so
its steps record a code state); the real `furu` console script exports every experiment,
imports the bundle into a store at another path, and the pipeline, run again in a new process
on that store, creates nothing: every step keeps its one attempt, with the same attempt id.
The README's commands run verbatim.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from disk_fixtures import TinyDisk

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "examples" / "pipeline.py"
FURU = Path(sys.executable).with_name("furu")
TIMEOUT_SEC = 120


@dataclass(frozen=True)
class Project:
    """A working directory (a git repository) and the store the pipeline wrote."""

    tmp: Path
    work: Path
    store: Path


def env_for(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    env |= {
        "FURU_PATH": str(store),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": f"{FURU.parent}{os.pathsep}{env.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return env


def run(
    argv: list[str], project: Project, store: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=project.work,
        env=env_for(store or project.store),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SEC,
        check=False,
    )


def furu(
    project: Project, *args: str, store: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run([str(FURU), *args], project, store)


def pipeline(project: Project, store: Path) -> tuple[int, int]:
    done = run([sys.executable, str(PIPELINE)], project, store)
    assert done.returncode == 0, done.stderr
    match = re.search(r"^created (\d+) steps, loaded (\d+) from cache$", done.stdout, re.M)
    assert match, done.stdout
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    work = tmp_path / "work"
    work.mkdir()
    made = Project(tmp_path, work, tmp_path / "furu-data")
    for argv in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(argv, cwd=work, env=env_for(made.store), check=True, timeout=60)
    (work / "notes.txt").write_text("an untracked file, recorded in the code state\n")
    assert pipeline(made, made.store) == (15, 0)
    return made


def states(store: Path) -> dict[str, tuple[int, str]]:
    """`rel_dir -> (attempts, attempt id)` of every step of `store`."""
    out = {}
    for path in (store / "data").rglob(".furu/state.json"):
        state = json.loads(path.read_text())
        out[str(path.parent.parent.relative_to(store))] = (
            state["attempts"],
            state["attempt"]["id"],
        )
    return out


def evaluate_refs(project: Project) -> list[str]:
    listed = furu(project, "ls", "--json", "--namespace", "ml_pipeline.steps.Evaluate")
    assert listed.returncode == 0, listed.stderr
    return [f"{row['namespace']}/{row['hash']}" for row in json.loads(listed.stdout)]


def test_round_trip_every_step_loads_without_recomputing(project: Project) -> None:
    refs = evaluate_refs(project)
    assert len(refs) == 7
    exported = furu(project, "export", *refs, "-o", "all.tar", "--json")
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)
    assert set(report) == {"bundle", "steps", "code_states", "left_out", "files", "bytes"}
    assert len(report["steps"]) == 15
    assert len(report["code_states"]) == 1
    assert report["left_out"] == []
    target = project.tmp / "elsewhere" / "store"
    imported = furu(project, "--root", str(target), "import", "all.tar", "--json")
    assert imported.returncode == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert result["ok"] is True
    assert result["counts"] == {"imported": 15, "replaced": 0, "skipped": 0, "conflict": 0}
    assert result["code_states"] == {report["code_states"][0]: "imported"}
    assert {s["action"] for s in result["steps"]} == {"imported"}
    assert pipeline(project, target) == (0, 7)  # a new process: the 7 experiments load
    assert states(target) == states(project.store)  # same attempts, none added
    for metadata in (target / "data").rglob(".furu/metadata.json"):
        record = json.loads(metadata.read_text())
        assert record["furu_path"] == str(metadata.parent.parent)
        assert all(d["furu_path"].startswith(str(target)) for d in record["dependencies"])
    assert (target / "code" / report["code_states"][0] / "manifest.json").is_file()
    checkout = furu(project, "--root", str(target), "checkout", refs[0], str(project.tmp / "co"))
    assert checkout.returncode == 0, checkout.stderr
    assert (project.tmp / "co" / "notes.txt").is_file()
    again = furu(project, "--root", str(target), "import", "all.tar")
    assert again.returncode == 0, again.stderr
    assert "0 imported, 0 replaced, 15 skipped, 0 conflict" in again.stderr


def test_a_different_result_is_a_conflict_and_nothing_is_imported(project: Project) -> None:
    refs = evaluate_refs(project)
    assert furu(project, "export", *refs, "-o", "all.tar").returncode == 0
    target = project.tmp / "theirs"
    assert furu(project, "--root", str(target), "import", "all.tar").returncode == 0
    victim = next((target / "data").rglob("Evaluate/*/eval.json"))
    victim.write_text('{"accuracy": 0.0}')
    gone = next(p for p in (target / "data").rglob("Evaluate/*") if p != victim.parent)
    subprocess.run(["rm", "-rf", str(gone)], check=True)
    dry = furu(project, "--root", str(target), "import", "all.tar", "--dry-run", "--json")
    assert dry.returncode == 1
    shape = json.loads(dry.stdout)
    assert shape["ok"] is False
    assert shape["dry_run"] is True
    assert shape["counts"]["conflict"] == 1
    conflict = next(s for s in shape["steps"] if s["action"] == "conflict")
    assert conflict["step"].endswith(victim.parent.name)
    assert "eval.json: differs" in conflict["detail"]
    real = furu(project, "--root", str(target), "import", "all.tar")
    assert real.returncode == 1
    assert "furu: 1 conflict(s): nothing was imported" in real.stderr
    assert not gone.exists()  # importable, but not imported: the import is all or nothing
    assert victim.read_text() == '{"accuracy": 0.0}'


def test_readme_commands_run_as_shown(project: Project) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Share results: export and import", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert len(lines) == 5
    outputs = []
    for line in lines:
        done = run(["bash", "-c", line], project)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    assert json.loads(outputs[1])["steps"] == ["ml_pipeline.steps.Evaluate/90cf516c75f24e3623fe"]
    assert "would be imported" in outputs[2]
    assert {s["action"] for s in json.loads(outputs[4])["steps"]} == {"skipped"}
    assert (project.tmp / "their-store" / "data" / "ml_pipeline").is_dir()
    assert not list((project.tmp / "their-store").glob(".furu-import-*"))


def test_refusals_and_usage_errors(project: Project) -> None:
    ref = evaluate_refs(project)[0]
    usage = furu(project, "export", ref)
    assert usage.returncode == 2
    assert "-o/--output" in usage.stderr
    unknown = furu(project, "export", "Evaluate/ffff", "-o", "x.tar")
    assert unknown.returncode == 1
    assert "furu: no step matches 'Evaluate/ffff'" in unknown.stderr
    assert not (project.work / "x.tar").exists()
    missing = furu(project, "import", "nope.tar")
    assert missing.returncode == 1
    assert "there is no bundle at nope.tar" in missing.stderr
    assert furu(project, "export", ref, "-o", "one.tar").returncode == 0
    with tarfile.open(project.work / "one.tar") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    evil = tarfile.TarInfo("steps/../../../evil.txt")
    evil.size = 4
    with tarfile.open(project.work / "evil.tar", "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in [*members, (evil, b"evil")]:
            tar.addfile(member, io.BytesIO(data))
    target = project.tmp / "target"
    refused = furu(project, "--root", str(target), "import", "evil.tar")
    assert refused.returncode == 1
    assert "'steps/../../../evil.txt' climbs out of its directory with '..'" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert not (target / "data").exists()
    assert not (project.tmp / "evil.txt").exists()
    step = next((project.store / "data").rglob("Evaluate/*"))
    (step / ".furu" / "SUCCESS.json").unlink()
    failed = furu(project, "export", f"Evaluate/{step.name}", "-o", "bad.tar")
    assert failed.returncode == 1
    assert "its result is incomplete (only successful steps are exported)" in failed.stderr


def test_a_full_disk_imports_nothing_then_the_import_succeeds(
    project: Project, tiny_disk: TinyDisk
) -> None:
    refs = evaluate_refs(project)
    tiny_disk.fill(leave_pages=2)
    full = furu(project, "export", *refs, "-o", str(tiny_disk.path / "all.tar"))
    assert full.returncode == 1
    assert f"the disk holding {tiny_disk.path / 'all.tar'} is full" in full.stderr
    assert not [p for p in tiny_disk.path.iterdir() if not p.name.startswith("filler-")]
    tiny_disk.free()
    assert furu(project, "export", *refs, "-o", "all.tar").returncode == 0
    target = tiny_disk.path / "store"
    tiny_disk.fill(leave_pages=8)
    refused = furu(project, "--root", str(target), "import", "all.tar")
    assert refused.returncode == 1
    assert "filled up while all.tar was imported; nothing was imported" in refused.stderr
    assert not list(target.glob(".furu-import-*"))
    assert not (target / "data").exists()
    tiny_disk.free()
    assert furu(project, "--root", str(target), "import", "all.tar").returncode == 0
    assert pipeline(project, target) == (0, 7)
