"""`furu tui` driven with Textual's pilot over stores made by the real pipeline (`server_steps`).

Each test starts the app on a store whose index does not exist yet, so the app builds it on
its refresh thread first (what a first start does); `settle` waits for that and for every
query worker before looking at the screen.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from server_fixtures import BuiltStore, running_step
from textual.pilot import Pilot
from textual.widgets import Input, Log, Static

from furu_server.tui import main
from furu_server.tui._app import (
    DetailScreen,
    FuruTui,
    ListScreen,
    LogScreen,
    RelatedScreen,
    Table,
)
from furu_server.tui._data import StoreData
from furu_server.tui._dialogs import ConfirmScreen, HelpScreen

DOCS = Path(__file__).resolve().parents[3] / "docs" / "tui.md"


def make_app(store: BuiltStore, cache: str, initial_filter: str = "") -> FuruTui:
    data = StoreData(store.settings(cache_dir=store.dir / cache))
    return FuruTui(data, initial_filter=initial_filter, refresh_interval=0)


async def settle(app: FuruTui, pilot: Pilot[Any]) -> None:
    """Wait until the index refresh and every query have finished and the screen shows them."""
    for _ in range(3000):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.busy:
            break
        await asyncio.sleep(0.01)
    await pilot.pause()


def run(
    store: BuiltStore,
    cache: str,
    body: Callable[[FuruTui, Pilot[Any]], Awaitable[None]],
    initial_filter: str = "",
) -> None:
    async def go() -> None:
        app = make_app(store, cache, initial_filter)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await body(app, pilot)

    asyncio.run(go())


def listed(app: FuruTui) -> list[str]:
    """The `namespace/hash` of every row of the list's table."""
    table = (
        app.screen_stack[1].query_one(Table)
        if isinstance(app.screen_stack[1], ListScreen)
        else None
    )
    assert table is not None
    return [str(key.value) for key in table.rows]


def the_list(app: FuruTui) -> ListScreen:
    screen = app.screen_stack[1]
    assert isinstance(screen, ListScreen)
    return screen


def text_of(app: FuruTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def test_list_shows_every_experiment(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        rows = listed(app)
        assert {"/".join(built_store.ref(name)) for name in built_store.steps} <= set(rows)
        assert f"of {len(rows)}" in str(the_list(app).query_one("#status", Static).content)

    run(built_store, "cache-tui-list", body)


def test_filter_narrows_and_a_bad_filter_keeps_the_rows(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        everything = listed(app)
        await pilot.press("slash")
        await pilot.press(*"status = failed")
        await pilot.press("enter")
        await settle(app, pilot)
        assert listed(app) == ["/".join(built_store.ref("failed"))]
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        box.value = ""
        await pilot.press(*"config.lr <")
        await pilot.press("enter")
        await settle(app, pilot)
        error = text_of(app, "#filter-error")
        assert "config.lr <" in error or "expected" in error.lower(), error
        assert app.screen.query_one("#filter-error").display
        assert listed(app) == ["/".join(built_store.ref("failed"))]  # the last good rows
        box = app.screen.query_one("#filter", Input)
        box.value = ""
        await pilot.press("enter")
        await settle(app, pilot)
        assert sorted(listed(app)) == sorted(everything)

    run(built_store, "cache-tui-filter", body)


def test_sort_cycles_and_reverses(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        await pilot.press("s")  # updated -> status
        await settle(app, pilot)
        assert the_list(app).query_.sort.value == "status"
        first = listed(app)
        await pilot.press("S")
        await settle(app, pilot)
        assert listed(app) == list(reversed(first)) or listed(app)[0] != first[0]
        assert "sort: status ↑" in str(the_list(app).query_one("#status", Static).content)

    run(built_store, "cache-tui-sort", body)


def test_enter_opens_the_detail_and_deps_navigate(built_store: BuiltStore) -> None:
    small = "/".join(built_store.ref("small"))
    corpus = "/".join(built_store.ref("toy"))

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        await pilot.press("slash")
        await pilot.press(*f"hash = '{built_store.ref('small')[1]}'")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        shown = str(app.screen.query_one("#title", Static).content)
        assert small in shown
        await pilot.press("d")  # its dependencies: the corpus
        await settle(app, pilot)
        assert isinstance(app.screen, RelatedScreen)
        assert [str(k.value) for k in app.screen.query_one(Table).rows] == [corpus]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.current() == built_store.ref("toy")
        await pilot.press("r")  # the corpus's dependents include `small`
        await settle(app, pilot)
        assert isinstance(app.screen, RelatedScreen)
        assert small in [str(k.value) for k in app.screen.query_one(Table).rows]
        for _ in range(3):
            await pilot.press("q")
            await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("D")
        await settle(app, pilot)
        assert "TrainModel" in text_of(app, "#text")
        await pilot.press("escape", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ListScreen)

    run(built_store, "cache-tui-detail", body)


def test_detail_shows_the_error_and_traceback_and_the_log(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        app.push_screen(DetailScreen(*built_store.ref("failed")))
        await settle(app, pilot)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#detail", Static).content)
        shown = console.export_text()
        found = app.data.detail(*built_store.ref("failed"))
        assert found.error is not None
        assert f"{found.error.type}: {found.error.message}" in shown
        assert "Traceback" in shown
        assert "lr = 10.0" in shown  # the config tree
        assert "attempt #1: failed" in shown
        await pilot.press("q")
        app.push_screen(DetailScreen(*built_store.ref("small")))
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        assert any("step 0 loss 1.000" in line for line in app.screen.query_one(Log).lines)
        assert "finished" in text_of(app, "#message")

    run(built_store, "cache-tui-error", body)


def test_a_step_computed_meanwhile_shows_after_a_refresh(fresh_store: BuiltStore) -> None:
    import server_steps

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        before = listed(app)
        step = server_steps.TrainModel(corpus=server_steps.Corpus(name="toy", size=5), lr=0.123)
        await asyncio.to_thread(step.load_or_create)
        await pilot.press("R")
        await settle(app, pilot)
        ref = f"{step._furu_namespace}/{step._furu_hash}"
        assert ref in listed(app)
        assert len(listed(app)) == len(before) + 1

    run(fresh_store, "cache-tui-refresh", body)


def test_invalidate_with_confirmation_changes_the_store(fresh_store: BuiltStore) -> None:
    small = fresh_store.step_dir("small")
    success = small / ".furu" / "SUCCESS.json"
    assert success.exists()
    eval_success = fresh_store.step_dir("eval_small") / ".furu" / "SUCCESS.json"

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        app.push_screen(DetailScreen(*fresh_store.ref("small")))
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        listed_lines = "\n".join(app.screen.lines)
        assert "/".join(fresh_store.ref("eval_small")) in listed_lines  # what [a] would hit
        await pilot.press("n")  # cancelled: nothing changes
        await settle(app, pilot)
        assert success.exists()
        await pilot.press("i")
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert not success.exists()
        assert not eval_success.exists()
        assert "invalidated" in app.last_message

    run(fresh_store, "cache-tui-invalidate", body)


def test_delete_and_tags(fresh_store: BuiltStore) -> None:
    tokenizer = fresh_store.step_dir("tokenizer")

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        app.push_screen(DetailScreen(*fresh_store.ref("medium")))
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        app.screen.query_one(Input).value = "keep, best"
        await pilot.press("enter")
        await settle(app, pilot)
        assert "keep" in app.last_message
        assert app.data.detail(*fresh_store.ref("medium")).tags == ["best", "keep"]
        await pilot.press("q")
        app.push_screen(DetailScreen(*fresh_store.ref("tokenizer")))
        await settle(app, pilot)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert not tokenizer.exists()
        assert isinstance(app.screen, ListScreen)
        assert "/".join(fresh_store.ref("tokenizer")) not in listed(app)

    run(fresh_store, "cache-tui-delete", body)


def test_running_experiment_is_refused(fresh_store: BuiltStore, tmp_path: Path) -> None:
    with running_step(tmp_path, lr=0.0042) as (step, release):
        ref = (step._furu_namespace, step._furu_hash)
        step_dir = Path(str(step.furu_dir))

        async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
            app.push_screen(DetailScreen(*ref))
            await settle(app, pilot)
            await pilot.press("x")
            await settle(app, pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            assert "being computed" in app.last_message
            assert "cannot be deleted" in text_of(app, "#message")
            await pilot.press("i")
            await settle(app, pilot)
            assert "cannot be invalidated" in app.last_message
            assert step_dir.exists()  # untouched, still running
            assert app.data.running(*ref)
            # its log, followed while it runs, until it ends
            await pilot.press("l")
            await settle(app, pilot)
            assert isinstance(app.screen, LogScreen)
            assert "following (running)" in text_of(app, "#message")
            assert any("step 0 loss" in line for line in app.screen.query_one(Log).lines)
            release.write_text("go")
            for _ in range(600):  # the screen polls the log every LogScreen.POLL_SEC
                if "finished" in text_of(app, "#message"):
                    break
                await asyncio.sleep(0.05)
            assert "finished" in text_of(app, "#message")

        run(fresh_store, "cache-tui-running", body)


def _help_rows(text: str) -> dict[str, set[str]]:
    sections: dict[str, set[str]] = {}
    current = ""
    for line in text.splitlines()[1:]:
        if line and not line.startswith(" "):
            current = line.strip()
            sections[current] = set()
        elif line.strip():
            sections[current].add(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0])
    return sections


def _doc_rows() -> dict[str, set[str]]:
    sections: dict[str, set[str]] = {}
    current = ""
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            current = line[4:].strip()
            sections[current] = set()
        elif current and line.startswith("| `"):
            sections[current].add(line.split("|")[1].strip().replace("`", ""))
    return sections


def test_help_lists_every_key_as_the_docs_do(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = _help_rows(text_of(app, "#help"))
        assert shown == _doc_rows()
        assert "/" in shown["Experiment list"]
        assert "?" in shown["Experiment list"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ListScreen)

    run(built_store, "cache-tui-help", body)


def test_quit_returns_zero(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        await pilot.press("q")

    async def go() -> int | None:
        app = make_app(built_store, "cache-tui-quit")
        async with app.run_test() as pilot:
            await settle(app, pilot)
            await pilot.press("q")
        return app.return_value

    assert asyncio.run(go()) == 0


def test_main_refuses_a_missing_store_and_a_bad_filter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], built_store: BuiltStore
) -> None:
    assert main(["--root", str(tmp_path / "nowhere")]) == 1
    assert "no store at" in capsys.readouterr().err
    assert main(["--root", str(built_store.root), "--filter", "status ="]) == 2
    assert "--filter" in capsys.readouterr().err
    assert main(["--bogus"]) == 2


def test_the_list_pages_through_the_index(built_store: BuiltStore) -> None:
    """The table holds one page; moving past its last row fetches the next one, G the last."""

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        app.data.page_size = 5
        await pilot.press("g")
        await settle(app, pilot)
        first = listed(app)
        assert len(first) == 5
        total = the_list(app).page_.total  # type: ignore[union-attr]
        for _ in range(5):
            await pilot.press("j")
            await settle(app, pilot)
        second = listed(app)
        assert len(second) == 5
        assert not set(first) & set(second)
        assert the_list(app).query_one(Table).cursor_row == 0
        assert "6-10 of" in str(the_list(app).query_one("#status", Static).content)
        await pilot.press("k")
        await settle(app, pilot)
        assert listed(app) == first
        assert the_list(app).query_one(Table).cursor_row == 4
        await pilot.press("G")
        await settle(app, pilot)
        last = listed(app)
        assert len(last) == total - (total - 1) // 5 * 5
        assert the_list(app).query_one(Table).cursor_row == len(last) - 1
        seen = set(first) | set(second) | set(last)
        assert len(seen) == len(first) + len(second) + len(last)

    run(built_store, "cache-tui-pages", body)


def test_escape_closes_the_filter_input_and_q_types_into_it(built_store: BuiltStore) -> None:
    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        before = listed(app)
        await pilot.press("slash")
        await pilot.press(*"name = q")
        box = app.screen.query_one("#filter", Input)
        assert box.value == "name = q"
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.is_running
        assert isinstance(app.screen, ListScreen)
        assert not box.display
        assert listed(app) == before

    run(built_store, "cache-tui-escape", body)


def test_a_first_filter_holds_while_the_index_is_built(built_store: BuiltStore) -> None:
    """`furu tui --filter ...` on a store never indexed: the rows once it is built match it."""

    async def body(app: FuruTui, pilot: Pilot[Any]) -> None:
        assert listed(app) == ["/".join(built_store.ref("failed"))]
        status = str(the_list(app).query_one("#status", Static).content)
        assert "1-1 of 1" in status
        assert "filter: status = failed" in status
        assert not the_list(app).query_one("#filter", Input).display

    run(built_store, "cache-tui-first-filter", body, initial_filter="status = failed")
