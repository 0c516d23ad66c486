"""The dependency graph of a store's experiments, read from their `metadata.json` alone.

Every attempted step records the steps it depends on (`dependencies` in its metadata: their
namespace and hash), so the graph needs no user code: `furu deps`/`rdeps`, invalidating with
dependents, garbage collection's reachability and export's closure all walk this one graph.

```
graph = StoreGraph.load(store)              # one read of every metadata.json
graph.dependencies(step, transitive=True)   # what `step` was made from
graph.dependents(step)                      # what was made from `step`
```
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from furu._errors import FuruStoreError
from furu._step_dir import StepId

if TYPE_CHECKING:
    from furu._step_dir import StepDir
    from furu._workspace import Store


@dataclass
class StoreGraph:
    """Which stored experiment depends on which (edges from `metadata.json`).

    Attributes:
        steps: every step directory of the store, by id.
        edges: each step's direct dependencies, in the order its metadata lists them (a
            dependency that is not in the store is listed too: see `missing`).
    """

    steps: dict[StepId, StepDir] = field(default_factory=dict)
    edges: dict[StepId, list[StepId]] = field(default_factory=dict)
    _reverse: dict[StepId, list[StepId]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, store: Store) -> StoreGraph:
        """Read the metadata of every step of `store` (a damaged record has no edges)."""
        graph = cls()
        for step in store.step_dirs():
            graph.add(step, direct_dependencies(step))
        return graph

    def add(self, step: StepDir, dependencies: Iterable[StepId]) -> None:
        self.steps[step.id] = step
        self.edges[step.id] = list(dict.fromkeys(dependencies))
        self._reverse = None

    def _reverse_edges(self) -> dict[StepId, list[StepId]]:
        if self._reverse is None:
            reverse: dict[StepId, list[StepId]] = {}
            for step, deps in self.edges.items():
                for dep in deps:
                    reverse.setdefault(dep, []).append(step)
            self._reverse = reverse
        return self._reverse

    def dependencies(self, step: StepId | StepDir, *, transitive: bool = False) -> list[StepId]:
        """What `step` depends on: direct, or every step below it (nearest first)."""
        return _walk(_id(step), lambda s: self.edges.get(s, []), transitive)

    def dependents(self, step: StepId | StepDir, *, transitive: bool = False) -> list[StepId]:
        """What depends on `step`: direct, or every step above it (nearest first)."""
        reverse = self._reverse_edges()
        return _walk(_id(step), lambda s: reverse.get(s, []), transitive)

    def closure(self, roots: Iterable[StepId | StepDir]) -> list[StepId]:
        """`roots` and everything they depend on, transitively (roots first)."""
        out: dict[StepId, None] = {}
        for root in roots:
            rid = _id(root)
            out[rid] = None
            for dep in self.dependencies(rid, transitive=True):
                out[dep] = None
        return list(out)

    def missing(self, step: StepId | StepDir) -> list[StepId]:
        """The direct dependencies of `step` that are not in the store."""
        return [d for d in self.dependencies(step) if d not in self.steps]


def direct_dependencies(step: StepDir) -> list[StepId]:
    """The dependencies `step`'s metadata records; none when it has none or it is damaged."""
    try:
        metadata = step.read_metadata()
    except FuruStoreError:
        return []
    deps = metadata.get("dependencies") if isinstance(metadata, dict) else None
    if not isinstance(deps, list):
        return []
    found = []
    for dep in deps:
        if isinstance(dep, dict):
            namespace, digest = dep.get("namespace"), dep.get("hash")
            if isinstance(namespace, str) and isinstance(digest, str):
                found.append(StepId(namespace, digest))
    return found


def _id(step: StepId | StepDir) -> StepId:
    return step if isinstance(step, StepId) else step.id


def _walk(
    start: StepId, neighbours: Callable[[StepId], list[StepId]], transitive: bool
) -> list[StepId]:
    if not transitive:
        return list(neighbours(start))
    seen: dict[StepId, None] = {}
    queue = deque(neighbours(start))
    while queue:
        step = queue.popleft()
        if step in seen or step == start:
            continue
        seen[step] = None
        queue.extend(neighbours(step))
    return list(seen)
