"""The filter language: one expression tree, its text form, and its compilation to SQL.

```
_models    the JSON tree (`FilterExpr`, discriminated by `op`) the API accepts
_parser    the text form (`config.lr < 1e-3 and status = success`): parsing and printing
_sql       the tree as a SQL condition over the index (its fields come from the index's columns)
```

See `docs/filter-language.md` for the language itself.
"""

from __future__ import annotations

from furu_server.filters._models import (
    AndFilter,
    CompareFilter,
    FilterExpr,
    InFilter,
    TextFilter,
)
from furu_server.filters._parser import parse_filter, to_text
from furu_server.filters._sql import compile_filter

__all__ = [
    "AndFilter",
    "CompareFilter",
    "FilterExpr",
    "InFilter",
    "TextFilter",
    "compile_filter",
    "parse_filter",
    "to_text",
]
