/**
 * The dashboard's logic for code changes (ADR 0005): stale reasons, the "stale" quick filter,
 * how a migration's field changes read, and the migration request the helper sends.
 */

/** The stable kind of a stale reason (`fields-changed: ...` -> `fields-changed`). */
export function staleKind(reason: string | null | undefined): string | null {
  if (!reason) return null;
  const m = /^([a-z][a-z-]*)\s*:/.exec(reason.trim());
  return m ? m[1] : null;
}

/** A stale reason without its kind prefix, as a sentence. */
export function staleText(reason: string | null | undefined): string {
  if (!reason) return "the current code would no longer produce this directory";
  const kind = staleKind(reason);
  return kind ? reason.trim().slice(kind.length + 1).trim() || kind : reason.trim();
}

const STALE_CONDITION = /(^|\s+and\s+)\(?\s*stale\s*=\s*true\s*\)?(?=\s+and\s+|\s*$)/i;

/** Whether a filter's text already asks for stale experiments only. */
export function hasStaleFilter(q: string): boolean {
  return STALE_CONDITION.test(q.trim());
}

/** The filter with `stale = true` added (and-ed to what is there) or removed. */
export function toggleStaleFilter(q: string): string {
  const t = q.trim();
  if (hasStaleFilter(t)) {
    const rest = t.replace(STALE_CONDITION, "").trim();
    return rest.replace(/^and\s+/i, "").trim();
  }
  if (!t) return "stale = true";
  const simple = !/\b(or|not)\b/i.test(t);
  return simple ? `${t} and stale = true` : `(${t}) and stale = true`;
}

/** The filter of the aliases migrations made from experiments of one class. */
export function aliasesOfClass(namespace: string): string {
  return `migrated_from startswith ${JSON.stringify(`${namespace}/`)}`;
}

/** Old hash -> the alias it was migrated to, from the aliases (`migrated_from` of each). */
export function migratedAway(aliases: { hash: string; migrated_from?: string | null }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of aliases) {
    if (!a.migrated_from) continue;
    const old = a.migrated_from.slice(a.migrated_from.lastIndexOf("/") + 1);
    if (old) out.set(old, a.hash);
  }
  return out;
}

/** The filter of the stale experiments of one class. */
export function staleOfClass(namespace: string): string {
  return `namespace = ${namespace} and stale = true`;
}

export type FieldChange = { field: string; kind: string; old?: unknown; new?: unknown };

function show(v: unknown): string {
  if (v === undefined) return "–";
  if (typeof v === "string") return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One field change as a sentence: "`average` is new (False)", "`lr` 0.1 → 0.03". */
export function changeText(c: FieldChange): string {
  switch (c.kind) {
    case "added":
      return `${c.field} is new (${show(c.new)})`;
    case "removed":
      return `${c.field} was removed (was ${show(c.old)})`;
    case "renamed":
      return `${show(c.old).replace(/^"|"$/g, "")} renamed to ${c.field}`;
    case "changed":
      return `${c.field}: ${show(c.old)} → ${show(c.new)}`;
    case "dependency":
      return `${c.field}: its dependency ${String(c.old ?? "").slice(0, 9)}… → ${String(c.new ?? "").slice(0, 9)}…`;
    case "retyped":
      return `${c.field} changed type (${show(c.old)} → ${show(c.new)})`;
    default:
      return `${c.field}: ${c.kind}${c.old !== undefined || c.new !== undefined ? ` ${show(c.old)} → ${show(c.new)}` : ""}`;
  }
}

/** The fields a migration adds (from the plan's changes), each once, in order. */
export function addedFields(items: { changes?: FieldChange[] }[]): string[] {
  const out: string[] = [];
  for (const it of items) for (const c of it.changes ?? []) if (c.kind === "added" && !out.includes(c.field)) out.push(c.field);
  return out;
}

/**
 * What the user typed for a field, as the JSON value the migration sets, typed by the field's
 * type in the manifest (`bool`, `int`, `float`, `str`, ...). Throws with the field named when
 * the text is not a value of that type.
 */
export function fieldValue(field: string, type: string | undefined, text: string): unknown {
  const t = text.trim();
  const base = (type ?? "").replace(/^typing\./, "").replace(/^builtins\./, "").toLowerCase();
  if (base === "str") return text;
  if (base === "bool") {
    if (/^(true|1|yes)$/i.test(t)) return true;
    if (/^(false|0|no)$/i.test(t)) return false;
    throw new Error(`${field} is a bool: type true or false, not ${JSON.stringify(text)}`);
  }
  if (base === "int" || base === "float") {
    const n = Number(t);
    if (t === "" || !Number.isFinite(n) || (base === "int" && !Number.isInteger(n))) {
      throw new Error(`${field} is ${base === "int" ? "an int" : "a float"}: ${JSON.stringify(text)} is not one`);
    }
    return n;
  }
  if (t === "") throw new Error(`${field}: type a value (JSON, e.g. 0.5, "text", [1, 2] or null)`);
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

export type MigrationMode = "default" | "value" | "only";

export type MigrationChoice = {
  namespace: string;
  mode: MigrationMode;
  /** Text typed per field (mode "value", or "only" with values). */
  values: Record<string, string>;
  /** The experiments chosen (mode "only"). */
  hashes: string[];
  /** Field types (from the manifest), to type the values. */
  types: Record<string, string>;
};

export type MigrationBody = {
  namespace: string;
  mode: MigrationMode;
  values: Record<string, unknown>;
  hashes: string[];
};

/**
 * The body of `POST /api/migrations/preview|apply` for what the helper shows. Throws an
 * `Error` naming what is missing or wrong (no experiment chosen, a value of the wrong type).
 */
export function migrationBody(c: MigrationChoice): MigrationBody {
  const values: Record<string, unknown> = {};
  if (c.mode !== "default") {
    for (const [field, text] of Object.entries(c.values)) {
      if (c.mode === "only" && text.trim() === "") continue;
      values[field] = fieldValue(field, c.types[field], text);
    }
  }
  if (c.mode === "value" && Object.keys(values).length === 0) {
    throw new Error("Set a value for at least one new field, or choose “new default”.");
  }
  if (c.mode === "only" && c.hashes.length === 0) {
    throw new Error("Choose the experiments to migrate (tick them in the list).");
  }
  return { namespace: c.namespace, mode: c.mode, values, hashes: c.mode === "only" ? [...c.hashes] : [] };
}

/** Whether an API error says the store has no code manifest yet (`furu manifest` never ran). */
export function dagIsMissingManifest(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const e = error as { code?: string; status?: number };
  return e.code === "manifest_not_found" || (e.status === 404 && e.code !== "route_not_found");
}

export type ResultItem = { namespace: string; old_hash: string; new_hash: string | null; status: string; reason: string | null };

/**
 * The experiments a finished migration task reports (`furu migrate --json` prints
 * `migrations`; the server's plan calls them `items`); [] when it reports none.
 */
export function resultItems(result: unknown, namespace: string): ResultItem[] {
  if (!result || typeof result !== "object") return [];
  const r = result as Record<string, unknown>;
  const list = Array.isArray(r.items) ? r.items : Array.isArray(r.migrations) ? r.migrations : [];
  return list
    .filter((x): x is Record<string, unknown> => !!x && typeof x === "object" && typeof (x as Record<string, unknown>).old_hash === "string")
    .map((x) => ({
      namespace: typeof x.namespace === "string" ? x.namespace : namespace,
      old_hash: x.old_hash as string,
      new_hash: typeof x.new_hash === "string" ? x.new_hash : null,
      status: typeof x.status === "string" ? x.status : "unknown",
      reason: typeof x.reason === "string" ? x.reason : null,
    }));
}
