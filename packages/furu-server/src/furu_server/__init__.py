"""furu-server: a fast, safe HTTP API over a furu store, and the furu dashboard.

```python
from furu_server import ServerSettings, create_app

app = create_app(ServerSettings(root=Path("furu-data")))  # serve with uvicorn
```

Or from the shell: `furu-dashboard serve` (see `furu-dashboard --help`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from furu_server._app import create_app
    from furu_server._errors import ErrorCode, FilterInvalidError, FilterSyntaxError, ServerError
    from furu_server._openapi import openapi_document, openapi_text
    from furu_server._settings import ServerSettings
    from furu_server.filters import FilterExpr, compile_filter, parse_filter, to_text
    from furu_server.index._index import Index

# Imported on first use: the index's reader processes import only what reading needs (not
# FastAPI), so they start in a fraction of the time.
_LAZY = {
    "create_app": "furu_server._app",
    "ErrorCode": "furu_server._errors",
    "FilterInvalidError": "furu_server._errors",
    "FilterSyntaxError": "furu_server._errors",
    "ServerError": "furu_server._errors",
    "FilterExpr": "furu_server.filters",
    "parse_filter": "furu_server.filters",
    "to_text": "furu_server.filters",
    "compile_filter": "furu_server.filters",
    "Index": "furu_server.index._index",
    "openapi_document": "furu_server._openapi",
    "openapi_text": "furu_server._openapi",
    "ServerSettings": "furu_server._settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'furu_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "ErrorCode",
    "FilterExpr",
    "FilterInvalidError",
    "FilterSyntaxError",
    "Index",
    "ServerError",
    "ServerSettings",
    "__version__",
    "compile_filter",
    "create_app",
    "openapi_document",
    "openapi_text",
    "parse_filter",
    "to_text",
]
