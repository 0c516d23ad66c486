"""The app served by a real uvicorn on 127.0.0.1 (an ephemeral port), in a thread of this process.

`live(settings)` starts it and stops it at the end of the block; every wait has a wall-clock
deadline. Starlette's `TestClient` (furu-server's own tests) never opens a socket: this is what
proves the API over the wire.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from furu_server import ServerSettings, create_app

SERVER_DEADLINE_SEC = 30.0


class LiveServer:
    """An app served by uvicorn in a thread of this process, on an ephemeral port."""

    def __init__(self, app: FastAPI) -> None:
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # with proto 0 every response waits ~40 ms for a delayed ACK (Nagle).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + SERVER_DEADLINE_SEC
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError(f"uvicorn did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(SERVER_DEADLINE_SEC)
        self.sock.close()
        if self.thread.is_alive():
            raise AssertionError(
                f"uvicorn on {self.url} did not stop within {SERVER_DEADLINE_SEC}s"
            )


@contextlib.contextmanager
def live(settings: ServerSettings, **options: Any) -> Iterator[LiveServer]:
    server = LiveServer(create_app(settings, **options))
    server.start()
    try:
        yield server
    finally:
        server.stop()
