"""How a listing is ordered: plain enums, so code that only lists (the index, `furu tui`) needs
none of the API's pydantic models to import."""

from __future__ import annotations

from enum import StrEnum


class SortKey(StrEnum):
    """What a listing can be sorted by."""

    updated = "updated"
    created = "created"
    started = "started"
    runtime = "runtime"
    status = "status"
    dependencies = "dependencies"
    class_ = "class"
    namespace = "namespace"
    name = "name"
    size = "size"
    hash = "hash"
    wall = "wall"
    cpu_user = "cpu_user"
    cpu_system = "cpu_system"
    peak_rss = "peak_rss"
    gpu_memory = "gpu_memory"
    gpu_utilization = "gpu_utilization"


class Order(StrEnum):
    asc = "asc"
    desc = "desc"
