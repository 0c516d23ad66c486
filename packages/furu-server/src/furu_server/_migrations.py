"""The migration helper: `furu migrate` planned (dry run) and applied from the dashboard.

A migration needs the code (the new config of each stored experiment), so it runs as
`furu migrate ...` in the project's environment (`_tasks`), never in the server. `preview`
waits for the dry run and returns its plan, old hash -> new hash with each field's change;
`apply` starts the migration as a task that `GET /api/migrations/{id}` follows.
"""

from __future__ import annotations

import json
import re
from typing import Any

import furu
from furu_server._code_models import (
    MigrationChange,
    MigrationItem,
    MigrationPlan,
    MigrationRequest,
    Task,
    Undone,
    UndoneMigration,
)
from furu_server._errors import ErrorCode, ServerError
from furu_server._tasks import Tasks, failure_of, parse_json
from furu_server.index._index import Index

_HASH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*")
MAX_VALUE_CHARS = 100_000
"""Characters of JSON the `values` of one request may hold in all."""


def migrate_args(body: MigrationRequest) -> list[str]:
    """`furu migrate` arguments for a request (without `--dry-run` / `--yes`).

    Raises:
        ServerError: `invalid_request` when the request cannot be a migration (`value`
            without values, `only` without hashes, values too large).
    """
    values = json.dumps(body.values) + json.dumps(body.where)
    if len(values) > MAX_VALUE_CHARS:
        raise ServerError(
            ErrorCode.INVALID_REQUEST,
            f"`values` and `where` hold {len(values)} characters of JSON (at most "
            f"{MAX_VALUE_CHARS}); "
            "a migration sets a few small fields: give large values in the code instead.",
            {"field": "values"},
        )
    if body.mode == "value" and not body.values:
        raise ServerError(
            ErrorCode.INVALID_REQUEST,
            'mode "value" needs `values` ({"field": value, ...}): the value each stored '
            'experiment gets for the new fields (or use mode "default").',
            {"field": "values"},
        )
    if body.mode == "only" and not body.hashes:
        raise ServerError(
            ErrorCode.INVALID_REQUEST,
            'mode "only" needs `hashes`: the stored experiments to migrate.',
            {"field": "hashes"},
        )
    for digest in body.hashes:
        if not _HASH.fullmatch(digest):
            raise ServerError(
                ErrorCode.INVALID_REQUEST,
                f"`hashes`: {digest[:80]!r} is not a hash (a letter or digit, then letters, "
                "digits, - and _); give the stored experiments' hashes (or prefixes).",
                {"field": "hashes"},
            )
    for path in body.where:
        if not _PATH.fullmatch(path):
            raise ServerError(
                ErrorCode.INVALID_REQUEST,
                f"`where` key {path[:80]!r} is not a field path (e.g. lr, model.lr, layers[0]).",
                {"field": "where"},
            )
    args = ["migrate", body.namespace, "--default"]
    for name, value in body.values.items():
        if not _PATH.fullmatch(name):
            raise ServerError(
                ErrorCode.INVALID_REQUEST,
                f"`values` key {name[:80]!r} is not a field name (e.g. average, model.lr).",
                {"field": "values"},
            )
        args += ["--set", f"{name}={json.dumps(value)}"]
    for digest in body.hashes if body.mode == "only" else ():
        args += ["--hash", digest]
    for path, value in body.where.items():
        args += ["--where", f"{path}={json.dumps(value)}"]
    return args


def preview_migration(tasks: Tasks, body: MigrationRequest) -> MigrationPlan:
    """Run `furu migrate ... --dry-run --json` and return its plan.

    Raises:
        ServerError: `migration_failed` with the command's own message when it refused.
    """
    args = migrate_args(body)
    done = tasks.run([*args, "--dry-run", "--json"], namespace=body.namespace)
    raw = parse_json(done.stdout)
    if done.returncode != 0 or not isinstance(raw, dict):
        raise ServerError(
            ErrorCode.MIGRATION_FAILED,
            f"`furu migrate {body.namespace}` refused the migration: "
            f"{failure_of(done.stderr or done.stdout, done.returncode)}",
            {"returncode": done.returncode, "output": (done.stderr or done.stdout)[-4000:]},
        )
    items = plan_items(raw, body.namespace)
    return MigrationPlan(
        namespace=body.namespace,
        mode=body.mode,
        items=items,
        total=len(items),
        counts=counts_of(raw),
        command=["furu", *args, "--yes"],
        raw=raw,
    )


def apply_migration(tasks: Tasks, body: MigrationRequest) -> Task:
    """Start `furu migrate ... --yes --json` as a task."""
    args = migrate_args(body)
    return tasks.start("migration", [*args, "--yes", "--json"], namespace=body.namespace)


def undo(index: Index, ref: str) -> Undone:
    """Remove the alias `ref` names (`furu.undo_migration`: a store operation, no user code);
    the old result is kept and records the undo.

    Raises:
        ServerError: `migration_failed` when furu refuses (not an alias, recomputed since, or
            being computed), with its message.
    """
    settings = index.settings
    store = furu.Store(settings.resolved_root, version_controlled_root=settings.resolved_vc_root)
    try:
        done = furu.undo_migration(ref, store=store)
    except furu.FuruError as exc:
        raise ServerError(
            ErrorCode.MIGRATION_FAILED, f"the migration {ref} cannot be undone: {exc}", {"ref": ref}
        ) from None
    index.refresh()
    return Undone(
        undone=[UndoneMigration(alias=u.alias, migrated_from=u.migrated_from) for u in done]
    )


# ---------------------------------------------------------------- reading the CLI's JSON


def counts_of(raw: dict[str, Any]) -> dict[str, int]:
    """`counts` of the CLI's JSON (items per status); what is not a count is left out."""
    counts = raw.get("counts")
    if not isinstance(counts, dict):
        return {}
    return {str(k): v for k, v in counts.items() if isinstance(v, int)}


def plan_items(raw: dict[str, Any], namespace: str) -> list[MigrationItem]:
    """The items of `furu migrate --json`'s output (its plan, or its result)."""
    entries = raw.get("migrations")
    return [_item(e, namespace) for e in entries or [] if isinstance(e, dict)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _item(entry: dict[str, Any], namespace: str) -> MigrationItem:
    """One entry of `migrations` (`furu migrate --json`, documented in code-changes.md):
    `namespace`, `old_hash`, `new_hash`, `status`, `reason`, `via`, `changes` of `kind`,
    `field`, `old`, `new`; a value of another type is left out, never an error."""
    changes = [
        MigrationChange(
            field=_text(c.get("field")) or "?",
            kind=_text(c.get("kind")) or "changed",
            old=c.get("old"),
            new=c.get("new"),
        )
        for c in entry.get("changes") or []
        if isinstance(c, dict)
    ]
    via = _text(entry.get("via"))
    return MigrationItem(
        namespace=_text(entry.get("namespace")) or namespace,
        old_hash=_text(entry.get("old_hash")) or "?",
        new_hash=_text(entry.get("new_hash")),
        status=_text(entry.get("status")) or "planned",
        reason=_text(entry.get("reason")),
        changes=changes,
        via=via,
        dependent=via is not None,
    )
