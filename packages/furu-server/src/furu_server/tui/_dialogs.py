"""The TUI's modal screens: a confirmation that lists what an action hits, a one-line input,
and the help that lists every key."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

DIALOG_CSS = """
ConfirmScreen, InputScreen, HelpScreen { align: center middle; }
#dialog { width: 90%; max-width: 110; height: auto; max-height: 90%;
          border: thick $accent; background: $surface; padding: 1 2; }
#dialog-body { height: auto; max-height: 30; }
#choices { margin-top: 1; color: $text-muted; }
#help { height: auto; }
"""

CONFIRM_KEYS: tuple[tuple[str, str], ...] = (
    ("y", "confirm (the action this dialog names)"),
    ("a", "confirm with every dependent (invalidate only)"),
    ("n, escape", "cancel"),
)
INPUT_KEYS: tuple[tuple[str, str], ...] = (("enter", "save"), ("escape", "cancel"))


class ConfirmScreen(ModalScreen[str | None]):
    """Ask before changing the store: what will be hit, and one key per choice.

    `choices` maps a key to `(label, result)`; the dialog is dismissed with the result of the
    key pressed, or None on `n` / Escape.
    """

    def __init__(self, title: str, lines: list[str], choices: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield Static("\n".join(self.lines), id="dialog-lines", markup=False)
            shown = [f"[{key}] {label}" for key, (label, _) in self.choices.items()]
            yield Static("  ".join([*shown, "[n/Esc] cancel"]), id="choices", markup=False)

    def on_key(self, event: events.Key) -> None:
        if event.key in self.choices:
            event.stop()
            self.dismiss(self.choices[event.key][1])
        elif event.key in ("n", "escape", "q"):
            event.stop()
            self.dismiss(None)


class InputScreen(ModalScreen[str | None]):
    """One line to type (tags, a name): Enter saves it, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, value: str, hint: str) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Input(value=self.value, id="dialog-input")
            yield Static(self.hint, id="choices", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key of every screen (the same table as docs/tui.md)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "close", key_display="?")
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(self.text, id="help", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


def help_text(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """The help as plain lines: a title per screen, then `  keys    what they do`."""
    lines = ["furu tui: keys (q or Esc closes this help)", ""]
    for title, keys in sections:
        lines.append(title)
        lines += [f"  {k:<22}{what}" for k, what in keys]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
