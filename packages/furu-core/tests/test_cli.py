"""The read-only catalog and the `furu` CLI, over a store made by real steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import furu
from furu._cli import main


class Listed(furu.Furu[int]):
    x: int = 0

    def _create(self) -> int:
        if self.x < 0:
            raise ValueError("negative")
        return self.x

    def _load(self) -> int:
        return self.x


class Kept(furu.Furu[int], version_controlled=True):
    y: int = 0

    def _create(self) -> int:
        return self.y

    def _load(self) -> int:
        return self.y


def _make_store() -> None:
    for x in (1, 2):
        Listed(x=x).load_or_create()
    with pytest.raises(furu.FuruComputeError):
        Listed(x=-1).load_or_create()
    Kept(y=3).load_or_create()


def test_catalog_lists_every_step_with_namespace_and_status(furu_store: Path) -> None:
    _make_store()
    entries = list(
        furu.Store(
            furu_store, version_controlled_root=furu.FURU_CONFIG.version_controlled_root
        ).step_dirs()
    )
    found = {(e.namespace, e.hash, e.read_state().result_status.value) for e in entries}
    assert (f"{__name__}.Listed", Listed(x=1)._furu_hash, "success") in found
    assert (f"{__name__}.Listed", Listed(x=-1)._furu_hash, "failed") in found
    kept = [e for e in entries if e.version_controlled]
    assert [(e.namespace, e.hash) for e in kept] == [(f"{__name__}.Kept", Kept(y=3)._furu_hash)]
    assert all(e.path.is_dir() for e in entries)


def test_catalog_of_a_missing_store_is_empty(tmp_path: Path) -> None:
    assert list(furu.Store(tmp_path / "nothing").step_dirs()) == []


def test_ls_json_and_status_filter(furu_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _make_store()
    assert main(["--root", str(furu_store), "ls", "--json", "--status", "failed"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["namespace"], r["result_status"], r["attempt_status"]) for r in rows] == [
        (f"{__name__}.Listed", "failed", "failed")
    ]


def test_status_counts_per_class(furu_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _make_store()
    assert main(["--root", str(furu_store), "status", "--namespace", f"{__name__}.Listed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["1", "failed", f"{__name__}.Listed"],
        ["2", "success", f"{__name__}.Listed"],
    ]


def test_show_by_namespace_and_hash(furu_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _make_store()
    step = Listed(x=2)
    assert main(["--root", str(furu_store), "show", f"{__name__}.Listed", step._furu_hash]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"]["result_status"] == "success"
    assert shown["metadata"]["furu_hash"] == step._furu_hash
    assert shown["metadata"]["furu_python_def"] == "Listed(x=2)"


def test_show_unknown_step_fails_with_a_message(
    furu_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(furu_store), "show", "no.Such", "abc"]) == 1
    assert "no step matches 'no.Such/abc'" in capsys.readouterr().err


def test_show_by_class_and_hash_prefix(
    furu_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `furu show TrainModel/90cf5`: a class name and a hash prefix suffice."""
    _make_store()
    step = Listed(x=2)
    ref = f"Listed/{step._furu_hash[:6]}"
    assert main(["--root", str(furu_store), "show", ref]) == 0
    assert json.loads(capsys.readouterr().out)["metadata"]["furu_hash"] == step._furu_hash
    assert main(["--root", str(furu_store), "show", step._furu_hash]) == 0
    capsys.readouterr()
    assert main(["--root", str(furu_store), "show", "Listed/ffffffffff"]) == 1
    assert "no step matches 'Listed/ffffffffff'" in capsys.readouterr().err


def test_an_ambiguous_prefix_lists_the_matches(furu_store: Path) -> None:
    for x in range(10, 27):  # 17 steps: two of them share a first hex digit
        Listed(x=x).load_or_create()
    store = furu.Store(furu_store)
    with pytest.raises(furu.FuruStoreError) as info:
        store.find("Listed/")
    assert "is not a step reference" in str(info.value)
    firsts = [d.hash[0] for d in store.step_dirs()]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(furu.FuruStoreError) as info:
        store.find(f"Listed/{shared}")
    assert f"'Listed/{shared}' matches {firsts.count(shared)} steps" in str(info.value)
