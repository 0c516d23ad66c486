"""`furu.export_steps` / `furu.import_bundle`: round trips, conflicts, and hostile bundles."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

import furu
from furu import Store, StoreGraph
from furu._lock import ComputeLock
from furu.testing import isolated_store

CALLS: Counter[str] = Counter()


class Source(furu.Furu[str]):
    """Writes a file, a nested file with an inner symlink, an empty directory and a raw file."""

    name: str = "src"

    def _create(self) -> str:
        CALLS["Source"] += 1
        (self.furu_dir / "data.txt").write_text(f"data {self.name}")
        (self.furu_dir / "nested").mkdir()
        (self.furu_dir / "nested" / "part.bin").write_bytes(os.urandom(3000))
        (self.furu_dir / "empty").mkdir()
        os.symlink("nested/part.bin", self.furu_dir / "latest")
        (self.step_raw_dir / "big.bin").write_bytes(b"r" * 5000)
        return self._load()

    def _load(self) -> str:
        assert (self.furu_dir / "latest").read_bytes()
        return (self.furu_dir / "data.txt").read_text()


class Model(furu.Furu[str]):
    source: Source = furu.chz.field(default_factory=Source)
    lr: float = 0.1

    def _create(self) -> str:
        CALLS["Model"] += 1
        value = f"model({self.source.load_or_create()}, {self.lr})"
        (self.furu_dir / "model.txt").write_text(value)
        return value

    def _load(self) -> str:
        return (self.furu_dir / "model.txt").read_text()


class Kept(furu.Furu[int], version_controlled=True):
    y: int = 3

    def _create(self) -> int:
        (self.furu_dir / "y.txt").write_text(str(self.y))
        return self.y

    def _load(self) -> int:
        return int((self.furu_dir / "y.txt").read_text())


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def _export(tmp_path: Path, *steps: furu.Furu[object], name: str = "b.tar") -> Path:
    store = Store.current()
    report = furu.export_steps(store, [store.step_dir_of(s) for s in steps], tmp_path / name)
    return report.path


def _other_store(tmp_path: Path, name: str = "other") -> AbstractContextManager[Store]:
    return isolated_store(tmp_path / name, version_controlled_root=tmp_path / f"{name}-vc")


def test_round_trip_loads_without_recomputing(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    bundle = _export(tmp_path, model)
    assert CALLS == {"Source": 1, "Model": 1}
    with _other_store(tmp_path) as store:
        report = furu.import_bundle(store, bundle)
        assert [s.action for s in report.steps] == ["imported", "imported"]
        assert model.load_or_create() == "model(data src, 0.1)"
        assert CALLS == {"Source": 1, "Model": 1}  # nothing recomputed
        target = store.step_dir_of(model)
        metadata = target.read_metadata()
        assert metadata is not None
        assert metadata["furu_path"] == str(target.path)
        source_dir = store.step_dir_of(model.source)
        assert metadata["dependencies"][0]["furu_path"] == str(source_dir.path)
        assert metadata["extra"]["imported_from"]["store"] == str(tmp_path / "store")
        assert (source_dir.raw_dir / "big.bin").read_bytes() == b"r" * 5000
        assert os.readlink(source_dir.path / "latest") == "nested/part.bin"
        assert (source_dir.path / "empty").is_dir()
        assert StoreGraph.load(store).dependencies(target) == [source_dir.id]
        journal = "".join(p.read_text() for p in (store.root / "journal").iterdir())
        assert journal.count('"what": "import"') == 2
        assert [e.hash for e in store.catalog(target.namespace)] == [target.hash]
        assert not list(store.root.glob(".furu-import-*"))
        again = furu.import_bundle(store, bundle)
        assert [s.action for s in again.steps] == ["skipped", "skipped"]


def test_compressed_bundle_and_no_deps(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    store = Store.current()
    report = furu.export_steps(
        store, [store.step_dir_of(model)], tmp_path / "b.tar.gz", dependencies=False
    )
    assert report.steps == [furu.step_id(model)]
    with tarfile.open(report.path, "r:gz") as tar:
        assert tar.getnames()[0] == "furu-bundle.json"
    with _other_store(tmp_path) as other:
        assert furu.import_bundle(other, report.path).count("imported") == 1
        assert model.load_or_create() == "model(data src, 0.1)"
        assert CALLS["Model"] == 1


def test_export_refuses_a_step_without_result_or_being_computed(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    store = Store.current()
    step = store.step_dir_of(model)
    lock = ComputeLock.try_acquire(step.meta_dir, lease_secs=60.0, heartbeat=20.0)
    assert lock is not None
    try:
        with pytest.raises(furu.FuruStoreError, match="being computed by"):
            furu.export_steps(store, [step], tmp_path / "b.tar")
    finally:
        lock.release()
    assert step.invalidate("test")
    with pytest.raises(furu.FuruStoreError, match="its result is incomplete"):
        furu.export_steps(store, [step], tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists()


def test_unsuccessful_dependency_and_outward_symlink_are_left_out(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    store = Store.current()
    source = store.step_dir_of(model.source)
    assert source.invalidate("test")
    step = store.step_dir_of(model)
    os.symlink("/etc/passwd", step.path / "escape")
    os.symlink("../../../../x", step.path / "up")
    os.mkfifo(step.path / "pipe")
    report = furu.export_steps(store, [step], tmp_path / "b.tar")
    assert report.steps == [step.id]
    why = {x.what: x.why for x in report.left_out}
    assert "its result is incomplete" in why[str(source.id)]
    assert "outside the step" in why[str(step.path / "escape")]
    assert "outside the step" in why[str(step.path / "up")]
    assert "FIFO" in why[str(step.path / "pipe")]
    with tarfile.open(report.path) as tar:
        names = tar.getnames()
    assert not [n for n in names if n.endswith(("escape", "up", "pipe"))]


def test_conflicting_result_imports_nothing(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    bundle = _export(tmp_path, model)
    with _other_store(tmp_path) as store:
        Model(source=Source(name="other")).load_or_create()  # unrelated, stays
        model.source.load_or_create()  # same config, new random bytes: a different result
        report = furu.import_bundle(store, bundle)
        conflict = report.conflicts
        assert [c.id for c in conflict] == [furu.step_id(model.source)]
        assert "nested/part.bin: differs" in (conflict[0].detail or "")
        assert [s.action for s in report.steps] == ["imported", "conflict"]
        assert not store.step_dir_of(model).exists()  # nothing was imported
        assert not list(store.root.glob(".furu-import-*"))


def test_a_step_here_without_result_is_replaced(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    bundle = _export(tmp_path, model)
    with _other_store(tmp_path) as store:
        model.load_or_create()
        assert store.step_dir_of(model).invalidate("stale here")
        report = furu.import_bundle(store, bundle, dry_run=True)
        assert [s.action for s in report.steps] == ["replaced", "conflict"]
        store.step_dir_of(model.source).delete()
        report = furu.import_bundle(store, bundle)
        assert [s.action for s in report.steps] == ["replaced", "imported"]
        calls = dict(CALLS)
        assert model.load_or_create() == "model(data src, 0.1)"
        assert dict(CALLS) == calls


def test_dry_run_verifies_and_writes_nothing(tmp_path: Path) -> None:
    model = Model()
    model.load_or_create()
    bundle = _export(tmp_path, model)
    with _other_store(tmp_path) as store:
        report = furu.import_bundle(store, bundle, dry_run=True)
        assert report.count("imported") == 2
        assert report.files > 0
        assert not store.root.exists()


def test_version_controlled_steps_and_code_states(tmp_path: Path) -> None:
    furu.FURU_CONFIG.ignore_git_diff = False
    kept = Kept()
    kept.load_or_create()
    store = Store.current()
    step = store.step_dir_of(kept)
    assert step.kind == "vc"
    state = step.read_code_state()
    report = furu.export_steps(store, [step], tmp_path / "b.tar")
    assert report.code_states == ([state.id] if state is not None else [])
    with isolated_store(tmp_path / "novc") as novc:
        novc.version_controlled_root = None
        with pytest.raises(furu.FuruStoreError, match="FURU_VERSION_CONTROLLED_PATH"):
            furu.import_bundle(novc, report.path)
    with _other_store(tmp_path) as other:
        furu.import_bundle(other, report.path)
        target = other.step_dir_of(kept)
        assert target.path.is_relative_to(tmp_path / "other-vc")
        assert kept.load_or_create() == 3
        if state is not None:
            assert target.read_code_state() == other.code_state(state.id)


# ---------------------------------------------------------------- hostile bundles

Entry = tuple[tarfile.TarInfo, bytes]


def _entries(bundle: Path) -> list[Entry]:
    with tarfile.open(bundle) as tar:
        out = []
        for m in tar.getmembers():
            f = tar.extractfile(m)
            out.append((m, f.read() if f is not None else b""))
        return out


def _write(path: Path, entries: list[Entry]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def _with_manifest(entries: list[Entry], change: Callable[[dict[str, object]], None]) -> None:
    info, data = entries[0]
    manifest = json.loads(data)
    change(manifest)
    raw = json.dumps(manifest).encode()
    info.size = len(raw)
    entries[0] = (info, raw)


def _flip(entries: list[Entry]) -> None:
    index = next(i for i, (m, _) in enumerate(entries) if m.name.endswith("data.txt"))
    info, data = entries[index]
    entries[index] = (info, data[::-1])


def _first_step_file(manifest: dict[str, object]) -> dict[str, object]:
    return manifest["steps"][0]["files"][0]  # type: ignore[index,no-any-return]


HOSTILE: dict[str, tuple[Callable[[list[Entry]], None], str]] = {
    "dotdot": (lambda e: e.append(_member("steps/../../evil", b"x")), "climbs out"),
    "absolute": (lambda e: e.append(_member("/tmp/evil", b"x")), "absolute path"),
    "symlink": (
        lambda e: e.append(_member("steps/x", kind=tarfile.SYMTYPE, link="/etc")),
        "is a symbolic link",
    ),
    "hardlink": (
        lambda e: e.append(_member("steps/x", kind=tarfile.LNKTYPE, link="/etc/passwd")),
        "is a hard link",
    ),
    "device": (lambda e: e.append(_member("steps/x", kind=tarfile.CHRTYPE)), "device or FIFO"),
    "unlisted": (lambda e: e.append(_member("steps/data/a/B/ff/x", b"x")), "not listed"),
    "checksum": (_flip, "checksum mismatch"),
    "missing": (lambda e: e.pop(), "it is truncated"),
    "duplicate": (lambda e: e.append(e[-1]), "appears twice"),
    "manifest-dotdot": (
        lambda e: _with_manifest(e, lambda m: _first_step_file(m).update(path="../../x")),
        "absolute or leaves it",
    ),
    "manifest-link": (
        lambda e: _with_manifest(
            e,
            lambda m: m["steps"][0]["symlinks"].append(  # type: ignore[index]
                {"path": "a", "target": "../../../etc"}
            ),
        ),
        "points outside it",
    ),
    "manifest-lock": (
        lambda e: _with_manifest(
            e, lambda m: _first_step_file(m).update(path=".furu/compute.lock")
        ),
        "a lock or an attempt's files",
    ),
    "manifest-sibling": (
        lambda e: _with_manifest(
            e,
            lambda m: m["steps"][0]["symlinks"].append(  # type: ignore[index]
                {"path": "a", "target": "../ffffffffffff/x"}
            ),
        ),
        "points outside it",
    ),
    "manifest-shape": (
        lambda e: _with_manifest(
            e,
            lambda m: m["steps"][0]["symlinks"].append(  # type: ignore[index]
                {"path": "model.txt/x", "target": "y"}
            ),
        ),
        "below the file 'model.txt'",
    ),
    "manifest-schema": (lambda e: _with_manifest(e, lambda m: m.update(schema=99)), "schema 99"),
    "not-first": (lambda e: e.reverse(), "first member is not furu-bundle.json"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bundles_are_refused_before_anything_is_visible(tmp_path: Path, case: str) -> None:
    Model().load_or_create()
    entries = _entries(_export(tmp_path, Model()))
    change, message = HOSTILE[case]
    change(entries)
    bundle = _write(tmp_path / "hostile.tar", entries)
    with _other_store(tmp_path) as store:
        with pytest.raises(furu.FuruStoreError, match=message) as caught:
            furu.import_bundle(store, bundle)
        assert str(bundle) in str(caught.value)
        assert not list(store.step_dirs())
        assert not list(store.root.glob(".furu-import-*"))
    assert not (tmp_path / "evil").exists()


def test_an_import_killed_earlier_leaves_nothing_behind(tmp_path: Path) -> None:
    from furu._store import HOSTNAME

    Model().load_or_create()
    bundle = _export(tmp_path, Model())
    with _other_store(tmp_path) as store:
        dead = subprocess.Popen(["true"])
        dead.wait()  # its pid is gone, like an import killed with SIGKILL
        leftover = store.root / f".furu-import-{HOSTNAME}-{dead.pid}-abcd"
        (leftover / "steps").mkdir(parents=True)
        furu.import_bundle(store, bundle)
        assert not leftover.exists()


def test_truncated_and_non_tar_and_huge_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Model().load_or_create()
    bundle = _export(tmp_path, Model())
    data = bundle.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2 + 100])
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with _other_store(tmp_path) as store:
        with pytest.raises(furu.FuruStoreError, match="truncated"):
            furu.import_bundle(store, cut)
        with pytest.raises(furu.FuruStoreError, match="not a tar file"):
            furu.import_bundle(store, junk)
        monkeypatch.setattr("furu._bundle_import.MAX_MANIFEST_BYTES", 100)
        with pytest.raises(furu.FuruStoreError, match="more than the 100 furu reads"):
            furu.import_bundle(store, bundle)
        assert not list(store.step_dirs())


def test_a_migration_alias_travels_with_the_result_it_links_to(tmp_path: Path) -> None:
    import evo_versions as v

    v.model(lr=(float, 0.1))().load_or_create()
    current = v.model(lr=(float, 0.1), average=(bool, False))
    furu.migrate(current, default=True)
    store = Store.current()
    alias = store.step_dir_of(current())
    assert os.path.islink(alias.path / "out.txt")
    report = furu.export_steps(store, [alias], tmp_path / "b.tar", dependencies=False)
    assert len(report.steps) == 2  # the alias and the result it reuses, even with no deps
    assert report.left_out == []
    with _other_store(tmp_path) as other:
        assert furu.import_bundle(other, report.path).count("imported") == 2
        assert os.readlink(other.step_dir_of(current()).path / "out.txt").startswith("../")
        assert current().load_existing() == 1
        again = furu.import_bundle(other, report.path)
        assert [s.action for s in again.steps] == ["skipped", "skipped"]


def test_unwritable_output_and_unreadable_bundle_are_clear_errors(tmp_path: Path) -> None:
    Model().load_or_create()
    store = Store.current()
    step = store.step_dir_of(Model())
    with pytest.raises(furu.FuruStoreError, match="choose a writable path with -o"):
        furu.export_steps(store, [step], tmp_path / "missing-dir" / "b.tar")
    with pytest.raises(furu.FuruStoreError, match="check that the bundle is a readable file"):
        furu.import_bundle(store, tmp_path)


def test_a_file_changing_during_the_export_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import furu._bundle as bundle_module

    model = Model()
    model.load_or_create()
    store = Store.current()
    step = store.step_dir_of(model)
    write = bundle_module._write_bundle

    def change_then_write(*args: object) -> object:
        (step.path / "model.txt").write_text("changed after it was hashed!")
        return write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bundle_module, "_write_bundle", change_then_write)
    with pytest.raises(furu.FuruStoreError, match=r"model\.txt changed while it was exported"):
        furu.export_steps(store, [step], tmp_path / "b.tar")
    assert not list(tmp_path.glob("*b.tar*"))
