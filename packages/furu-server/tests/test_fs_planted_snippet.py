"""A planted `metadata.json` whose class name would become other code: the snippet route refuses
it with the usual error JSON (422 `file_unreadable`, naming the field), never writes it into
Python, never 500s."""

from __future__ import annotations

import json

from server_fixtures import AUTH, BuiltStore, app_client


def test_a_planted_class_name_is_not_written_into_the_snippet(fresh_store: BuiltStore) -> None:
    meta = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    data = json.loads(meta.read_text())
    data["furu_obj"]["__class__"] = "os:system\nimport shutil; shutil.rmtree('/')"
    meta.write_text(json.dumps(data))
    with app_client(fresh_store.settings()) as client:
        client.post("/api/index/refresh", params={"full": True}, headers=AUTH)
        answer = client.get(fresh_store.url("small", "/snippet"))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "file_unreadable"
    assert error["detail"] == {"path": "config.__class__"}
    assert "\n" not in error["message"]  # the name is quoted (repr), never code
