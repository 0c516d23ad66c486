"""What routes depend on: the server's services, and the token that guards every change.

The FastAPI dependencies live in one place (the full-stack template's `deps.py`), so a route
says what it needs in its signature: `svc: Svc` for the settings, the index and the runs, and
`dependencies=Guarded` when it changes the store or starts work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from furu_server._runs import Runs
from furu_server._security import check_token
from furu_server._settings import ServerSettings
from furu_server._tasks import Tasks
from furu_server.index._index import Index


@dataclass
class Services:
    """What every route needs, kept on `app.state.services`."""

    settings: ServerSettings
    index: Index
    runs: Runs
    token: str
    tasks: Tasks


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


Svc = Annotated[Services, Depends(services)]


def require_token(
    svc: Svc,
    authorization: Annotated[str | None, Header()] = None,
    x_furu_token: Annotated[str | None, Header()] = None,
) -> None:
    check_token(svc.token, authorization, x_furu_token)


Guarded = [Depends(require_token)]
