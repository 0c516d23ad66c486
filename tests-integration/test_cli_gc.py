"""`furu du` and `furu gc` in real subprocesses: exit codes, JSON, dry runs, real locks, pins,
and journal compaction under the server's real index."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import furu
import furu_steps
from furu_harness import Store, wait_until

DAY = 86400.0


FURU = shutil.which("furu", path=str(Path(sys.executable).parent)) or "furu"


def _furu(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    """The `furu` console script against the test's store, its stdin not a terminal."""
    return subprocess.run(
        [FURU, *args],
        cwd=store.dir,
        env=store.env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _json(store: Store, *args: str) -> dict[str, Any]:
    done = _furu(store, *args, "--json")
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def _counted(store: Store, name: str, **kwargs: Any) -> furu_steps.Counted:
    return furu_steps.Counted(name=name, counter_path=store.path(f"{name}.count"), **kwargs)


def _age(step: furu.StepDir, days: float) -> None:
    stamp = time.time() - days * DAY
    for path in [*step.meta_dir.iterdir(), step.meta_dir]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def _plant_crashed(store: Store, name: str, days: float) -> furu.StepDir:
    """A step whose state.json says an attempt ran (long dead), written `days` ago."""
    step = furu.Store(store.root).step_dir("furu_steps.Counted", name)
    step.meta_dir.mkdir(parents=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - days * DAY))
    attempt = {
        "id": "a" * 32,
        "number": 1,
        "status": "running",
        "backend": "local",
        "host": "gone-node",
        "pid": 1,
        "user": "someone",
        "command": "python train.py",
        "started_at": stamp,
        "updated_at": stamp,
    }
    state = {"result_status": "incomplete", "attempt": attempt, "attempts": 1}
    step.state_path.write_text(json.dumps({**state, "updated_at": stamp, "schema": 1}))
    (step.path / "partial.bin").write_bytes(b"p" * 3000)
    _age(step, days)
    return step


# ---------------------------------------------------------------- du


def test_du_groups_and_json(store: Store) -> None:
    _counted(store, "a").load_or_create()
    _counted(store, "b").load_or_create()
    data = _json(store, "du", "--by", "status")
    assert data["groups"] == [
        {
            "key": "success",
            "steps": 2,
            "bytes": data["steps"]["bytes"],
            "disk": data["steps"]["disk"],
            "share": 1.0,
        }
    ]
    assert set(data["areas"]) == {
        "raw",
        "raw/steps",
        "code",
        "catalog",
        "journal",
        "other",
        "trash",
    }
    du = subprocess.run(["du", "-sb", str(store.root)], capture_output=True, text=True, check=True)
    assert data["total"]["bytes"] == int(du.stdout.split()[0])
    table = _furu(store, "du")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["CLASS", "STEPS", "SIZE", "SHARE"]
    assert lines[1].split()[:2] == ["furu_steps.Counted", "2"]
    assert lines[-1].startswith("total")
    bad = _furu(store, "du", "--by", "size")
    assert bad.returncode == 2
    assert "invalid choice: 'size'" in bad.stderr


# ---------------------------------------------------------------- gc: usage and dry runs


def test_gc_without_a_policy_is_a_usage_error_naming_the_flags(store: Store) -> None:
    done = _furu(store, "gc")
    assert done.returncode == 2
    assert "give at least one policy: --failed, --incomplete-older-than DURATION" in done.stderr


def test_gc_with_a_bad_duration_names_the_flag(store: Store) -> None:
    done = _furu(store, "gc", "--older-than", "7x")
    assert done.returncode == 1
    assert done.stderr.startswith("furu: --older-than '7x' is not a duration")


def test_orphaned_without_a_manifest_says_to_write_one(store: Store) -> None:
    _counted(store, "a").load_or_create()
    done = _furu(store, "gc", "--orphaned")
    assert done.returncode == 1
    assert "run `furu manifest` in the project's environment first" in done.stderr
    assert done.stderr.startswith("furu: --orphaned and --superseded compare the store")


def test_failed_and_old_incomplete_steps_dry_run_then_yes(store: Store) -> None:
    flag = store.path("fail.flag")
    Path(flag).write_text("fail")
    with pytest.raises(furu.FuruComputeError):
        _counted(store, "broken", fail_flag=flag).load_or_create()
    _counted(store, "fine").load_or_create()
    old = _plant_crashed(store, "0123456789abcdef0123", days=10)
    recent = _plant_crashed(store, "fedcba9876543210fedc", days=1)
    broken = furu.step_dir(_counted(store, "broken", fail_flag=flag))

    dry = _furu(store, "gc", "--failed", "--incomplete-older-than", "7d")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[1].split()[:2] == ["furu_steps.Counted", "2"]
    assert "failed 1, incomplete 1" in dry.stdout
    assert "Dry run: nothing deleted. Run again with --yes" in dry.stderr
    assert broken.exists()
    assert old.exists()

    data = _json(store, "gc", "--failed", "--incomplete-older-than", "7d", "--dry-run")
    assert data["dry_run"] is True
    assert {(c["hash"], c["policy"]) for c in data["candidates"]} == {
        (broken.hash, "failed"),
        (old.hash, "incomplete"),
    }
    assert data["total"]["steps"] == 2

    done = _json(store, "gc", "--failed", "--incomplete-older-than", "7d", "--yes")
    assert done["dry_run"] is False
    assert {c["hash"] for c in done["deleted"]} == {broken.hash, old.hash}
    assert done["freed_bytes"] == data["total"]["bytes"]
    assert not broken.exists()
    assert not old.exists()
    assert recent.exists()
    assert furu.step_dir(_counted(store, "fine")).has_result()


# ---------------------------------------------------------------- gc: what is never deleted


def test_a_step_whose_lock_a_live_process_holds_is_never_deleted(store: Store) -> None:
    started, release = store.path("held.started"), store.path("held.release")
    spec = store.counted("held", started_path=started, release_path=release)
    holder = store.start({"step": spec}, name="holder")
    wait_until(lambda: os.path.exists(started), what="the holder to start", procs=[holder])
    _counted(store, "idle").load_or_create()
    held = furu.step_dir(_counted(store, "held", started_path=started, release_path=release))
    data = _json(store, "gc", "--older-than", "0d", "--yes")
    assert [c["hash"] for c in data["deleted"]] == [furu.step_dir(_counted(store, "idle")).hash]
    protected = {p["hash"]: p["why"] for p in data["protected"]}
    assert protected[held.hash].startswith("running: its attempt is running")
    assert held.exists()
    Path(release).write_text("go")
    assert holder.ok()["ok"]
    assert held.has_result()


def test_a_pinned_steps_dependencies_survive(store: Store) -> None:
    inner = furu_steps.Inner(counter_path=store.path("inner.count"))
    outer = furu_steps.Outer(inner=inner, counter_path=store.path("outer.count"))
    outer.load_or_create()
    _counted(store, "loose").load_or_create()
    tagged = _furu(store, "gc", "--older-than", "0d", "--keep-tag", "paper", "--dry-run")
    assert tagged.returncode == 0
    furu.step_dir(outer).write_labels(furu.Labels(tags=("paper",)))
    data = _json(store, "gc", "--older-than", "0d", "--keep-tag", "paper", "--yes")
    assert data["keep_tags"] == ["keep", "pin", "paper"]
    assert [c["hash"] for c in data["deleted"]] == [furu.step_dir(_counted(store, "loose")).hash]
    why = {p["namespace"]: p["why"] for p in data["protected"]}
    assert why["furu_steps.Outer"] == "tagged: it is tagged 'paper'"
    assert why["furu_steps.Inner"].startswith("pinned: Outer ")
    assert furu.step_dir(outer).has_result()
    assert furu.step_dir(inner).has_result()


# ---------------------------------------------------------------- the journal


def test_gc_compacts_the_journal_and_journal_only_does_just_that(store: Store) -> None:
    for name in ("j1", "j2", "j3"):
        proc = store.start({"step": store.counted(name)}, name=name)  # three writers, now finished
        proc.ok()
    journal = store.root / "journal"
    assert len(list(journal.glob("*.jsonl"))) == 3
    dry = _json(store, "gc", "--journal-only")
    assert len(dry["journal"]["merged"]) == 3
    assert dry["journal"]["dry_run"] is True
    assert len(list(journal.glob("*.jsonl"))) == 3
    done = _json(store, "gc", "--journal-only", "--yes")
    assert done["journal"]["steps"] == 3
    assert [p.name for p in journal.glob("*.jsonl")] == [done["journal"]["compacted"]]
    mixed = _furu(store, "gc", "--journal-only", "--failed")
    assert mixed.returncode == 1
    assert "--journal-only compacts the journal and deletes nothing" in mixed.stderr
    store.start({"step": store.counted("j4")}, name="j4").ok()
    with_gc = _json(store, "gc", "--failed", "--yes")
    # j4's file; the first compaction's file stays (its readers need not read it again)
    assert len(with_gc["journal"]["merged"]) == 1
    assert len(list(journal.glob("*.jsonl"))) == 2


TAG = """
import sys, furu, furu_steps
from furu_steps import wait_for_file
here = sys.argv[1]
def tag(name, label):
    step = furu_steps.Counted(name=name, counter_path=here + "/" + name + ".count")
    furu.step_dir(step).write_labels(furu.Labels(tags=(label,)))
for name, label in zip(sys.argv[2::2], sys.argv[3::2]):
    if name == "wait":
        open(here + "/" + label + ".reached", "w").close()
        wait_for_file(here + "/" + label + ".release")
    else:
        tag(name, label)
"""


def test_compaction_loses_nothing_the_index_had_not_read(store: Store) -> None:
    """Changes written, the index reads part of them, compaction, a refresh sees them all.

    Tags change only files inside `.furu/`, so the index learns of them from the journal
    alone (an incremental refresh looks at class directories' mtimes, not into steps).
    """
    from furu_server._settings import ServerSettings
    from furu_server.index._index import Index

    for name in ("a", "b", "c"):
        _counted(store, name).load_or_create()
    settings = ServerSettings(
        root=store.root, vc_root=store.root / "vc", cache_dir=store.dir / "cache", token="t"
    )
    index = Index(settings)
    index.refresh()  # the first build
    args = [sys.executable, "-c", TAG, str(store.dir)]
    writer = subprocess.Popen([*args, "a", "first", "wait", "half", "b", "second"], env=store.env())
    try:
        wait_until(lambda: os.path.exists(store.path("half.reached")), what="the first tag")
        index.refresh()  # reads the writer's journal file up to the tag of `a`
        assert _tags(index, store) == {"a": ["first"]}
        Path(store.path("half.release")).write_text("go")
        assert writer.wait(60) == 0
    finally:
        writer.kill()
        writer.wait()
    subprocess.run([*args, "c", "third"], env=store.env(), check=True)  # a file never read
    done = furu.Store(store.root).journal.compact()
    assert len(done.merged) >= 2  # the tagger's half-read file, the third's unread one
    assert done.compacted is not None
    assert (store.root / "journal" / done.compacted).exists()
    assert not any((store.root / "journal" / name).exists() for name in done.merged)
    index.refresh()
    assert _tags(index, store) == {"a": ["first"], "b": ["second"], "c": ["third"]}
    # the index forgets the offsets of the files compaction removed
    known = {name for (name,) in index.indexer.conn.execute("SELECT file FROM journal")}
    assert known == {p.name for p in (store.root / "journal").glob("*.jsonl")}
    index.stop()


def _tags(index: Any, store: Store) -> dict[str, list[str]]:
    """The tags the index holds, by the `Counted` step's name."""
    names = {furu.step_dir(_counted(store, n)).hash: n for n in ("a", "b", "c")}
    rows = index.indexer.conn.execute(
        "SELECT e.hash, t.tag FROM tags t JOIN experiments e ON e.id = t.exp_id"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for digest, tag in rows:
        out.setdefault(names[digest], []).append(tag)
    return out


# ---------------------------------------------------------------- the README's commands

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_commands() -> list[str]:
    """The commands of the README's `### Clean up` section (its first bash block)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Clean up: disk use and garbage collection", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split(" #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_commands_run(store: Store) -> None:
    flag = store.path("fail.flag")
    Path(flag).write_text("fail")
    with pytest.raises(furu.FuruComputeError):
        _counted(store, "broken", fail_flag=flag).load_or_create()
    _counted(store, "kept").load_or_create()
    manifest = {
        "version": 1,
        "written_at": "2026-01-01T00:00:00Z",
        "modules": ["furu_steps"],
        "classes": [
            {"namespace": "furu_steps.Counted", "module": "furu_steps", "qualname": "Counted"}
        ],
        "lists": [],
    }
    furu.Manifest.from_json(manifest).write(furu.Store(store.root))
    commands = _readme_commands()
    assert len(commands) == 7
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "furu"
        done = _furu(store, *args[1:])
        assert done.returncode == 0, f"{command}: {done.stderr}"
    assert not furu.step_dir(_counted(store, "broken", fail_flag=flag)).exists()


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("\n", False)])
def test_on_a_terminal_gc_asks_before_deleting(store: Store, answer: str, deleted: bool) -> None:
    flag = store.path("fail.flag")
    Path(flag).write_text("fail")
    with pytest.raises(furu.FuruComputeError):
        _counted(store, "broken", fail_flag=flag).load_or_create()
    broken = furu.step_dir(_counted(store, "broken", fail_flag=flag))
    controller, terminal = os.openpty()  # stdin is a terminal: furu gc asks
    try:
        os.write(controller, answer.encode())
        done = subprocess.run(
            [FURU, "gc", "--failed"],
            cwd=store.dir,
            env=store.env(),
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == (0 if deleted else 1), done.stderr
    assert "Delete 1 step(s)? Proceed? [y/N]" in done.stdout
    assert "furu_steps.Counted" in done.stderr  # the plan, shown before the question
    assert broken.exists() is not deleted
    if deleted:
        assert "Deleted 1 step(s), freed" in done.stdout
    else:
        assert done.stderr.strip().endswith("Nothing deleted.")
