"""The API's routes, one router per concern (as in the FastAPI full-stack template).

```
_experiments   listing and search, one experiment, relationships, graphs, counts, health
_files         an experiment's log (paged and streamed), its files, previews
_actions       what changes the store or starts work (token required), and snippets
_code          the code's manifest, its refresh, migrations and their tasks
_sweeps        sweeps and batches: plan, then launch (token required)
_deps          what the routes depend on: `Svc` (the services) and `Guarded` (the token)
```

Routers are included in this order, which is the order of `openapi.json`'s paths.
"""

from __future__ import annotations

from fastapi import APIRouter

from furu_server.routes import _actions, _code, _experiments, _files, _sweeps
from furu_server.routes._deps import Services

api_router = APIRouter()
api_router.include_router(_experiments.router)
api_router.include_router(_files.router)
api_router.include_router(_actions.router)
api_router.include_router(_code.router)
api_router.include_router(_sweeps.router)

__all__ = ["Services", "api_router"]
