"""The TUI: the experiment list, an experiment's detail, its log, its neighbours, the class DAG.

Every screen reads through `StoreData` (the server's index, filter compiler and actions). The
list holds one page of rows (`StoreData.page_size`, 100) and fetches the next page as the cursor leaves this
one, so 100,000 experiments cost what 100 do. Queries run in worker threads; the index is
refreshed on a thread of its own (a build the first time, then what the store's journal says
changed) every `refresh_interval` seconds, and whatever is on screen is read again when it
changed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Log, Static
from textual.worker import get_current_worker

from furu_server._errors import ServerError
from furu_server._sorting import Order
from furu_server.index._database import IndexPathError
from furu_server.tui._data import (
    SORTS,
    FilterError,
    Page,
    Query,
    Row,
    StoreData,
    compile_text,
)
from furu_server.tui._dialogs import (
    CONFIRM_KEYS,
    DIALOG_CSS,
    INPUT_KEYS,
    ConfirmScreen,
    HelpScreen,
    InputScreen,
    help_text,
)
from furu_server.tui._render import dag_text, detail_renderable, short_time, status_text

if TYPE_CHECKING:
    from furu_server._models import Related

LISTED = 20
"""Experiments a confirmation names one by one (the rest are counted)."""


class Table(DataTable[Any], inherit_bindings=False):
    """A row-cursor table without keys of its own: the screen's keys drive it (and page it)."""

    BINDINGS: ClassVar[list[BindingType]] = []


def keys_of(bindings: list[BindingType]) -> list[tuple[str, str]]:
    """`(keys, description)` of each binding, as the help and docs/tui.md show them."""
    found = []
    for b in bindings:
        assert isinstance(b, Binding)
        found.append((b.key_display or b.key.replace(",", ", "), b.description))
    return found


ACTION_BINDINGS: list[BindingType] = [
    Binding("i", "invalidate", "invalidate (asks; with dependents: a)"),
    Binding("x", "delete", "delete (asks)"),
    Binding("t", "tags", "edit tags"),
    Binding("n", "name", "edit name"),
    Binding("D", "dag", "class DAG"),
    Binding("question_mark", "help", "help: every key", key_display="?"),
]


class TuiScreen(Screen[None]):
    """A screen of `FuruTui` (`tui`: the app, typed)."""

    @property
    def tui(self) -> FuruTui:
        return cast("FuruTui", self.app)


class ExperimentScreen(TuiScreen):
    """The actions every experiment screen offers on its current experiment."""

    def current(self) -> tuple[str, str] | None:
        raise NotImplementedError

    def changed(self) -> None:
        """Read what is shown again (after an action or an index refresh)."""

    def _done(self, message: str, error: bool = False) -> None:
        self.tui.say(message, error=error)
        self.tui.index_changed()

    def _changeable(self, done: str) -> tuple[tuple[str, str], str, list[str]] | None:
        """The experiment under the cursor, its `namespace/hash` and its dependents; None
        (and why, on the status line) when there is none or it is being computed."""
        target = self.current()
        if target is None:
            return None
        ref = f"{target[0]}/{target[1]}"
        if self.tui.data.running(*target):
            self.tui.say(
                f"{ref} is being computed (or queued), so it cannot be {done} now. Wait "
                "until it finishes, or stop the process computing it first.",
                error=True,
            )
            return None
        return target, ref, self.tui.data.dependents(*target)

    def action_invalidate(self) -> None:
        found = self._changeable("invalidated")
        if found is None:
            return
        target, ref, hit = found
        data = self.tui.data
        lines = [f"invalidate {ref} (its result is removed; the next load recomputes it)"]
        if hit:
            lines += _hit_lines(hit, f"{len(hit)} dependent(s), invalidated too with [a]:")
        choices = {"y": ("invalidate this one", "one")}
        if hit:
            choices["a"] = (f"with its {len(hit)} dependent(s)", "all")

        def answer(choice: str | None) -> None:
            if choice is None:
                return
            try:
                from furu_server._actions import invalidate

                done = invalidate(data.index, target[0], target[1], choice == "all")
            except ServerError as exc:
                self._done(exc.message, error=True)
                return
            message = f"invalidated {len(done.invalidated)}: {', '.join(done.invalidated)}"
            if done.skipped:
                message += f"; skipped (being computed): {', '.join(done.skipped)}"
            self._done(message)

        self.tui.push_screen(ConfirmScreen(f"Invalidate {ref}?", lines, choices), answer)

    def action_delete(self) -> None:
        found = self._changeable("deleted")
        if found is None:
            return
        target, ref, hit = found
        data = self.tui.data
        lines = [f"delete {ref} and its directory (its files and its raw files)"]
        if hit:
            heading = f"{len(hit)} experiment(s) depend on it (they stay, and recompute it):"
            lines += _hit_lines(hit, heading)

        def answer(choice: str | None) -> None:
            if choice is None:
                return
            try:
                from furu_server._actions import delete

                delete(data.index, *target)
            except ServerError as exc:
                self._done(exc.message, error=True)
                return
            self._done(f"deleted {ref}")
            self.deleted()

        choices = {"y": ("delete it", "yes")}
        self.tui.push_screen(ConfirmScreen(f"Delete {ref}?", lines, choices), answer)

    def deleted(self) -> None:
        """The current experiment is gone (a detail screen closes)."""

    def _labels(self, what: str) -> None:
        target = self.current()
        if target is None:
            return
        data = self.tui.data
        try:
            labels = data.detail(*target)
        except ServerError as exc:
            self.tui.say(exc.message, error=True)
            return
        ref = f"{target[0]}/{target[1]}"
        if what == "tags":
            title, value = f"Tags of {ref} (comma-separated)", ", ".join(labels.tags)
        else:
            title, value = f"Name of {ref} (empty: no name)", labels.name or ""

        def answer(text: str | None) -> None:
            if text is None:
                return
            try:
                if what == "tags":
                    tags = [t.strip() for t in text.split(",") if t.strip()]
                    from furu_server._actions import set_labels

                    written = set_labels(data.index, *target, tags=tags)
                    message = f"tags of {ref}: {', '.join(written.tags) or '(none)'}"
                else:
                    from furu_server._actions import set_labels

                    written = set_labels(data.index, *target, name=text, set_name=True)
                    message = f"name of {ref}: {written.name or '(none)'}"
            except ServerError as exc:
                self._done(exc.message, error=True)
                return
            self._done(message)

        hint = "enter: save   escape: cancel"
        self.tui.push_screen(InputScreen(title, value, hint), answer)

    def action_tags(self) -> None:
        self._labels("tags")

    def action_name(self) -> None:
        self._labels("name")

    def action_dag(self) -> None:
        self.tui.push_screen(TextScreen("Class DAG", dag_text(self.tui.data.dag())))

    def action_help(self) -> None:
        self.tui.push_screen(HelpScreen(help_text(help_sections())))


# ---------------------------------------------------------------- the list


class ListScreen(ExperimentScreen):
    """The experiments, one page at a time, filtered with the dashboard's filter language."""

    AUTO_FOCUS = "#experiments"  # not the (hidden) filter input

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "down", "next row (the next page after the last)"),
        Binding("k,up", "up", "previous row"),
        Binding("pagedown,ctrl+f", "next_page", "next page"),
        Binding("pageup,ctrl+b", "previous_page", "previous page"),
        Binding("g,home", "first", "first experiment"),
        Binding("G,end", "last", "last experiment"),
        Binding("enter", "open", "open the experiment's detail"),
        Binding("slash", "filter", "filter (the dashboard's filter language)", key_display="/"),
        Binding("s", "sort", "sort by the next column"),
        Binding("S", "reverse", "reverse the order"),
        Binding("R", "refresh", "refresh the index now"),
        *ACTION_BINDINGS,
        Binding("q,escape", "quit", "quit"),
    ]
    FILTER_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("enter", "apply the filter (an error shows under it; the rows stay)"),
        ("escape", "close the filter input, keeping the rows shown"),
    ]

    def __init__(self, initial_filter: str = "") -> None:
        super().__init__()
        self.query_ = Query()
        """What the list shows (or is fetching): every reload reads this one."""
        self.good_ = Query()
        """The last query that ran (a filter that fails at run time falls back to it)."""
        self.page_: Page | None = None
        self.shown_: Query | None = None
        self.pending_filter = initial_filter

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Input(placeholder="filter, e.g. status = failed and config.lr < 0.01", id="filter")
        yield Static("", id="filter-error", markup=False)
        yield Table(id="experiments", cursor_type="row", zebra_stripes=True)
        yield Static("", id="status", markup=False)
        yield Static("", id="message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(Table)
        for label in ("status", "class", "hash", "name / tags", "updated", "config"):
            table.add_column(label, key=label)
        self.query_one("#filter", Input).display = False
        self.query_one("#filter-error", Static).display = False
        self.query_one("#title", Static).update(
            Text.assemble(("furu tui", "bold"), f"  {self.tui.data.settings.resolved_root}")
        )
        table.focus()
        text = self.pending_filter
        if text:
            self.query_one("#filter", Input).value = text
            self.apply_filter(text)
        else:
            self.load(self.query_, 0, "top")

    # ------------------------------------------------------------ loading

    def apply_filter(self, text: str) -> None:
        """Show the rows of a filter's text; one that does not parse shows its error under
        the input (and the rows stay)."""
        try:
            where, params = compile_text(text)
        except FilterError as exc:
            self.filter_failed(exc.message)
            return
        self.good_ = self.query_
        self.query_ = Query(text, self.query_.sort, self.query_.order, where, params)
        self.load(self.query_, 0, "top", applied=True)

    @work(thread=True, exclusive=True, group="page")
    def load(self, query: Query, offset: int, cursor: int | str, applied: bool = False) -> None:
        """Fetch a page of `query` and show it (the latest call wins: earlier ones are
        dropped). `cursor`: a row index, "top", "bottom", or the `namespace/hash` to keep it
        on; `applied`: the first page of a filter just typed."""
        try:
            page = self.tui.data.page(query, offset)
        except FilterError as exc:  # it ran too long
            if not get_current_worker().is_cancelled:
                self.tui.call_from_thread(self.filter_failed, exc.message, query)
            return
        except IndexPathError as exc:
            self.tui.call_from_thread(self.tui.say, str(exc), True)
            return
        if not get_current_worker().is_cancelled:
            self.tui.call_from_thread(self.show, query, page, cursor, applied)

    def filter_failed(self, message: str, query: Query | None = None) -> None:
        """Show why a filter failed; a `query` that failed at run time is dropped (the list
        goes back to the last one that ran)."""
        if query is not None and query is self.query_:
            self.query_ = self.good_
        error = self.query_one("#filter-error", Static)
        error.update(Text(message, style="bold red"))
        error.display = True
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()
        self.update_status()

    def show(self, query: Query, page: Page, cursor: int | str, applied: bool = False) -> None:
        """Put `page` in the table (its rows replace the last page's) and place the cursor
        (`applied`: the page of a filter just typed)."""
        if self.shown_ is None or self.shown_.text != query.text:
            applied = True  # (also when a reload of the new filter overtook its first load)
        self.shown_ = query
        self.page_ = page
        table = self.query_one(Table)
        table.clear()
        for row in page.rows:
            table.add_row(*_cells(row), key=row.ref)
        if isinstance(cursor, str) and cursor not in ("top", "bottom"):
            keys = [r.ref for r in page.rows]
            cursor = keys.index(cursor) if cursor in keys else 0
        target = {"top": 0, "bottom": len(page.rows) - 1}.get(str(cursor), cursor)
        if page.rows:
            assert isinstance(target, int)
            table.move_cursor(row=max(0, min(target, len(page.rows) - 1)))
        if applied:  # a filter that ran: close its input (and any error of an earlier one)
            self.query_one("#filter-error", Static).display = False
            self.query_one("#filter", Input).display = False
            table.focus()
        self.update_status()
        if self.tui.on_rows_shown is not None:
            self.tui.call_after_refresh(self.tui.on_rows_shown)
        self.tui.first_rows_shown()

    def update_status(self) -> None:
        page = self.page_
        parts = []
        if page is not None:
            if page.total:
                last = page.offset + len(page.rows)
                parts.append(f"{page.offset + 1:,}-{last:,} of {page.total:,}")
            else:
                parts.append("no experiments match" if self.query_.text else "no experiments")
        arrow = "↓" if self.query_.order is Order.desc else "↑"
        parts.append(f"sort: {self.query_.sort.value} {arrow}")
        if self.query_.text:
            parts.append(f"filter: {self.query_.text}")
        if not self.tui.data.built:
            parts.append("building the index (first start; later starts are instant)…")
        elif self.tui.refreshing:
            parts.append("refreshing…")
        parts.append("? help")
        self.query_one("#status", Static).update("  │  ".join(parts))

    def changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        """The same page again (after a refresh or an action), the cursor on the same row."""
        row = self.selected()
        offset = self.page_.offset if self.page_ is not None else 0
        cursor: int | str = row.ref if row is not None else 0
        self.load(self.query_, offset, cursor)

    def selected(self) -> Row | None:
        page = self.page_
        table = self.query_one(Table)
        if page is None or not page.rows:
            return None
        return page.rows[min(max(table.cursor_row, 0), len(page.rows) - 1)]

    def current(self) -> tuple[str, str] | None:
        row = self.selected()
        return (row.namespace, row.hash) if row is not None else None

    # ------------------------------------------------------------ keys

    def action_down(self) -> None:
        table, page = self.query_one(Table), self.page_
        if page is None:
            return
        if table.cursor_row >= len(page.rows) - 1:
            if page.offset + len(page.rows) < page.total:
                self.load(self.query_, page.offset + self.tui.data.page_size, "top")
            return
        table.move_cursor(row=table.cursor_row + 1)

    def action_up(self) -> None:
        table, page = self.query_one(Table), self.page_
        if page is None:
            return
        if table.cursor_row <= 0:
            if page.offset > 0:
                self.load(self.query_, page.offset - self.tui.data.page_size, "bottom")
            return
        table.move_cursor(row=table.cursor_row - 1)

    def action_next_page(self) -> None:
        page = self.page_
        if page is not None and page.offset + len(page.rows) < page.total:
            self.load(self.query_, page.offset + self.tui.data.page_size, "top")
        elif page is not None:
            self.query_one(Table).move_cursor(row=len(page.rows) - 1)

    def action_previous_page(self) -> None:
        page = self.page_
        if page is not None and page.offset > 0:
            self.load(self.query_, page.offset - self.tui.data.page_size, "top")
        else:
            self.query_one(Table).move_cursor(row=0)

    def action_first(self) -> None:
        self.load(self.query_, 0, "top")

    def action_last(self) -> None:
        total = self.page_.total if self.page_ is not None else 0
        self.load(self.query_, max(0, total - 1), "bottom")

    def action_open(self) -> None:
        row = self.selected()
        if row is not None:
            self.tui.push_screen(DetailScreen(row.namespace, row.hash))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.query_.text
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value.strip())

    def on_key(self, event: Any) -> None:
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            event.prevent_default()
            box.display = False
            self.query_one("#filter-error", Static).display = False
            self.query_one(Table).focus()

    def action_sort(self) -> None:
        sort = SORTS[(SORTS.index(self.query_.sort) + 1) % len(SORTS)]
        self.query_ = Query(self.query_.text, sort, self.query_.order, *self._compiled())
        self.load(self.query_, 0, "top")

    def action_reverse(self) -> None:
        order = Order.asc if self.query_.order is Order.desc else Order.desc
        self.query_ = Query(self.query_.text, self.query_.sort, order, *self._compiled())
        self.load(self.query_, 0, "top")

    def _compiled(self) -> tuple[str, list[Any]]:
        return self.query_.where, self.query_.params

    def action_refresh(self) -> None:
        self.tui.start_refresh()

    def action_quit(self) -> None:
        self.tui.exit(0)


def _cells(row: Row) -> tuple[Any, ...]:
    label = row.name or ""
    if row.tags:
        label = f"{label} [{', '.join(row.tags)}]".strip()
    return (
        status_text(row.status),
        row.class_name,
        row.hash[:12],
        label,
        short_time(row.updated_at),
        row.config,
    )


# ---------------------------------------------------------------- one experiment


class DetailScreen(ExperimentScreen):
    """One experiment read from its files: config tree, state, error, metadata, tags."""

    AUTO_FOCUS = "#detail-scroll"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll(1)", "scroll down"),
        Binding("k,up", "scroll(-1)", "scroll up"),
        Binding("g,home", "top", "top"),
        Binding("G,end", "bottom", "bottom"),
        Binding("l", "log", "live log tail"),
        Binding("d", "dependencies", "dependencies (Enter opens one)"),
        Binding("r", "dependents", "dependents (Enter opens one)"),
        *ACTION_BINDINGS,
        Binding("q,escape", "back", "back"),
    ]

    def __init__(self, namespace: str, digest: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.digest = digest

    def compose(self) -> ComposeResult:
        yield Static("", id="title", markup=False)
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="detail")
        yield Static("", id="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#title", Static).update(
            f"{self.namespace}/{self.digest}   l log  d deps  r dependents  ? help  q back"
        )
        self.changed()
        self.query_one("#detail-scroll").focus()

    def current(self) -> tuple[str, str]:
        return self.namespace, self.digest

    def changed(self) -> None:
        try:
            found = self.tui.data.detail(self.namespace, self.digest)
        except ServerError as exc:
            self.query_one("#detail", Static).update(Text(exc.message, style="bold red"))
            return
        self.query_one("#detail", Static).update(detail_renderable(found))

    def deleted(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#detail-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_top(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).scroll_end(animate=False)

    def action_log(self) -> None:
        self.tui.push_screen(LogScreen(self.namespace, self.digest))

    def action_dependencies(self) -> None:
        found = self.tui.data.relationships(self.namespace, self.digest)
        self.tui.push_screen(RelatedScreen("dependencies", self.current(), found.parents))

    def action_dependents(self) -> None:
        found = self.tui.data.relationships(self.namespace, self.digest)
        self.tui.push_screen(RelatedScreen("dependents", self.current(), found.children))

    def action_back(self) -> None:
        self.dismiss(None)


class RelatedScreen(TuiScreen):
    """An experiment's dependencies or dependents: Enter opens one (and so on, transitively)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "down", "next"),
        Binding("k,up", "up", "previous"),
        Binding("enter", "open", "open its detail"),
        Binding("question_mark", "help", "help: every key", key_display="?"),
        Binding("q,escape", "back", "back"),
    ]

    def __init__(self, kind: str, of: tuple[str, str], items: list[Related]) -> None:
        super().__init__()
        self.kind = kind
        self.of = of
        self.items = items

    def compose(self) -> ComposeResult:
        yield Static(f"{self.kind} of {self.of[0]}/{self.of[1]}", id="title", markup=False)
        yield Table(id="related", cursor_type="row")
        yield Static("", id="message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(Table)
        table.add_columns("field", "status", "class", "hash")
        for item in self.items:
            status = item.attempt_status.value if item.attempt_status else None
            shown = status if status in ("running", "queued") else item.result_status.value
            table.add_row(
                item.field,
                status_text(shown if item.indexed else "absent"),
                item.class_name,
                item.hash,
                key=f"{item.namespace}/{item.hash}",
            )
        if not self.items:
            self.query_one("#message", Static).update(f"no {self.kind}")
        table.focus()

    def action_down(self) -> None:
        table = self.query_one(Table)
        table.move_cursor(row=min(table.cursor_row + 1, max(0, len(self.items) - 1)))

    def action_up(self) -> None:
        table = self.query_one(Table)
        table.move_cursor(row=max(table.cursor_row - 1, 0))

    def action_open(self) -> None:
        if not self.items:
            return
        item = self.items[self.query_one(Table).cursor_row]
        if not item.indexed:
            self.tui.say(f"{item.namespace}/{item.hash} is not in the store", error=True)
            return
        self.tui.push_screen(DetailScreen(item.namespace, item.hash))

    def action_help(self) -> None:
        self.tui.push_screen(HelpScreen(help_text(help_sections())))

    def action_back(self) -> None:
        self.dismiss(None)


class LogScreen(TuiScreen):
    """The tail of an experiment's `furu.log`, followed as it grows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll(1)", "scroll down"),
        Binding("k,up", "scroll(-1)", "scroll up"),
        Binding("g,home", "top", "top"),
        Binding("G,end", "bottom", "bottom (and follow)"),
        Binding("question_mark", "help", "help: every key", key_display="?"),
        Binding("q,escape", "back", "back"),
    ]
    POLL_SEC = 0.5

    def __init__(self, namespace: str, digest: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.digest = digest
        self.log_offset = 0

    def compose(self) -> ComposeResult:
        yield Static(f"log of {self.namespace}/{self.digest}", id="title", markup=False)
        yield Log(id="log", auto_scroll=True)
        yield Static("", id="message", markup=False)

    def on_mount(self) -> None:
        self.log_offset = self.tui.data.log_start(self.namespace, self.digest)
        self.poll()
        self.set_interval(self.POLL_SEC, self.poll)
        self.query_one(Log).focus()

    def poll(self) -> None:
        try:
            chunk = self.tui.data.log(self.namespace, self.digest, self.log_offset)
        except ServerError as exc:
            self.query_one("#message", Static).update(exc.message)
            return
        if chunk.text:
            self.query_one(Log).write(chunk.text)
        self.log_offset = chunk.next_offset
        state = "following (running)" if chunk.running else "finished"
        self.query_one("#message", Static).update(f"{chunk.size:,} bytes, {state}")

    def action_scroll(self, lines: int) -> None:
        self.query_one(Log).scroll_relative(y=lines, animate=False)

    def action_top(self) -> None:
        self.query_one(Log).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(Log).scroll_end(animate=False)

    def action_help(self) -> None:
        self.tui.push_screen(HelpScreen(help_text(help_sections())))

    def action_back(self) -> None:
        self.dismiss(None)


class TextScreen(TuiScreen):
    """A page of text (the class DAG)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll(1)", "scroll down"),
        Binding("k,up", "scroll(-1)", "scroll up"),
        Binding("question_mark", "help", "help: every key", key_display="?"),
        Binding("q,escape", "back", "back"),
    ]

    def __init__(self, title: str, text: Text) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="title", markup=False)
        with VerticalScroll(id="text-scroll"):
            yield Static(self.text, id="text")

    def on_mount(self) -> None:
        self.query_one("#text-scroll").focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#text-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_help(self) -> None:
        self.tui.push_screen(HelpScreen(help_text(help_sections())))

    def action_back(self) -> None:
        self.dismiss(None)


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every screen's keys, as `?` shows them and docs/tui.md lists them."""
    return [
        ("Experiment list", keys_of(ListScreen.BINDINGS)),
        ("Filter input", ListScreen.FILTER_KEYS),
        ("Experiment detail", keys_of(DetailScreen.BINDINGS)),
        ("Dependencies / dependents", keys_of(RelatedScreen.BINDINGS)),
        ("Log", keys_of(LogScreen.BINDINGS)),
        ("Class DAG", keys_of(TextScreen.BINDINGS)),
        ("Confirmation", list(CONFIRM_KEYS)),
        ("Tags / name input", list(INPUT_KEYS)),
    ]


# ---------------------------------------------------------------- the app


class FuruTui(App[int]):
    """`furu tui`: a keyboard-first view of one store, read from the server's index."""

    CSS = (
        DIALOG_CSS
        + """
    #title { background: $primary; color: $text; padding: 0 1; height: 1; }
    #status { background: $panel; height: 1; padding: 0 1; }
    #message { height: auto; max-height: 3; padding: 0 1; }
    #filter-error { padding: 0 1; height: auto; }
    #experiments, #related { height: 1fr; }
    #log { height: 1fr; }
    """
    )
    TITLE = "furu tui"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self, data: StoreData, *, initial_filter: str = "", refresh_interval: float = 2.0
    ) -> None:
        super().__init__()
        self.data = data
        self.initial_filter = initial_filter
        self.refresh_interval = refresh_interval
        self.refreshing = False
        self._refresher: threading.Thread | None = None
        self._first_rows = threading.Event()
        self.on_rows_shown: Callable[[], None] | None = None
        """Called after each page is painted (the benchmark's mark)."""
        self.refresh_error: str | None = None

    def on_mount(self) -> None:
        self.push_screen(ListScreen(self.initial_filter))
        if not self.data.built:
            self.start_refresh()  # nothing to show until it is built: start at once
        if self.refresh_interval > 0:
            self.set_interval(self.refresh_interval, self.start_refresh)

    def first_rows_shown(self) -> None:
        if self._first_rows.is_set():
            return
        self._first_rows.set()
        if self.data.built:
            self.start_refresh()  # catch up with the store now that the rows are shown

    # ------------------------------------------------------------ refreshing

    def start_refresh(self) -> None:
        """Refresh the index on a thread (one at a time); what is shown is read again when
        anything changed. A daemon thread: quitting never waits for a long first build."""
        if self._refresher is not None and self._refresher.is_alive():
            return
        self.refreshing = True
        self._refresher = threading.Thread(target=self._refresh, name="furu-tui-index", daemon=True)
        self._refresher.start()

    def _refresh(self) -> None:
        before = self.data.index.generation
        error = None
        try:
            self.data.refresh()
        except IndexPathError as exc:
            error = str(exc)
        except Exception as exc:  # keep showing what is indexed; say why the refresh failed
            error = f"refreshing the index failed ({type(exc).__name__}: {exc})"
        self.refreshing = False
        changed = self.data.index.generation != before
        with contextlib.suppress(RuntimeError):  # the app has exited meanwhile
            self.call_from_thread(self._refreshed, changed, error)

    def _refreshed(self, changed: bool, error: str | None) -> None:
        if error is not None and error != self.refresh_error:
            self.say(error, error=True)
        self.refresh_error = error
        if changed:
            self.index_changed()
        else:
            for screen in self.screen_stack:
                if isinstance(screen, ListScreen) and screen.is_mounted:
                    screen.update_status()

    @property
    def busy(self) -> bool:
        """Whether a refresh or a query is still running (tests wait for neither)."""
        alive = self._refresher is not None and self._refresher.is_alive()
        return alive or any(not w.is_finished for w in self.workers)

    def index_changed(self) -> None:
        """Read everything shown again (the screens below the top one too)."""
        for screen in self.screen_stack:
            if isinstance(screen, ExperimentScreen) and screen.is_mounted:
                screen.changed()

    def say(self, message: str, error: bool = False) -> None:
        """Show a message on the current screen's message line (an error in red)."""
        shown = Text(message, style="bold red" if error else "green")
        for screen in reversed(self.screen_stack):
            found = screen.query("#message")
            if found:
                found.first(Static).update(shown)
                break
        self.last_message = message

    last_message: str = ""

    def on_unmount(self) -> None:
        if not (self._refresher is not None and self._refresher.is_alive()):
            self.data.close()


__all__ = ["DetailScreen", "FuruTui", "ListScreen", "help_sections"]


def _hit_lines(hit: list[str], heading: str) -> list[str]:
    """A confirmation's list of the experiments an action hits (the first `LISTED`)."""
    lines = [f"\n{heading}", *(f"  {h}" for h in hit[:LISTED])]
    if len(hit) > LISTED:
        lines.append(f"  ... and {len(hit) - LISTED} more")
    return lines
