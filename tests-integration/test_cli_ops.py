"""`furu show/deps/rdeps/ls/invalidate/rm`, run as the real `furu` console script.

Every command runs in a subprocess with the store's environment: exit codes, `--json`,
confirmations on a real pseudo-terminal, the refusal without one, and a step whose compute
lock a live process holds. The README's "Look around and fix from the terminal" commands run
against a store made by the example pipeline.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import furu
import ops_steps
from furu_harness import Store, wait_until

FURU = Path(sys.executable).parent / "furu"
ROOT = Path(__file__).resolve().parents[1]
NS = "ops_steps"


def run(
    store: Store, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`furu ARGS` with stdin not a terminal (/dev/null)."""
    return subprocess.run(
        [str(FURU), *args],
        cwd=cwd or store.dir,
        env=env or store.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(store: Store, *args: str) -> str:
    done = run(store, *args)
    assert done.returncode == 0, f"furu {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def failed(store: Store, *args: str) -> str:
    """Run, expect exit status 1 and an error; return stderr."""
    done = run(store, *args)
    assert done.returncode == 1, f"furu {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stderr


def on_a_terminal(store: Store, args: list[str], answer: str) -> tuple[int, str]:
    """Run `furu ARGS` on a pseudo-terminal; answer `answer` once it asks `Proceed? [y/N]`."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(FURU), *args], cwd=store.dir, env=store.env(), stdin=child, stdout=child, stderr=child
    )
    os.close(child)
    seen = _read_until(main, proc, "Proceed? [y/N]")
    os.write(main, answer.encode() + b"\n")
    seen += _read_until(main, proc, None)
    os.close(main)
    return proc.wait(timeout=60), seen


def _read_until(fd: int, proc: subprocess.Popen[bytes], marker: str | None) -> str:
    """What the terminal shows, until `marker` appears (None: until the process closes it)."""
    out = b""
    deadline = time.monotonic() + 60
    while marker is None or marker.encode() not in out:
        assert time.monotonic() < deadline, f"no {marker!r} on the terminal: {out!r}"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            assert marker is None, f"the process ended before {marker!r}: {out!r}"
            break
        out += chunk
    return out.decode(errors="replace")


def chain(store: Store) -> dict[str, furu.StepDir]:
    """The `ops_steps` chain, created in this process; its step directories by name."""
    steps = ops_steps.build()
    the_store = furu.Store(store.root, version_controlled_root=store.root / "vc")
    return {name: the_store.step_dir_of(step) for name, step in steps.items()}


def ref(step: furu.StepDir, digits: int = 8) -> str:
    return f"{step.namespace.rsplit('.', 1)[-1]}/{step.hash[:digits]}"


# ------------------------------------------------------------ show


def test_show_names_a_step_every_way(store: Store) -> None:
    model = chain(store)["model"]
    for how in (
        [str(model.id)],
        [model.hash[:7]],
        [ref(model, 5)],
        [model.namespace, model.hash],
        [model.namespace, model.hash[:6]],
        [str(model.path)],
    ):
        shown = json.loads(ok(store, "show", *how))
        assert shown["furu_dir"] == str(model.path), how
        assert shown["state"]["result_status"] == "success"
    # every command naming a step takes the same forms: `diff` a directory and a prefix
    fields = json.loads(ok(store, "diff", str(model.path), ref(chain(store)["model2"]), "--json"))
    assert fields["a"] == str(model.id)


def test_show_refuses_an_unknown_or_ambiguous_step(store: Store) -> None:
    steps = chain(store)
    err = failed(store, "show", "ffffffffff")
    assert "furu: no step matches 'ffffffffff'" in err
    assert "furu ls" in err
    assert "furu: no step matches 'ops_steps.Model/ffffffffff'" in failed(
        store, "show", f"{NS}.Model", "ffffffffff"
    )
    assert "does not exist, so it names no step" in failed(store, "show", str(store.dir / "x"))
    assert "is a directory but not a step directory" in failed(store, "show", str(store.dir))
    for lr in range(20):  # enough models that two share a first hex digit
        ops_steps.Model(lr=lr + 1.0).load_or_create()
    firsts = [
        line.split()[-1][0] for line in ok(store, "ls", "--namespace", f"{NS}.Model").splitlines()
    ]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    err = failed(store, "show", f"Model/{shared}")
    assert f"'Model/{shared}' matches {firsts.count(shared)} steps" in err
    assert f"{NS}.Model/{shared}" in err
    assert run(store, "show", ref(steps["raw"])).returncode == 0


# ------------------------------------------------------------ deps / rdeps / ls


def test_deps_and_rdeps_direct_transitive_and_tree(store: Store) -> None:
    s = chain(store)
    direct = ok(store, "deps", ref(s["model"])).splitlines()
    assert [line.split()[-1] for line in direct] == [s["features"].hash]
    deep = json.loads(ok(store, "deps", ref(s["model"]), "--transitive", "--json"))
    assert [(d["hash"], d["depth"]) for d in deep["dependencies"]] == [
        (s["features"].hash, 1),
        (s["clean"].hash, 2),
        (s["raw"].hash, 3),
    ]
    assert deep["dependencies"][-1]["version_controlled"] is True
    ups = json.loads(ok(store, "rdeps", str(s["raw"].id), "--transitive", "--json"))
    assert {d["hash"] for d in ups["dependents"]} == {
        s[n].hash for n in ("clean", "features", "model", "model2")
    }
    assert [
        d["hash"] for d in json.loads(ok(store, "rdeps", ref(s["raw"]), "--json"))["dependents"]
    ] == [s["clean"].hash]
    tree = ok(store, "rdeps", ref(s["clean"]), "--tree").splitlines()
    assert tree[0].split() == [
        "success",
        "success",
        "-",
        str(s["clean"].namespace),
        s["clean"].hash,
    ]
    assert tree[1].startswith("└── success")
    assert s["features"].hash in tree[1]
    assert {tree[2][:8], tree[3][:8]} == {"    ├── ", "    └── "}
    assert {tree[2].split()[-1], tree[3].split()[-1]} == {s["model"].hash, s["model2"].hash}


def test_a_missing_dependency_is_marked(store: Store) -> None:
    s = chain(store)
    ok(store, "rm", ref(s["clean"]), "--yes")
    tree = ok(store, "deps", ref(s["model"]), "--tree")
    assert re.search(
        rf"└── missing +- +- +{NS}\.Clean {s['clean'].hash}  \(not in the store\)", tree
    )
    node = json.loads(ok(store, "deps", ref(s["features"]), "--tree", "--json"))["tree"]
    [clean] = node["children"]
    assert (clean["hash"], clean["missing"], clean["result_status"]) == (
        s["clean"].hash,
        True,
        "missing",
    )


def test_damaged_metadata_is_named_not_read_as_no_dependencies(store: Store) -> None:
    s = chain(store)
    s["model"].metadata_path.write_bytes(b"\xff\xfe{not json")
    err = failed(store, "deps", ref(s["model"]))
    assert f"furu: {s['model'].metadata_path} is not valid JSON" in err
    assert "Delete it (or the whole step directory)" in err
    ups = json.loads(ok(store, "rdeps", ref(s["features"]), "--json"))["dependents"]
    assert [d["hash"] for d in ups] == [s["model2"].hash]  # the damaged record has no edges
    assert json.loads(ok(store, "rm", ref(s["model"]), "--yes", "--json"))["done"] == [
        str(s["model"].id)
    ]


def test_ls_marks_version_controlled_steps(store: Store) -> None:
    s = chain(store)
    rows = {r["hash"]: r for r in json.loads(ok(store, "ls", "--json"))}
    assert rows[s["raw"].hash]["version_controlled"] is True
    assert rows[s["raw"].hash]["furu_dir"] == str(
        store.root / "vc" / "ops_steps" / "Raw" / s["raw"].hash
    )
    assert [r["version_controlled"] for r in rows.values()].count(True) == 1
    marks = {line.split()[-1]: line.split()[2] for line in ok(store, "ls").splitlines()}
    assert marks[s["raw"].hash] == "vc"
    assert marks[s["model"].hash] == "-"


def test_ls_finds_version_controlled_steps_beside_the_project(store: Store, tmp_path: Path) -> None:
    """No FURU_VERSION_CONTROLLED_PATH: they live in furu-data/artifacts beside pyproject.toml."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    env = store.env()
    del env["FURU_VERSION_CONTROLLED_PATH"]
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ops_steps; print(ops_steps.Raw(name='x')._furu_hash)"
            "; ops_steps.Raw(name='x').load_or_create()",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    digest = made.stdout.strip()
    rows = json.loads(run(store, "ls", "--json", cwd=project, env=env).stdout)
    assert [(r["hash"], r["version_controlled"], r["furu_dir"]) for r in rows] == [
        (digest, True, str(project / "furu-data" / "artifacts" / "ops_steps" / "Raw" / digest))
    ]


# ------------------------------------------------------------ invalidate / rm


def test_without_a_terminal_nothing_changes_without_yes(store: Store) -> None:
    s = chain(store)
    for action in ("invalidate", "rm"):
        done = run(store, action, ref(s["clean"]), "--dependents")
        assert done.returncode == 1
        assert "stdin is not a terminal. Pass --yes to proceed" in done.stderr
        assert done.stdout.startswith("furu will ")
        assert done.stdout.count("(dependent)") == 3  # features, model, model2
    assert all(step.has_result() for step in s.values())
    alone = run(store, "invalidate", ref(s["clean"]))
    assert alone.returncode == 1
    assert "note: 3 stored step(s) depend on these and are not included" in alone.stdout
    dry = json.loads(ok(store, "rm", ref(s["clean"]), "--dependents", "--dry-run", "--json"))
    assert dry["dry_run"] is True
    assert [p["dependent"] for p in dry["planned"]] == [False, True, True, True]
    assert dry["dependents_not_included"] == []
    alone = json.loads(ok(store, "rm", ref(s["features"]), "--dry-run", "--json"))
    assert set(alone["dependents_not_included"]) == {str(s["model"].id), str(s["model2"].id)}
    assert all(step.has_result() for step in s.values())


def test_confirmation_on_a_terminal(store: Store) -> None:
    s = chain(store)
    status, screen = on_a_terminal(store, ["invalidate", ref(s["model"])], "n")
    assert status == 1
    assert "furu will invalidate 1 step(s):" in screen
    assert "nothing was invalidated: the answer was not 'y'" in screen
    assert s["model"].has_result()
    status, screen = on_a_terminal(store, ["rm", ref(s["model2"])], "y")
    assert status == 0, screen
    assert f"removed {s['model2'].id}" in screen
    assert not s["model2"].path.exists()
    # model2 is gone now: features and model are hit
    status, screen = on_a_terminal(store, ["invalidate", ref(s["features"]), "--dependents"], "y")
    assert status == 0, screen
    assert "2 step(s) invalidated" in screen
    assert not s["features"].has_result()
    assert not s["model"].has_result()


def test_invalidate_with_dependents_hits_every_level(store: Store) -> None:
    s = chain(store)
    out = json.loads(ok(store, "invalidate", ref(s["clean"]), "--dependents", "--yes", "--json"))
    hit = ("clean", "features", "model", "model2")
    assert set(out["done"]) == {str(s[n].id) for n in hit}
    assert out["skipped"] == []
    assert [p["result_status"] for p in out["planned"]] == ["success"] * 4
    assert [n for n in s if s[n].has_result()] == ["raw"]
    assert "invalidated by `furu invalidate`" in s["model2"].log_path.read_text()
    assert ops_steps.Model(lr=0.5).load_or_create() == "model(features(clean(raw)), lr=0.5)"


def test_rm_with_dependents_removes_every_level(store: Store) -> None:
    s = chain(store)
    out = json.loads(ok(store, "rm", ref(s["features"]), "--dependents", "--yes", "--json"))
    assert out["action"] == "remove"
    assert out["done"][-1] == str(s["features"].id)  # dependents first
    assert set(out["done"]) == {str(s[n].id) for n in ("features", "model", "model2")}
    assert [n for n in s if s[n].path.exists()] == ["raw", "clean"]
    again = run(store, "rm", ref(s["features"]), "--yes")
    assert again.returncode == 1
    assert "no step matches" in again.stderr


def test_a_step_a_live_process_computes_is_refused(store: Store) -> None:
    started, release = store.path("started"), store.path("release")
    spec = store.counted("slow", started_path=started, release_path=release)
    proc = store.start({"step": spec}, name="holder")
    wait_until(lambda: os.path.exists(started), what="the holder to start", procs=[proc])
    [row] = json.loads(ok(store, "ls", "--json"))
    target = f"Counted/{row['hash'][:8]}"
    for action in ("rm", "invalidate"):
        done = run(store, action, target, "--yes")
        assert done.returncode == 1, done.stderr
        assert (
            f"(will be skipped: being computed by {os.uname().nodename}:{proc.pid}" in done.stdout
        )
        assert re.search(
            rf"skipped furu_steps\.Counted/{row['hash']}: being computed by", done.stderr
        )
        assert "0 step(s) " in done.stderr
    out = json.loads(run(store, "rm", target, "--yes", "--json").stdout)
    assert [s["cause"] for s in out["skipped"]] == ["running"]
    Path(release).write_text("go")
    proc.ok()
    assert json.loads(ok(store, "rm", target, "--yes", "--json"))["done"] == [
        f"furu_steps.Counted/{row['hash']}"
    ]
    assert json.loads(ok(store, "ls", "--json")) == []


# ------------------------------------------------------------ the README's commands


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Look around and fix from the terminal", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_commands_run_on_the_example_pipeline(store: Store, tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "pipeline.py")],
        cwd=tmp_path,
        env=store.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    commands = _readme_commands()
    assert len(commands) >= 8
    for command in commands:
        args = command.split()
        assert args[0] == "furu"
        done = run(store, *args[1:])
        asks = args[1] in ("invalidate", "rm") and not {"--yes", "--dry-run"} & set(args)
        if asks:  # no terminal here: it lists and refuses
            assert done.returncode == 1, command
            assert "Pass --yes" in done.stderr
        else:
            assert done.returncode == 0, f"{command}: {done.stderr}"
        if "--json" in args:
            json.loads(done.stdout)
