"""Regular expressions for filters: RE2, which runs in time linear in the text it searches.

Python's `re` backtracks: `^(a+)+b` over a long run of `a`s takes exponential time, holds the
GIL while it does, and cannot be interrupted. RE2 (google-re2) has no such blowup, so a filter's
`regex` costs at most a pass over each value it reads; the query deadline (`Index.deadline`)
bounds the rest. RE2's syntax is Python's without backreferences and lookaround.

`check_regex` validates a pattern where the filter is compiled (a bad one is the caller's error,
never a failure inside SQLite); `regexp` is the SQL function `regexp(pattern, value)` the
index registers on every connection.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2

MAX_REPEAT = 1000
"""RE2's largest repetition count (`a{1000}`)."""

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors are raised, not printed to stderr too
# A count RE2 cannot read as a number (`a{4294967296}`) would silently become literal text.
_REPEAT = re.compile(r"(?<!\\)(?:\\\\)*\{(\d+)(?:,(\d*))?\}")


class RegexError(ValueError):
    """A pattern RE2 cannot run; the message says why."""


def check_regex(pattern: str) -> None:
    """Raise `RegexError` (with RE2's reason) unless `pattern` compiles.

    Raises:
        RegexError: the pattern is not valid RE2 syntax or repeats more than `MAX_REPEAT` times.
    """
    _compiled(pattern)


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> Any:
    for match in _REPEAT.finditer(pattern):
        counts = [int(n) for n in match.groups() if n]
        if any(n > MAX_REPEAT for n in counts):
            raise RegexError(
                f"the repetition {match.group(0)[match.group(0).index('{') :]} is larger than "
                f"{MAX_REPEAT} (the most RE2 allows; for a literal brace write \\{{)"
            )
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(
            f"{reason} (filters use RE2 syntax: Python's, without backreferences or lookaround)"
        ) from None
    except (TypeError, ValueError) as exc:  # e.g. a lone surrogate cannot be encoded to UTF-8
        raise RegexError(str(exc)) from None


def regexp(pattern: str, value: object) -> bool:
    """SQLite's `regexp(pattern, value)`: whether `pattern` finds a match in the text `value`.

    Never raises (an exception inside SQLite would fail the whole query): a value that is not
    text, or a pattern that does not compile, does not match.
    """
    if not isinstance(value, str):
        return False
    try:
        return _compiled(pattern).search(value) is not None
    except RegexError:
        return False
    except UnicodeError:
        text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return _compiled(pattern).search(text) is not None
