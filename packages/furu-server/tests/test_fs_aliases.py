"""Migrated aliases (ADR 0005 section 5) as the server shows them: the migration on the detail,
the alias's files served through its links, and every other symlink still refused.

The alias is laid out as a migration lays it out: a sibling directory of the same class with
its own `.furu/` (`migration.json` naming the old result) and, for each entry of the old
directory, a relative symlink `../<old>/<name>`; the old directory's `migrations.jsonl` has a
line for it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore, app_client

import furu

ALIAS = "a11a5a11a5a11a5a"


def make_alias(store: BuiltStore, name: str, digest: str = ALIAS) -> tuple[Path, Path]:
    """An alias of the experiment `name` at hash `digest`: `(old dir, alias dir)`."""
    old = store.step_dir(name)
    namespace, old_hash = store.ref(name)
    alias = old.parent / digest
    (alias / ".furu").mkdir(parents=True)
    for meta in ("metadata.json", "state.json", "SUCCESS.json"):
        shutil.copy(old / ".furu" / meta, alias / ".furu" / meta)
    record = {
        "from": {"namespace": namespace, "hash": old_hash},
        "to": {"namespace": namespace, "hash": digest},
        "at": "2026-12-05T12:00:00.000+00:00",
        "by": "tester",
        "how": "default",
    }
    (alias / ".furu" / "migration.json").write_text(json.dumps(record))
    for entry in os.scandir(old):
        if entry.name != ".furu":
            os.symlink(f"../{old.name}/{entry.name}", alias / entry.name)
    with open(old / ".furu" / "migrations.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")
    return old, alias


@pytest.fixture
def client(fresh_store: BuiltStore) -> Iterator[TestClient]:
    make_alias(fresh_store, "large")
    with app_client(fresh_store.settings()) as api:
        yield api


def _url(store: BuiltStore, suffix: str = "") -> str:
    namespace, _ = store.ref("large")
    return f"/api/experiments/{namespace}/{ALIAS}{suffix}"


def test_the_detail_names_the_migration_on_both_sides(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    namespace, old_hash = fresh_store.ref("large")
    detail = client.get(_url(fresh_store)).json()
    assert detail["migrated_from"] == f"{namespace}/{old_hash}"
    migration = detail["migration"]
    assert migration["migrated_from"] == f"{namespace}/{old_hash}"
    assert migration["migrated_to"] == f"{namespace}/{ALIAS}"
    assert (migration["at"], migration["by"], migration["how"]) == (
        "2026-12-05T12:00:00.000+00:00",
        "tester",
        "default",
    )
    assert migration["broken"] is False
    old = client.get(fresh_store.url("large")).json()
    assert old["migration"] is None
    assert [m["migrated_to"] for m in old["migrations"]] == [f"{namespace}/{ALIAS}"]
    found = client.post(
        "/api/experiments/search", json={"query": f'migrated_from = "{namespace}/{old_hash}"'}
    ).json()
    assert [i["hash"] for i in found["items"]] == [ALIAS]


def test_the_alias_files_are_served_through_its_links(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    data = client.get(_url(fresh_store, "/files/checkpoint.bin"))
    assert data.status_code == 200, data.text
    assert data.content == (fresh_store.step_dir("large") / "checkpoint.bin").read_bytes()
    tree = {e["path"]: e for e in client.get(_url(fresh_store, "/artifacts")).json()["entries"]}
    assert tree["checkpoint.bin"]["linked"] is True
    assert tree["checkpoint.bin"]["type"] == "file"
    assert tree["checkpoint.bin"]["size"] == len(data.content)
    assert tree[".furu/migration.json"]["linked"] is False
    preview = client.get(_url(fresh_store, "/preview/loss.csv")).json()
    assert preview["kind"] == "table"
    assert preview["rows"][0] == [0, 1.0]


def _refused(client: TestClient, url: str) -> dict[str, str]:
    answer = client.get(url)
    assert answer.status_code in (403, 404), answer.text
    error: dict[str, str] = answer.json()["error"]
    return error


def test_hostile_links_of_an_alias_are_still_refused(
    fresh_store: BuiltStore, client: TestClient, tmp_path: Path
) -> None:
    old, alias = fresh_store.step_dir("large"), None
    alias = old.parent / ALIAS
    outside = tmp_path / "outside"
    (outside / ".furu").mkdir(parents=True)
    (outside / "secret").write_text("secret")
    os.symlink(outside, old.parent / "fakestep")  # a sibling that is a symlink out of the store
    os.symlink("../fakestep/secret", alias / "via_fake")
    os.symlink(str(outside / "secret"), alias / "absolute")
    os.symlink(f"../{old.name}/../../../../secret", alias / "climbing")
    os.symlink(str(outside / "secret"), old / "leak")  # a link out of the old directory
    os.symlink(f"../{old.name}/leak", alias / "leak")
    for name in ("via_fake", "absolute", "climbing", "leak"):
        error = _refused(client, _url(fresh_store, f"/files/{name}"))
        assert error["code"] == "path_outside_artifact", (name, error)
        assert "only files inside it are served" in error["message"]


def test_a_link_outside_an_alias_is_not_followed(fresh_store: BuiltStore, tmp_path: Path) -> None:
    """Without `.furu/migration.json` a link into a sibling directory is refused as before."""
    small = fresh_store.step_dir("small")
    os.symlink(f"../{fresh_store.step_dir('large').name}/checkpoint.bin", small / "borrowed")
    with app_client(fresh_store.settings()) as client:
        error = _refused(client, fresh_store.url("small", "/files/borrowed"))
    assert error["code"] == "path_outside_artifact"


def test_an_alias_whose_result_is_gone_is_broken_and_stale(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    furu.build_manifest(["server_steps"], store=furu.Store(fresh_store.root)).write(
        furu.Store(fresh_store.root)
    )
    client.post("/api/index/refresh").raise_for_status()
    assert client.get(_url(fresh_store)).json()["stale"] is False
    alias_meta = fresh_store.step_dir("large").parent / ALIAS / ".furu"
    os.utime(alias_meta, (1e9, 1e9))  # settled long ago: nothing of the alias itself changes
    client.post("/api/index/refresh", params={"full": True}).raise_for_status()
    shutil.rmtree(fresh_store.step_dir("large"))
    client.post("/api/index/refresh").raise_for_status()
    detail = client.get(_url(fresh_store)).json()
    assert detail["migration"]["broken"] is True
    assert detail["stale"] is True
    assert detail["stale_kind"] == "broken-alias"
    assert "recompute it" in detail["stale_reason"]
    error = _refused(client, _url(fresh_store, "/files/checkpoint.bin"))
    assert error["code"] in ("file_not_found", "path_outside_artifact")
