"""Garbage collection: which stored experiments to delete, what protects the rest, and deleting.

```
plan = furu.plan_gc(store, failed=True, older_than=30 * 86400)   # reads, deletes nothing
print(plan.describe())                 # per class: steps, bytes; what is protected and why
report = plan.run()                    # deletes through StepDir.delete(), compacts the journal
```

Policies pick candidates (a step matching several is named by the first):

| policy | picks |
|---|---|
| `failed` | steps whose last attempt failed |
| `incomplete_older_than` | steps without a result (crashed, cancelled, preempted, never finished) older than that |
| `orphaned` | results the code no longer reaches: their class is gone from the code manifest, or a migrated alias lost its target (needs `furu manifest`) |
| `superseded` | stale results (by the manifest) that were migrated to an alias |
| `older_than` | anything older than that (a step's age: since furu last wrote its records) |

What protects a candidate, whatever the policy:

- its attempt is running or queued, or a live process holds its compute lock (checked again
  when it is deleted: `StepDir.delete()` refuses while a live process holds the lock);
- it is tagged with a keep tag (`keep`, `pin` by default), or a tagged step depends on it,
  transitively (`StoreGraph.closure`) - DVC's reachability, with pins instead of git refs;
- a migrated alias that is kept reads through it (its files are links into it).

Deleting a step that a kept, untagged step depends on is allowed: that step keeps its result,
and only a recomputation would need the dependency again. Tag what must stay whole.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from furu._errors import FuruConfigError, FuruLockNotAcquired, FuruStoreError
from furu._usage import StepUsage, Usage, disk_usage, human_bytes

if TYPE_CHECKING:
    from furu._journal import JournalCompaction
    from furu._step_dir import StepDir, StepId
    from furu._workspace import Store

DEFAULT_KEEP_TAGS = ("keep", "pin")
"""Tags that protect an experiment and everything it depends on from `furu gc`."""
POLICIES = ("failed", "incomplete", "orphaned", "superseded", "older-than")
POLICY_FLAGS = (
    "--failed",
    "--incomplete-older-than DURATION",
    "--orphaned",
    "--superseded",
    "--older-than DURATION",
)
BUSY = ("running", "queued")
UNFINISHED = ("incomplete", "absent", "crashed", "cancelled", "preempted", "unreadable")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str, *, flag: str = "a duration") -> float:
    """Seconds in `text`: a number and a unit, `30s`, `15m`, `12h`, `7d`, `2w` (`0d` is now).

    Raises:
        FuruConfigError: `text` is not such a duration; the message names `flag`.
    """
    found = _DURATION.match(text)
    if found is None:
        raise FuruConfigError(
            f"{flag} {text!r} is not a duration; write a number and a unit: 30s, 15m, 12h, 7d "
            "or 2w (0d means everything)."
        )
    return float(found.group(1)) * _UNITS[found.group(2)]


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


@dataclass(frozen=True)
class GcCandidate:
    """A step a policy picked: which policy (`furu.gc` `POLICIES`) and why, in a sentence."""

    usage: StepUsage
    policy: str
    reason: str

    @property
    def id(self) -> StepId:
        return self.usage.id

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.usage.namespace,
            "hash": self.id.hash,
            "policy": self.policy,
            "reason": self.reason,
            "status": self.usage.status,
            "bytes": self.usage.size.bytes,
        }


@dataclass(frozen=True)
class GcProtected:
    """A step a policy picked that is kept, and why (`tagged keep`, `running`, ...)."""

    candidate: GcCandidate
    why: str

    def to_json(self) -> dict[str, Any]:
        return {**self.candidate.to_json(), "why": self.why}


@dataclass
class GcReport:
    """What `GcPlan.run` did: deleted, skipped (with why), bytes freed, the journal's compaction."""

    deleted: list[GcCandidate] = field(default_factory=list)
    skipped: list[tuple[GcCandidate, str]] = field(default_factory=list)
    journal: JournalCompaction | None = None
    trash: list[str] = field(default_factory=list)
    trash_bytes: int = 0

    @property
    def freed(self) -> int:
        return sum(c.usage.size.bytes for c in self.deleted) + self.trash_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "deleted": [c.to_json() for c in self.deleted],
            "skipped": [{**c.to_json(), "why": why} for c, why in self.skipped],
            "freed_bytes": self.freed,
            "trash_removed": self.trash,
            "journal": None if self.journal is None else self.journal.to_json(),
        }

    def describe(self) -> str:
        lines = [f"Deleted {len(self.deleted)} step(s), freed {human_bytes(self.freed)}."]
        if self.trash:
            lines.append(f"  and {len(self.trash)} half-deleted step directory(ies)")
        for c, why in self.skipped:
            lines.append(f"  kept {c.id}: {why}")
        if self.journal is not None:
            lines.append(self.journal.describe())
        return "\n".join(lines)


@dataclass
class GcPlan:
    """What `furu gc` would delete, per `plan_gc`; `run()` deletes it.

    Attributes:
        store: the store.
        policies: the policies given (`{"failed": True, "older_than": 86400.0, ...}`).
        keep_tags: the tags that protect.
        candidates: the steps to delete, largest class first.
        protected: the steps a policy picked that are kept, with why.
        scanned: how many steps the store holds.
        journal: what compacting the journal would merge (a dry run of it).
        journal_idle: seconds after which another host's journal file is taken as finished.
        trash: step directories a delete renamed away (`.<hash>.deleting.<pid>.<hex>`) and
            did not finish removing because its process died; `run()` removes them.
        trash_bytes: their size.
    """

    store: Store
    policies: dict[str, Any]
    keep_tags: tuple[str, ...]
    candidates: list[GcCandidate]
    protected: list[GcProtected]
    scanned: int
    journal: JournalCompaction
    journal_idle: float
    trash: list[str] = field(default_factory=list)
    trash_bytes: int = 0

    @property
    def bytes(self) -> int:
        return sum(c.usage.size.bytes for c in self.candidates)

    def by_class(self) -> list[dict[str, Any]]:
        """Per class: steps, bytes and the policies that picked them; largest first."""
        rows: dict[str, dict[str, Any]] = {}
        for c in self.candidates:
            row = rows.setdefault(
                c.usage.namespace,
                {"class": c.usage.namespace, "steps": 0, "bytes": 0, "policies": Counter()},
            )
            row["steps"] += 1
            row["bytes"] += c.usage.size.bytes
            row["policies"][c.policy] += 1
        ordered = sorted(rows.values(), key=lambda r: (-r["bytes"], r["class"]))
        return [{**r, "policies": dict(r["policies"])} for r in ordered]

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.store.root),
            "policies": self.policies,
            "keep_tags": list(self.keep_tags),
            "scanned": self.scanned,
            "by_class": self.by_class(),
            "total": {"steps": len(self.candidates), "bytes": self.bytes},
            "candidates": [c.to_json() for c in self.candidates],
            "protected": [p.to_json() for p in self.protected],
            "journal": self.journal.to_json(),
            "trash": {"dirs": self.trash, "bytes": self.trash_bytes},
        }

    def describe(self, *, limit: int = 20) -> str:
        """The table `furu gc` prints: per class, the total, then what is protected and why."""
        rows = self.by_class()
        width = max([len("CLASS"), *(len(r["class"]) for r in rows)])
        lines = [f"{'CLASS':<{width}}  {'STEPS':>7}  {'SIZE':>10}  POLICIES"]
        for r in rows:
            policies = ", ".join(f"{p} {n}" for p, n in sorted(r["policies"].items()))
            lines.append(
                f"{r['class']:<{width}}  {r['steps']:>7}  {human_bytes(r['bytes']):>10}  {policies}"
            )
        lines.append(
            f"{'total':<{width}}  {len(self.candidates):>7}  {human_bytes(self.bytes):>10}  "
            f"of {self.scanned} step(s)"
        )
        if self.protected:
            kinds = Counter(p.why.split(":", 1)[0] for p in self.protected)
            summary = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            lines.append(f"protected, not deleted: {len(self.protected)} ({summary})")
            for p in self.protected[:limit]:
                lines.append(f"  {p.candidate.id.short}  ({p.candidate.policy}) {p.why}")
            if len(self.protected) > limit:
                lines.append(f"  ... and {len(self.protected) - limit} more (--json lists all)")
        if self.trash:
            lines.append(
                f"half-deleted step directories: {len(self.trash)} "
                f"({human_bytes(self.trash_bytes)}), removed with the rest"
            )
        lines.append(self.journal.describe())
        return "\n".join(lines)

    def run(self, *, compact_journal: bool = True) -> GcReport:
        """Delete every candidate (checked again first), then compact the journal.

        A candidate whose attempt started meanwhile, or whose compute lock a live process
        holds (`StepDir.delete()` raises `FuruLockNotAcquired`), is skipped and reported.
        """
        report = GcReport()
        for c in self.candidates:
            why = _busy_now(c.usage.step)
            if why is None:
                try:
                    if c.usage.step.delete():
                        report.deleted.append(c)
                        continue
                    why = "it was already gone"
                except FuruLockNotAcquired as exc:
                    why = str(exc)
                except OSError as exc:
                    why = f"cannot be deleted: {exc}"
            report.skipped.append((c, why))
        report.trash = [path for path in self.trash if _remove_trash(path)]
        report.trash_bytes = self.trash_bytes if report.trash else 0
        if compact_journal:
            report.journal = self.store.journal.compact(idle_after=self.journal_idle)
        return report


def _remove_trash(path: str) -> bool:
    """Remove a half-deleted step directory (a real directory, never through a symlink)."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)


def _busy_now(step: StepDir) -> str | None:
    """Why `step` must not be deleted now (running, queued, locked by a live process)."""
    holder = step.live_holder()
    if holder is not None:
        return f"locked: {holder.describe()} holds its compute lock"
    try:
        state = step.read_state()
    except FuruStoreError:
        return None
    attempt = state.attempt
    if attempt is not None and attempt.status.value in BUSY and not step.has_result():
        return f"{attempt.status.value}: its attempt {attempt.number} is {attempt.status.value}"
    return None


# ---------------------------------------------------------------- planning


def plan_gc(
    store: Store,
    *,
    failed: bool = False,
    incomplete_older_than: float | None = None,
    orphaned: bool = False,
    superseded: bool = False,
    older_than: float | None = None,
    keep_tags: Sequence[str] = DEFAULT_KEEP_TAGS,
    journal_idle: float | None = None,
    usage: Usage | None = None,
    now: float | None = None,
) -> GcPlan:
    """What garbage collection would delete from `store` under the given policies.

    Reads only: one walk of the store (`disk_usage`), the tags of tagged steps, the metadata of
    what they depend on and, for `orphaned`/`superseded`, every record (`find_stale`).

    Args:
        store: the store.
        failed: pick steps whose last attempt failed.
        incomplete_older_than: pick steps without a result older than this (seconds).
        orphaned: pick results of classes gone from the code manifest, and broken aliases.
        superseded: pick stale results that were migrated.
        older_than: pick every step older than this (seconds).
        keep_tags: tags that protect a step and its dependencies.
        journal_idle: seconds after which another host's journal file counts as finished.
        usage: a `disk_usage(store)` already taken (else taken here).
        now: the time ages are measured at (default: the walk's start).

    Raises:
        FuruConfigError: no policy was given, or `orphaned`/`superseded` without a manifest.
    """
    from furu._journal import JOURNAL_IDLE_AFTER

    policies = {
        "failed": failed,
        "incomplete_older_than": incomplete_older_than,
        "orphaned": orphaned,
        "superseded": superseded,
        "older_than": older_than,
    }
    if not any(policy_given(v) for v in policies.values()):
        raise FuruConfigError(
            f"garbage collection needs a policy: {', '.join(POLICY_FLAGS)} "
            "(`furu gc --help`; plan_gc(failed=True, ...))."
        )
    usage = disk_usage(store) if usage is None else usage
    at = usage.scanned_at if now is None else now
    stale = _stale_sets(store, orphaned or superseded)
    picked = [c for s in usage.steps if (c := _pick(s, at, policies, stale)) is not None]
    protected = _protect(usage, picked, tuple(keep_tags))
    kept = {p.candidate.id for p in protected}
    candidates = [c for c in picked if c.id not in kept]
    order = {ns: -size for ns, size in _class_bytes(candidates).items()}
    candidates.sort(key=lambda c: (order[c.usage.namespace], c.usage.namespace, c.id.hash))
    idle = JOURNAL_IDLE_AFTER if journal_idle is None else journal_idle
    return GcPlan(
        store=store,
        policies={k: v for k, v in policies.items() if policy_given(v)},
        keep_tags=tuple(keep_tags),
        candidates=candidates,
        protected=protected,
        scanned=len(usage.steps),
        journal=store.journal.compact(idle_after=idle, dry_run=True),
        journal_idle=idle,
        trash=list(usage.trash),
        trash_bytes=usage.areas["trash"].bytes if "trash" in usage.areas else 0,
    )


def _class_bytes(candidates: Iterable[GcCandidate]) -> dict[str, int]:
    sizes: Counter[str] = Counter()
    for c in candidates:
        sizes[c.usage.namespace] += c.usage.size.bytes
    return sizes


@dataclass(frozen=True)
class _Stale:
    orphaned: dict[StepId, str]
    stale: dict[StepId, str]


def _stale_sets(store: Store, needed: bool) -> _Stale:
    """The stale experiments by the code manifest (`find_stale`), when a policy needs them."""
    if not needed:
        return _Stale({}, {})
    from furu._manifest import BROKEN_ALIAS, CLASS_REMOVED, Manifest
    from furu._stale import find_stale

    manifest = Manifest.read(store)
    if manifest is None:
        raise FuruConfigError(
            f"--orphaned and --superseded compare the store with the code manifest, and "
            f"{Manifest.path(store)} does not exist; run `furu manifest` in the project's "
            "environment first (it imports the code and writes it)."
        )
    found = find_stale(store, manifest)
    orphans = {r.id: r.reason for r in found if r.kind in (CLASS_REMOVED, BROKEN_ALIAS)}
    return _Stale(orphans, {r.id: r.reason for r in found})


def _pick(s: StepUsage, now: float, policies: dict[str, Any], stale: _Stale) -> GcCandidate | None:
    age = s.age(now)
    if policies["failed"] and s.status == "failed":
        return GcCandidate(s, "failed", "its last attempt failed")
    limit = policies["incomplete_older_than"]
    if limit is not None and s.status in UNFINISHED and age >= limit:
        return GcCandidate(s, "incomplete", f"no result ({s.status}), last written {_ago(age)} ago")
    if stale.orphaned or stale.stale:
        sid = s.id
        if policies["orphaned"] and sid in stale.orphaned:
            return GcCandidate(s, "orphaned", stale.orphaned[sid])
        if policies["superseded"] and s.migrated and sid in stale.stale:
            return GcCandidate(s, "superseded", f"migrated, and stale: {stale.stale[sid]}")
    limit = policies["older_than"]
    if limit is not None and age >= limit:
        return GcCandidate(s, "older-than", f"last written {_ago(age)} ago")
    return None


def _protect(
    usage: Usage, picked: list[GcCandidate], keep_tags: tuple[str, ...]
) -> list[GcProtected]:
    """The picked steps that stay, and why: busy, pinned (or needed by a pin), aliased."""
    if not picked:
        return []
    by_id = {s.id: s for s in usage.steps}
    picked_ids = {c.id: c for c in picked}
    why: dict[StepId, str] = {}
    for c in picked:
        if c.usage.status in BUSY:
            why[c.id] = f"{c.usage.status}: its attempt is {c.usage.status}"
        elif c.usage.locked:
            busy = _busy_now(c.usage.step)
            if busy is not None:
                why[c.id] = busy
    for dep, reason in _pinned(usage, by_id, keep_tags).items():
        if dep in picked_ids and dep not in why:
            why[dep] = reason
    _protect_alias_targets(usage, picked_ids, why)
    return [GcProtected(c, why[c.id]) for c in picked if c.id in why]


def _pinned(
    usage: Usage, by_id: dict[StepId, StepUsage], keep_tags: tuple[str, ...]
) -> dict[StepId, str]:
    """Every step a keep-tagged step is or depends on (transitively), with why."""
    from furu._graph import StoreGraph, direct_dependencies

    roots: list[tuple[StepUsage, str]] = []
    for s in usage.steps:
        if s.tagged:
            tags = [t for t in s.step.read_labels().tags if t in keep_tags]
            if tags:
                roots.append((s, tags[0]))
    graph = StoreGraph()
    queue = deque(s for s, _ in roots)
    while queue:
        s = queue.popleft()
        if s.id in graph.steps:
            continue
        deps = direct_dependencies(s.step)
        graph.add(s.step, deps)
        queue.extend(by_id[d] for d in deps if d in by_id and d not in graph.steps)
    out: dict[StepId, str] = {}
    for s, tag in roots:
        out.setdefault(s.id, f"tagged: it is tagged {tag!r}")
        for dep in graph.closure([s.id])[1:]:
            out.setdefault(dep, f"pinned: {s.id.short} (tagged {tag!r}) depends on it")
    return out


def _protect_alias_targets(
    usage: Usage, picked: dict[StepId, GcCandidate], why: dict[StepId, str]
) -> None:
    """Keep the target of every alias that is kept (the alias's files are links into it)."""
    from furu._migration import read_migration

    targets: dict[StepId, StepId] = {}
    for s in usage.steps:
        if not s.alias:
            continue
        try:
            record = read_migration(s.step) or {}
        except FuruStoreError:
            continue
        source = record.get("from")
        if isinstance(source, dict) and isinstance(source.get("hash"), str):
            from furu._step_dir import StepId

            namespace = source.get("namespace", s.namespace)
            targets[s.id] = StepId(str(namespace), source["hash"])
    changed = True
    while changed:  # an alias of an alias: keeping the outer one keeps both below it
        changed = False
        for alias, target in targets.items():
            alias_kept = alias not in picked or alias in why
            if alias_kept and target in picked and target not in why:
                why[target] = f"aliased: the migrated alias {alias.short} reads through it"
                changed = True


def policy_given(value: Any) -> bool:
    """Whether a policy argument was given (`older_than=0.0` is: it means everything)."""
    return value is not None and value is not False
