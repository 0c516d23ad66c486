"""Reading many experiments in worker processes (a first build spends its time parsing JSON).

Workers are plain `python -c "from furu_server.index._readers import main; main()"`
subprocesses fed pickled chunks on stdin, answering one pickled list of rows per chunk on
stdout. Not `multiprocessing`: its "spawn" re-runs the parent's `__main__` (a user's script
that creates the app at import time would start a server per worker), and "fork" is unsafe in
a process that runs threads.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO

from furu_server.index._rows import RecordRows

Chunk = list[tuple[str, str, str]]


def _feed(stdin: IO[bytes], chunks: list[Chunk]) -> None:
    try:
        pickle.dump(chunks, stdin, protocol=pickle.HIGHEST_PROTOCOL)
        stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the worker died; the reader reports it


def read_in_workers(chunks: list[Chunk], workers: int) -> Iterator[RecordRows]:
    """The rows of every chunk, read by `workers` processes (results arrive chunk by chunk)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    shares = [share for share in (chunks[i::workers] for i in range(workers)) if share]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "from furu_server.index._readers import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for _ in shares
    ]
    results: queue.Queue[list[RecordRows] | BaseException | None] = queue.Queue(
        maxsize=4 * len(procs)
    )
    threads = []
    for proc, share in zip(procs, shares, strict=True):
        assert proc.stdin is not None
        assert proc.stdout is not None
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, share), daemon=True))
        threads.append(
            threading.Thread(target=_collect, args=(proc, len(share), results), daemon=True)
        )
    for thread in threads:
        thread.start()
    try:
        for _ in range(len(chunks)):
            item = results.get()
            if isinstance(item, BaseException):
                raise item
            yield from item or []
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for thread in threads:  # a collector may wait on a full queue: drain it
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    results.get_nowait()
                thread.join(0.01)
        for proc in procs:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


def _collect(
    proc: subprocess.Popen[bytes],
    count: int,
    results: queue.Queue[list[RecordRows] | BaseException | None],
) -> None:
    """Move a worker's answers to the queue (so it never waits while the writer writes)."""
    assert proc.stdout is not None
    for _ in range(count):
        try:
            results.put(pickle.load(proc.stdout))
        except (EOFError, OSError, pickle.UnpicklingError, ValueError):
            results.put(RuntimeError(f"an index reader (pid {proc.pid}) stopped early"))
            return


def main() -> None:
    from furu_server.index._rows import read_rows

    chunks: list[Chunk] = pickle.load(sys.stdin.buffer)
    for chunk in chunks:
        pickle.dump(read_rows(chunk), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.flush()
