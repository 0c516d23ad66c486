"""Routes over an experiment's files: its log (paged and streamed), its tree, raw files, previews.

Every file is opened by `open_inside`: a regular file (never a FIFO or a device) whose real
path, symlinks included, is inside the experiment's directory; reads are bounded.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, StreamingResponse

from furu_server._artifacts import artifact_tree
from furu_server._experiments import locate
from furu_server._logs import read_chunk, stream
from furu_server._models import ArtifactTree, LogChunk, Preview
from furu_server._preview import preview
from furu_server._reading import Opened, open_inside
from furu_server.routes._deps import Svc

router = APIRouter(prefix="/api/experiments/{namespace}/{hash}")


@router.get("/logs", operation_id="getLogs", response_model=LogChunk)
def get_logs(
    svc: Svc,
    namespace: str,
    hash: str,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1_048_576)] = 65_536,
    tail: Annotated[
        int | None, Query(ge=1, le=1_048_576, description="Start this many bytes before the end.")
    ] = None,
) -> LogChunk:
    """`furu.log` from byte `offset` (or its last `tail` bytes); tail by asking from `next_offset`."""
    where = locate(svc.index, namespace, hash)
    if tail is not None:
        size = read_chunk(where.step_dir, 2**62, 1).size
        offset = max(0, size - tail)
    return read_chunk(where.step_dir, offset, limit)


@router.get(
    "/logs/stream",
    operation_id="streamLogs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
def stream_logs(
    svc: Svc,
    namespace: str,
    hash: str,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    timeout: Annotated[float, Query(ge=0, le=3600)] = 300.0,
) -> StreamingResponse:
    """Follow `furu.log` as server-sent events (`log` events, then `end`) while it runs."""
    where = locate(svc.index, namespace, hash)
    read_chunk(where.step_dir, offset, 1)  # a log that cannot be read is an error, not a stream
    return StreamingResponse(
        stream(where.step_dir, offset, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/artifacts", operation_id="listArtifacts", response_model=ArtifactTree)
def list_artifacts(svc: Svc, namespace: str, hash: str) -> ArtifactTree:
    """Every file under the experiment's directory with its size (symlinks are not followed)."""
    return artifact_tree(locate(svc.index, namespace, hash).furu_dir)


@router.get(
    "/files/{path:path}",
    operation_id="getFile",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
)
def get_file(svc: Svc, namespace: str, hash: str, path: str) -> StreamingResponse:
    """The raw file (only a regular file inside the experiment's directory)."""
    opened = open_inside(locate(svc.index, namespace, hash).furu_dir, path)
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if mime.startswith("text/") or mime in ("application/json",):
        mime += "; charset=utf-8"
    headers = {
        "Content-Length": str(opened.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    return StreamingResponse(_chunks(opened), media_type=mime, headers=headers)


def _chunks(opened: Opened, chunk: int = 65_536) -> Iterator[bytes]:
    """The file's first `opened.size` bytes (its size when it was opened), then it is closed.

    A file that shrinks meanwhile ends the response early (the client sees a short body).
    """
    with opened:
        left = opened.size
        while left > 0:
            data = opened.file.read(min(chunk, left))
            if not data:
                return
            left -= len(data)
            yield data


@router.get("/preview/{path:path}", operation_id="previewFile", response_model=Preview)
def preview_file(
    svc: Svc,
    namespace: str,
    hash: str,
    path: str,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Preview:
    """A page of rows (CSV, JSON lines, JSON, parquet) with column types, text, or an image."""
    base = locate(svc.index, namespace, hash).furu_dir
    url = f"/api/experiments/{quote(namespace)}/{quote(hash)}/files/{quote(path)}"
    return preview(base, path, url, offset, limit)
