"""What keeps a local server safe: the token, the Host and Origin checks, and file paths.

- Routes that change or delete anything, or start a rerun, need the token: `Authorization:
  Bearer <token>` (or `X-Furu-Token`). It is generated at start (and printed in the URL) unless
  configured, and compared in constant time.
- A web page on another site can make a browser send requests to 127.0.0.1, and with DNS
  rebinding even read the answers. So a request whose `Host` is a name this server does not
  answer for, or whose `Origin` is another site, is refused before any route runs. IP literals
  are always accepted as `Host` (rebinding needs a name the attacker controls).
- A file route opens only regular files whose real path is inside the experiment's own real
  directory (`furu_server._reading.open_inside`).
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from furu_server._errors import ErrorCode, ServerError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_token(expected: str, authorization: str | None, header_token: str | None) -> None:
    """Raises `unauthorized` unless one of the headers carries `expected`."""
    given = header_token
    if authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
        raise ServerError(
            ErrorCode.UNAUTHORIZED,
            "this route changes the store and needs the server's token: send "
            "'Authorization: Bearer <token>'. The token is printed when furu-dashboard starts "
            "(in the URL, after ?token=), or set it with --token / FURU_SERVER_TOKEN.",
        )


def _host_name(host: str) -> str:
    """The name in a `Host` header, without the port (IPv6 literals keep no brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which `Host` names and `Origin`s a server answers."""

    def __init__(
        self, bind_host: str, extra_hosts: tuple[str, ...], extra_origins: tuple[str, ...]
    ):
        names = {"localhost", bind_host.lower()}
        if bind_host in ("0.0.0.0", "::", ""):
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        self.names = names | {h.lower() for h in extra_hosts}
        self.origins = {o.rstrip("/").lower() for o in extra_origins}

    def host_allowed(self, host: str | None) -> bool:
        if not host:
            return False
        name = _host_name(host)
        return _is_ip(name) or name in self.names or name.endswith(".localhost")

    def origin_allowed(self, origin: str, host: str | None, scheme: str = "http") -> bool:
        """A configured origin, or this server's own (same scheme and host:port)."""
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme != scheme or not parts.netloc or host is None:
            return False
        return parts.netloc == host.strip().lower()


class GuardMiddleware:
    """Refuses requests with a foreign `Host` or `Origin` with the error envelope (403)."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        error = None
        if not self.policy.host_allowed(host):
            error = ServerError(
                ErrorCode.HOST_NOT_ALLOWED,
                f"this server does not answer for Host {host!r}. Use http://127.0.0.1:<port>, or "
                "start it with --allowed-host NAME to accept that name.",
                {"host": host},
            )
        elif "origin" in headers and not self.policy.origin_allowed(
            headers["origin"], host, "https" if scope.get("scheme") in ("https", "wss") else "http"
        ):
            error = ServerError(
                ErrorCode.ORIGIN_NOT_ALLOWED,
                f"requests from {headers['origin']!r} are refused (another site may not call this "
                "server). Start it with --allowed-origin ORIGIN to allow that origin.",
                {"origin": headers["origin"]},
            )
        if error is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_json(send, error.status, error.envelope())


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    import json

    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
