"""Reading an experiment's `furu.log` by byte offset, and following it as it grows.

A client tails a log by asking again from `next_offset`; the streaming route does that loop on
the server and sends each new piece as a server-sent event until the attempt ends (or a time
limit passes). Offsets are bytes; a piece never ends inside a UTF-8 character.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator

from fastapi.concurrency import run_in_threadpool

from furu import StepDir
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import is_active
from furu_server._models import LogChunk
from furu_server._reading import open_inside

MAX_CHUNK = 1_048_576
POLL_SEC = 0.2


def _utf8_cut(data: bytes) -> int:
    """How many bytes of `data` end on a character boundary (drop a trailing partial char)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return len(data)
        if byte >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)


def read_chunk(step_dir: StepDir, offset: int, limit: int) -> LogChunk:
    """The log from byte `offset`, at most `limit` bytes (an empty chunk when there is none).

    Raises:
        ServerError: `not_a_file` when `furu.log` is not a regular file (a FIFO, a directory),
            `path_outside_artifact` when it is a symlink out of the experiment's directory.
    """
    rel = os.path.relpath(step_dir.log_path, step_dir.path)
    limit = max(1, min(limit, MAX_CHUNK))
    try:
        with open_inside(str(step_dir.path), rel) as opened:
            size = opened.size
            start = min(max(offset, 0), size)
            opened.file.seek(start)
            data = opened.file.read(min(limit, size - start))
    except ServerError as exc:
        if exc.code != ErrorCode.FILE_NOT_FOUND:
            raise
        size, start, data = 0, 0, b""
    if start + len(data) < size:
        data = data[: _utf8_cut(data)] or data
    end = start + len(data)
    return LogChunk(
        text=data.decode("utf-8", errors="replace"),
        offset=start,
        next_offset=end,
        size=size,
        eof=end >= size,
        running=is_active(step_dir),
    )


async def stream(step_dir: StepDir, offset: int, timeout: float) -> AsyncIterator[str]:
    """Server-sent events: `log` events with new text, then one `end` event.

    The stream ends when the attempt is no longer running and everything was sent, or after
    `timeout` seconds, or (an `end` event with reason `error`) when the log stops being
    readable. It waits for the log to grow without holding a worker thread (each read runs in
    one briefly), so any number of quiet streams leave the server free for other requests.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = await run_in_threadpool(read_chunk, step_dir, offset, MAX_CHUNK)
        except ServerError as exc:
            end = {"next_offset": offset, "reason": "error", "message": exc.message}
            yield f"event: end\ndata: {json.dumps(end)}\n\n"
            return
        if chunk.text:
            data = {"offset": chunk.offset, "next_offset": chunk.next_offset, "text": chunk.text}
            yield f"event: log\ndata: {json.dumps(data)}\n\n"
        offset = chunk.next_offset
        if chunk.eof and (not chunk.running or time.monotonic() > deadline):
            reason = "finished" if not chunk.running else "timeout"
            yield f"event: end\ndata: {json.dumps({'next_offset': offset, 'reason': reason})}\n\n"
            return
        if chunk.eof:
            await asyncio.sleep(POLL_SEC)
