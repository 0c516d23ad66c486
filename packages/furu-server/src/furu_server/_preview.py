"""Previews of the files an experiment wrote: pages of rows for tables, text, JSON, images.

| file | preview |
|---|---|
| `.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.parquet` | `table`: a page of rows, column names and types |
| `.json` | `table` when it is a list of objects, else `json` (the value) |
| images (`.png`, `.jpg`, `.gif`, `.webp`, `.svg`, ...) | `image`: its MIME type and the raw file's URL |
| anything that decodes as UTF-8 | `text` (the first 256 KiB) |
| anything else | `binary` |

Parquet needs pyarrow: install `furu-server[parquet]`.
"""

from __future__ import annotations

import csv
import json
import mimetypes
import os
from itertools import islice
from typing import Any

from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Column, Preview

TEXT_LIMIT = 262_144
JSON_LIMIT = 20_000_000
_IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".ico"}


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


def _table(
    path: str, size: int, names: list[str], rows: list[list[Any]], total: int, offset: int
) -> Preview:
    columns = [Column(name=n, type=column_type([r[i] for r in rows])) for i, n in enumerate(names)]
    return Preview(
        path=path,
        kind="table",
        mime=mimetypes.guess_type(path)[0] or "application/octet-stream",
        size=size,
        columns=columns,
        rows=rows,
        total_rows=total,
        offset=offset,
        truncated=offset + len(rows) < total,
    )


def _records_table(path: str, size: int, records: list[Any], total: int, offset: int) -> Preview:
    names: dict[str, None] = {}
    for rec in records:
        names.update(dict.fromkeys(rec if isinstance(rec, dict) else ["value"]))
    rows = [
        [rec.get(n) for n in names]
        if isinstance(rec, dict)
        else [rec if n == "value" else None for n in names]
        for rec in records
    ]
    return _table(path, size, list(names), rows, total, offset)


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


def _preview_csv(real: str, path: str, size: int, offset: int, limit: int) -> Preview:
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with open(real, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, [])
        page = [[_csv_value(v) for v in row] for row in islice(reader, offset, offset + limit)]
        total = offset + len(page) + sum(1 for _ in reader)
    width = max([len(header), *(len(r) for r in page)])
    names = header + [f"column_{i}" for i in range(len(header), width)]
    rows = [r + [None] * (width - len(r)) for r in page]
    return _table(path, size, names, rows, total, offset)


def _preview_jsonl(real: str, path: str, size: int, offset: int, limit: int) -> Preview:
    with open(real, "rb") as f:
        lines = (line for line in f if line.strip())
        page = list(islice(lines, offset, offset + limit))
        total = offset + len(page) + sum(1 for _ in lines)
    try:
        records = [json.loads(line) for line in page]
    except ValueError as exc:
        raise _unreadable(path, "JSON lines", exc) from None
    return _records_table(path, size, records, total, offset)


def _preview_json(real: str, path: str, size: int, offset: int, limit: int) -> Preview:
    if size > JSON_LIMIT:
        return _preview_text(real, path, size)
    try:
        with open(real, "rb") as f:
            value = json.load(f)
    except ValueError as exc:
        raise _unreadable(path, "JSON", exc) from None
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return _records_table(path, size, value[offset : offset + limit], len(value), offset)
    return Preview(path=path, kind="json", mime="application/json", size=size, value=value)


def _preview_parquet(real: str, path: str, size: int, offset: int, limit: int) -> Preview:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ServerError(
            ErrorCode.PREVIEW_UNSUPPORTED,
            "previewing parquet files needs pyarrow: install furu-server[parquet] "
            "(pip install 'furu-server[parquet]') and restart the server.",
            {"path": path},
        ) from None
    try:
        table = pq.read_table(real)
    except Exception as exc:  # pyarrow raises many types for a malformed file
        raise _unreadable(path, "parquet", exc) from None
    page = table.slice(offset, limit).to_pylist()
    columns = [Column(name=f.name, type=str(f.type)) for f in table.schema]
    rows = [[_jsonable(rec.get(c.name)) for c in columns] for rec in page]
    return Preview(
        path=path,
        kind="table",
        mime="application/vnd.apache.parquet",
        size=size,
        columns=columns,
        rows=rows,
        total_rows=table.num_rows,
        offset=offset,
        truncated=offset + len(rows) < table.num_rows,
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _preview_text(real: str, path: str, size: int) -> Preview:
    with open(real, "rb") as f:
        data = f.read(TEXT_LIMIT)
    if b"\x00" in data[:8192]:
        return Preview(path=path, kind="binary", mime="application/octet-stream", size=size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:
            return Preview(path=path, kind="binary", mime="application/octet-stream", size=size)
        text = data[: exc.start].decode("utf-8")
    mime = mimetypes.guess_type(path)[0] or "text/plain"
    return Preview(
        path=path, kind="text", mime=mime, size=size, text=text, truncated=size > len(data)
    )


_TABLES = {
    ".csv": _preview_csv,
    ".tsv": _preview_csv,
    ".jsonl": _preview_jsonl,
    ".ndjson": _preview_jsonl,
    ".json": _preview_json,
    ".parquet": _preview_parquet,
}


def preview(real: str, path: str, url: str, offset: int, limit: int) -> Preview:
    """Preview the file at `real` (already checked to be inside the experiment's directory).

    Raises:
        ServerError: `not_a_file`, `file_unreadable` or `preview_unsupported`.
    """
    if os.path.isdir(real):
        raise ServerError(
            ErrorCode.NOT_A_FILE,
            f"{path!r} is a directory; list it with the artifacts route.",
            {"path": path},
        )
    size = os.path.getsize(real)
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in _TABLES:
            return _TABLES[ext](real, path, size, offset, limit)
        if ext in _IMAGES:
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return Preview(path=path, kind="image", mime=mime, size=size, url=url)
        return _preview_text(real, path, size)
    except (OSError, csv.Error) as exc:
        raise _unreadable(path, ext.lstrip(".") or "file", exc) from None


def _unreadable(path: str, what: str, exc: Exception) -> ServerError:
    return ServerError(
        ErrorCode.FILE_UNREADABLE,
        f"{path!r} could not be read as {what}: {exc}. Download the raw file with the files route.",
        {"path": path},
    )
