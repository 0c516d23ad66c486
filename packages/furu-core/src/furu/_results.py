"""A step's scalar results, read from its files, for tables, filters and comparisons.

Results are what people sort by: an accuracy, a loss, a BLEU score. furu reads them from
files a step writes anyway, so no user code runs to show them:

```
.furu/results.json          what the step's `_results()` returned (written by furu)
results.json                a flat JSON object the step wrote itself
metrics.json, eval.json     the same, under the names people use
results.jsonl, metrics.jsonl, eval.jsonl   the last line (a training log's final row)
```

Every source found is read, in that order; a name found twice keeps its first value. A nested
object is flattened with dots (`{"val": {"acc": 0.9}}` gives `val.acc`); lists and other
values are skipped. Only numbers, strings (clipped), booleans and null are kept, at most
`MAX_RESULTS` per step, so a results file can never blow up a listing.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from furu._errors import FuruConfigError, FuruStoreError
from furu._store import FURU_DIR, _open_regular, read_regular_file, write_json_atomic

RESULTS_FILE = "results.json"
"""`.furu/results.json`: what a step's `_results()` returned."""
JSON_SOURCES = ("results.json", "metrics.json", "eval.json")
JSONL_SOURCES = ("results.jsonl", "metrics.jsonl", "eval.jsonl")
MAX_RESULTS = 200
MAX_NAME = 100
MAX_TEXT = 200
MAX_FILE_BYTES = 1 << 20
"""A JSON source larger than this is not read (results are a few numbers, not a dataset)."""
TAIL_BYTES = 64 << 10
"""How much of the end of a JSONL source is read to find its last line."""
MAX_DEPTH = 4

Scalar = float | int | str | bool | None


def read_results(step_path: Path) -> tuple[dict[str, Scalar], list[str]]:
    """`(results, problems)` of the step directory `step_path`.

    Never raises for what a file holds: a damaged, huge or non-UTF-8 source is skipped and
    described in `problems` (a FIFO or symlink planted there is never opened).
    """
    results: dict[str, Scalar] = {}
    problems: list[str] = []
    try:  # one listing instead of six failed opens: indexing 100,000 steps reads this
        present = set(os.listdir(step_path))
    except OSError:
        present = set()
    sources = [(step_path / FURU_DIR / RESULTS_FILE, False)]
    sources += [(step_path / name, False) for name in JSON_SOURCES if name in present]
    sources += [(step_path / name, True) for name in JSONL_SOURCES if name in present]
    for path, lines in sources:
        try:
            data = _last_line(path) if lines else _whole(path)
        except (FuruStoreError, OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{_shown(path, step_path)} was not read as results: {exc}")
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                f"{_shown(path, step_path)} holds {type(data).__name__}, not a JSON object of "
                "named results"
            )
            continue
        _flatten(data, "", results, 0)
        if len(results) >= MAX_RESULTS:
            break
    return results, problems


def clean_results(values: Mapping[str, Any], *, where: str) -> dict[str, Scalar]:
    """`values` as stored results: flattened scalars, or an error naming what is not one.

    Raises:
        FuruConfigError: a name is not a non-empty string, or there are too many.
    """
    if not isinstance(values, Mapping):
        raise FuruConfigError(
            f"{where} must return a mapping of result names to numbers or strings, not "
            f"{type(values).__name__}",
        )
    for name in values:
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise FuruConfigError(
                f"{where} returned the result name {name!r}: names are non-empty strings of at "
                f"most {MAX_NAME} characters"
            )
    out: dict[str, Scalar] = {}
    _flatten(values, "", out, 0)
    if len(out) > MAX_RESULTS:
        raise FuruConfigError(
            f"{where} returned {len(out)} results; at most {MAX_RESULTS} are kept. Return the "
            "summary people sort by, and keep the rest in a file of the step."
        )
    return out


def write_results(meta_dir: Path, results: Mapping[str, Scalar]) -> None:
    """Write `.furu/results.json` atomically."""
    write_json_atomic(meta_dir / RESULTS_FILE, dict(results))


def _whole(path: Path) -> Any:
    raw = read_regular_file(path, what="a results file", max_bytes=MAX_FILE_BYTES)
    return None if raw is None else json.loads(raw.decode("utf-8"))


def _last_line(path: Path) -> Any:
    """The last complete, non-empty line of a JSONL file (a line being appended is skipped)."""
    try:
        fd, info = _open_regular(path, os.O_RDONLY, "a results file")
    except FileNotFoundError:
        return None
    try:
        start = max(0, info.st_size - TAIL_BYTES)
        data = os.pread(fd, info.st_size - start, start)
    finally:
        os.close(fd)
    end = data.rfind(b"\n")
    if end < 0:
        return None
    for line in reversed(data[:end].split(b"\n")):
        if line.strip():
            return json.loads(line.decode("utf-8"))
    return None


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Scalar], depth: int) -> None:
    for key, value in data.items():
        if len(out) >= MAX_RESULTS:
            return
        if not isinstance(key, str) or not key or len(key) > MAX_NAME:
            continue
        name = f"{prefix}{key}"
        if name in out:
            continue
        if isinstance(value, Mapping):
            if depth < MAX_DEPTH:
                _flatten(value, name + ".", out, depth + 1)
        elif isinstance(value, bool) or value is None:
            out[name] = value
        elif isinstance(value, int | float):
            number = float(value) if isinstance(value, float) else value
            if isinstance(number, float) and not math.isfinite(number):
                out[name] = str(number)  # NaN and inf sort and filter as text
            else:
                out[name] = number
        elif isinstance(value, str):
            out[name] = value[:MAX_TEXT]
        else:
            # numpy scalars and the like: kept when they are plain numbers
            item = getattr(value, "item", None)
            if callable(item):
                try:
                    plain = item()
                except Exception:
                    continue
                if isinstance(plain, int | float | bool | str):
                    _flatten({key: plain}, prefix, out, depth)


def _shown(path: Path, step_path: Path) -> str:
    try:
        return str(path.relative_to(step_path))
    except ValueError:
        return str(path)
