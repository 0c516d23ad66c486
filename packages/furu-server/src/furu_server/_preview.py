"""Previews of the files an experiment wrote: pages of rows for tables, text, JSON, images.

| file | preview |
|---|---|
| `.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.parquet` | `table`: a page of rows, column names and types |
| `.json` | `table` when it is a list of objects, else `json` (the value) |
| images (`.png`, `.jpg`, `.gif`, `.webp`, `.svg`, ...) | `image`: its MIME type and the raw file's URL |
| anything that decodes as UTF-8 | `text` (the first 256 KiB) |
| anything else | `binary` |

Every preview reads a bounded amount, whatever the file holds (a 2 GB file without a newline,
a 100 MB line, JSON nested ten thousand levels deep): the limits below are documented in
docs/server.md ("Limits"), and a response that was cut says where in `truncations`.

Parquet needs pyarrow: install `furu-server[parquet]`.
"""

from __future__ import annotations

import csv
import json
import mimetypes
import os
import sys
from collections.abc import Callable, Iterator
from io import BufferedReader
from typing import Any

from furu_server._clip import Clipper
from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Column, Preview, Truncation
from furu_server._reading import Opened, open_inside

TEXT_BYTES = 262_144
"""A text preview shows the first 256 KiB."""
SCAN_BYTES = 64 * 1024 * 1024
"""A table preview reads at most 64 MiB of a file (to reach its page and count rows)."""
PAGE_BYTES = 2 * 1024 * 1024
"""A page of rows holds at most 2 MiB of the file's lines (at least one row)."""
LINE_BYTES = 1024 * 1024
"""A line (a CSV record, a JSON line) longer than 1 MiB is cut: its first 1 MiB is shown."""
CELL_CHARS = 10_000
"""A string cell keeps its first 10,000 characters."""
MAX_COLUMNS = 1_000
"""A table shows at most 1,000 columns."""
VALUE_ITEMS = 50_000
"""List elements and object keys shown per preview (in JSON values and cells)."""
JSON_BYTES = 4 * 1024 * 1024
"""A `.json` file is parsed up to 4 MiB; a larger one is previewed as text."""
JSON_DEPTH = 64
"""JSON nested deeper than 64 levels is cut there (and a value too deep to parse is text)."""
PARQUET_GROUP_BYTES = 256 * 1024 * 1024
"""A parquet row group larger than 256 MiB (uncompressed) is not previewed."""
_SNIFF = 8192
_IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".ico"}

# Records are bounded by LINE_BYTES before the csv module sees them; its own default field
# limit (128 KiB) would reject a long but bounded cell instead of cutting it.
csv.field_size_limit(max(csv.field_size_limit(), LINE_BYTES))


def column_type(values: list[Any]) -> str:
    """The JSON type of a column's values: integer, number, boolean, string, ... or mixed."""
    kinds = {_kind(v) for v in values if v is not None}
    if not kinds:
        return "null"
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Lines:
    """The lines of a file within a byte budget, each cut at `LINE_BYTES`.

    Yields `(line, full_size)`; `full_size` exceeds `len(line)` for a cut line, and is -1 when
    the budget ended inside it. `exhausted` says the budget ended before the file did.
    """

    def __init__(self, file: BufferedReader, budget: int) -> None:
        self.file = file
        self.left = budget
        self.exhausted = False
        self.consumed = 0
        self.number = 0

    def _read(self, limit: int) -> bytes:
        data = self.file.readline(min(limit, self.left))
        self.left -= len(data)
        self.consumed += len(data)
        if self.left <= 0 and not data.endswith(b"\n") and self.file.read(1):
            self.exhausted = True
        return data

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        while self.left > 0 and not self.exhausted:
            line = self._read(LINE_BYTES + 1)
            if not line:
                return
            self.number += 1
            if len(line) <= LINE_BYTES or line.endswith(b"\n"):
                yield line, len(line)
                continue
            full = len(line)
            while not self.exhausted and self.left > 0:  # skip the rest of the long line
                more = self._read(LINE_BYTES)
                full += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield line[:LINE_BYTES], -1 if self.exhausted else full
        if self.left <= 0 and not self.exhausted and self.file.read(1):
            self.exhausted = True


class _Page:
    """Rows of one page, kept within `PAGE_BYTES`, and the cuts made to fit them."""

    def __init__(self, offset: int, limit: int) -> None:
        self.offset = offset
        self.limit = limit
        self.kept = 0
        self.bytes = 0
        self.total = 0
        self.full = False
        self.clipper = Clipper(CELL_CHARS, VALUE_ITEMS, JSON_DEPTH)

    def wants(self, size: int) -> bool:
        """Count one row; True when it belongs on this page (and there is room for it)."""
        index = self.total
        self.total += 1
        if index < self.offset or self.full or self.kept >= self.limit:
            return False
        if self.kept and self.bytes + size > PAGE_BYTES:
            self.full = True
            return False
        self.bytes += size
        self.kept += 1
        return True

    def cut_line(self, number: int, full: int, kept: int) -> None:
        self.clipper.note(f"line {number}", "bytes", full if full >= 0 else kept, kept)


def _table(
    path: str,
    size: int,
    names: list[str],
    rows: list[list[Any]],
    total: int | None,
    offset: int,
    page: _Page,
) -> Preview:
    notes = page.clipper.report()
    if len(names) > MAX_COLUMNS:
        notes.append(Truncation(path="columns", unit="items", size=len(names), kept=MAX_COLUMNS))
        names = names[:MAX_COLUMNS]
        rows = [r[:MAX_COLUMNS] for r in rows]
    columns = [Column(name=n, type=column_type([r[i] for r in rows])) for i, n in enumerate(names)]
    more = total is None or offset + len(rows) < total
    return Preview(
        path=path,
        kind="table",
        mime=mimetypes.guess_type(path)[0] or "application/octet-stream",
        size=size,
        columns=columns,
        rows=rows,
        total_rows=total,
        offset=offset,
        truncated=more or bool(notes),
        truncations=notes,
    )


def _records_table(
    path: str, size: int, records: list[Any], total: int | None, offset: int, page: _Page
) -> Preview:
    names: dict[str, None] = {}
    for rec in records:
        if len(names) > MAX_COLUMNS:
            break
        names.update(dict.fromkeys(rec if isinstance(rec, dict) else ["value"]))
    rows = [
        [rec.get(n) for n in names]
        if isinstance(rec, dict)
        else [rec if n == "value" else None for n in names]
        for rec in records
    ]
    return _table(path, size, list(names), rows, total, offset, page)


def _csv_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return None if text == "" else text


class _RecordTooLong(Exception):
    pass


def _unscanned(page: _Page, lines: _Lines, size: int) -> int | None:
    """The total row count, or None when the read limit ended before the file did."""
    if not lines.exhausted:
        return page.total
    page.clipper.note("file", "bytes", size, lines.consumed)
    return None


def _preview_csv(opened: Opened, path: str, offset: int, limit: int) -> Preview:
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    lines = _Lines(opened.file, SCAN_BYTES)
    page = _Page(offset, limit)
    pending = [0]  # bytes of the record being parsed

    def texts() -> Iterator[str]:
        for line, full in lines:
            if full != len(line):
                page.cut_line(lines.number, full, len(line))
            pending[0] += len(line)
            if pending[0] > LINE_BYTES:
                raise _RecordTooLong
            yield line.decode("utf-8", errors="replace")

    reader = csv.reader(texts(), delimiter=delimiter)
    header: list[str] = []
    body: list[list[Any]] = []
    try:
        header = [page.clipper.text(h, "columns") for h in next(reader, [])]
        pending[0] = 0
        for row in reader:
            size, pending[0] = pending[0], 0
            if page.wants(size):
                i = len(body)
                body.append(
                    [_csv_value(page.clipper.text(v, f"rows[{i}][{j}]")) for j, v in enumerate(row)]
                )
    except _RecordTooLong:
        page.clipper.note(f"record {page.total + 1}", "bytes", pending[0], 0)
        lines.exhausted = True
    width = max([len(header), *(len(r) for r in body)])
    names = header + [f"column_{i}" for i in range(len(header), width)]
    rows = [r + [None] * (width - len(r)) for r in body]
    total = _unscanned(page, lines, opened.size)
    return _table(path, opened.size, names, rows, total, offset, page)


def _loads(data: bytes, path: str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise ServerError(
            ErrorCode.FILE_UNREADABLE,
            f"{path!r} holds a JSON line nested too deeply to parse (more than about "
            f"{sys.getrecursionlimit():,} levels); download the raw file with the files route.",
            {"path": path},
        ) from None
    except ValueError as exc:
        raise _unreadable(path, "JSON lines", exc) from None


def _preview_jsonl(opened: Opened, path: str, offset: int, limit: int) -> Preview:
    lines = _Lines(opened.file, SCAN_BYTES)
    page = _Page(offset, limit)
    records: list[Any] = []
    for line, full in lines:
        if not line.strip() or not page.wants(len(line)):
            continue
        where = f"rows[{len(records)}]"
        if full != len(line):  # cut: show its start as text
            page.cut_line(lines.number, full, len(line))
            text = line.decode("utf-8", errors="replace")
            records.append(page.clipper.text(text, where))
            continue
        records.append(page.clipper.clip(_loads(line, path), where))
    total = _unscanned(page, lines, opened.size)
    return _records_table(path, opened.size, records, total, offset, page)


def _preview_json(opened: Opened, path: str, offset: int, limit: int) -> Preview:
    size = opened.size
    if size > JSON_BYTES:
        note = Truncation(path="file", unit="bytes", size=size, kept=JSON_BYTES)
        return _preview_text(opened, path, [note])
    data = opened.file.read(JSON_BYTES + 1)[:JSON_BYTES]
    try:
        value = json.loads(data)
    except RecursionError:  # deeper than the parser goes: show the text
        opened.file.seek(0)
        note = Truncation(path="$", unit="levels", size=sys.getrecursionlimit(), kept=0)
        return _preview_text(opened, path, [note])
    except ValueError as exc:
        raise _unreadable(path, "JSON", exc) from None
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        page = _Page(offset, limit)
        records = [
            page.clipper.clip(v, f"rows[{i}]") for i, v in enumerate(value[offset : offset + limit])
        ]
        return _records_table(path, size, records, len(value), offset, page)
    clipper = Clipper(CELL_CHARS, VALUE_ITEMS, JSON_DEPTH)
    value = clipper.clip(value, "$")
    notes = clipper.report()
    return Preview(
        path=path,
        kind="json",
        mime="application/json",
        size=size,
        value=value,
        truncated=bool(notes),
        truncations=notes,
    )


def _preview_parquet(opened: Opened, path: str, offset: int, limit: int) -> Preview:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ServerError(
            ErrorCode.PREVIEW_UNSUPPORTED,
            "previewing parquet files needs pyarrow: install furu-server[parquet] "
            "(pip install 'furu-server[parquet]') and restart the server.",
            {"path": path},
        ) from None
    page = _Page(offset, limit)
    try:
        parquet = pq.ParquetFile(opened.file)
        meta = parquet.metadata
        found: list[dict[str, Any]] = []
        start = 0
        for group in range(meta.num_row_groups):
            info = meta.row_group(group)
            end = start + info.num_rows
            if end > offset and start < offset + limit:
                if info.total_byte_size > PARQUET_GROUP_BYTES:
                    raise ServerError(
                        ErrorCode.PREVIEW_UNSUPPORTED,
                        f"{path!r} has a row group of {info.total_byte_size:,} bytes, more than "
                        f"the {PARQUET_GROUP_BYTES:,} a preview reads; download the raw file.",
                        {"path": path},
                    )
                rows = parquet.read_row_group(group).to_pylist()
                found += rows[max(0, offset - start) : offset + limit - start]
            start = end
        names = [f.name for f in parquet.schema_arrow]
        types = [str(f.type) for f in parquet.schema_arrow]
    except ServerError:
        raise
    except Exception as exc:  # pyarrow raises many types for a malformed file
        raise _unreadable(path, "parquet", exc) from None
    rows = [
        [page.clipper.clip(_jsonable(rec.get(n)), f"rows[{i}][{j}]") for j, n in enumerate(names)]
        for i, rec in enumerate(found)
    ]
    preview = _table(path, opened.size, names, rows, meta.num_rows, offset, page)
    typed = dict(zip(names, types, strict=True))
    preview.columns = [Column(name=c.name, type=typed[c.name]) for c in preview.columns or []]
    preview.mime = "application/vnd.apache.parquet"
    return preview


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _binary(path: str, size: int) -> Preview:
    return Preview(path=path, kind="binary", mime="application/octet-stream", size=size)


def _preview_text(opened: Opened, path: str, notes: list[Truncation] | None = None) -> Preview:
    data = opened.file.read(TEXT_BYTES)
    size = opened.size
    if b"\x00" in data[:_SNIFF]:
        return _binary(path, size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:
            return _binary(path, size)
        text = data[: exc.start].decode("utf-8")
    mime = mimetypes.guess_type(path)[0] or "text/plain"
    more = size > len(data)
    notes = list(notes or [])
    if more:
        notes.append(Truncation(path="text", unit="bytes", size=size, kept=len(data)))
    return Preview(
        path=path,
        kind="text",
        mime=mime,
        size=size,
        text=text,
        truncated=more or bool(notes),
        truncations=notes,
    )


_TABLES: dict[str, Callable[[Opened, str, int, int], Preview]] = {
    ".csv": _preview_csv,
    ".tsv": _preview_csv,
    ".jsonl": _preview_jsonl,
    ".ndjson": _preview_jsonl,
    ".json": _preview_json,
    ".parquet": _preview_parquet,
}


def preview(base: str, path: str, url: str, offset: int, limit: int) -> Preview:
    """Preview the file `path` of the experiment directory `base`.

    Raises:
        ServerError: `path_outside_artifact`, `file_not_found`, `not_a_file`, `file_unreadable`
            or `preview_unsupported`.
    """
    ext = os.path.splitext(path)[1].lower()
    with open_inside(base, path) as opened:
        try:
            if ext in _IMAGES:
                mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return Preview(path=path, kind="image", mime=mime, size=opened.size, url=url)
            if ext in _TABLES:
                if ext != ".parquet" and b"\x00" in opened.file.peek(_SNIFF)[:_SNIFF]:
                    return _binary(path, opened.size)
                return _TABLES[ext](opened, path, offset, limit)
            return _preview_text(opened, path)
        except (OSError, csv.Error) as exc:
            raise _unreadable(path, ext.lstrip(".") or "file", exc) from None


def _unreadable(path: str, what: str, exc: Exception) -> ServerError:
    return ServerError(
        ErrorCode.FILE_UNREADABLE,
        f"{path!r} could not be read as {what}: {exc}. Download the raw file with the files route.",
        {"path": path},
    )
