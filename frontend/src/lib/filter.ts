/**
 * The dashboard's side of the filter language (docs/filter-language.md): the filter builder's
 * conditions, their text form (what the URL and the search box hold), and the server's JSON
 * tree read back into conditions. The server parses the text; this module only writes it.
 */

export type Scalar = string | number | boolean | null;

export type Op =
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "between"
  | "in"
  | "contains"
  | "startswith"
  | "regex"
  | "exists";

export type Condition = {
  path: string;
  op: Op;
  value?: Scalar;
  low?: Scalar;
  high?: Scalar;
  values?: Scalar[];
};

/** The operators the builder offers, with how they read. */
export const OPERATORS: { op: Op; label: string; text: string }[] = [
  { op: "eq", label: "=", text: "=" },
  { op: "ne", label: "≠", text: "!=" },
  { op: "lt", label: "<", text: "<" },
  { op: "le", label: "≤", text: "<=" },
  { op: "gt", label: ">", text: ">" },
  { op: "ge", label: "≥", text: ">=" },
  { op: "between", label: "between", text: "between" },
  { op: "in", label: "in", text: "in" },
  { op: "contains", label: "contains", text: "contains" },
  { op: "startswith", label: "starts with", text: "startswith" },
  { op: "regex", label: "regex", text: "matches" },
  { op: "exists", label: "exists", text: "exists" },
];

const KEYWORDS = new Set([
  "and", "or", "not", "in", "between", "contains", "startswith", "matches", "exists", "true", "false", "null",
]);
const BARE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A value as the text form reads it back: bare when unambiguous, else JSON-quoted. */
export function formatScalar(value: Scalar): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (BARE.test(value) && !KEYWORDS.has(value.toLowerCase()) && !NUMBER.test(value)) return value;
  return JSON.stringify(value);
}

/** What a user typed into a value box, as a JSON scalar (`kind` says what the field holds). */
export function parseScalar(text: string, kind?: "num" | "str" | "bool" | "null" | "mixed"): Scalar {
  const t = text.trim();
  if (kind === "str") return text;
  if (t === "null") return null;
  if (t === "true" || t === "false") return t === "true";
  if (NUMBER.test(t)) return Number(t);
  return text;
}

export function conditionToText(c: Condition): string {
  const op = OPERATORS.find((o) => o.op === c.op)?.text ?? c.op;
  switch (c.op) {
    case "exists":
      return `${c.path} exists`;
    case "between":
      return `${c.path} between ${formatScalar(c.low ?? null)} and ${formatScalar(c.high ?? null)}`;
    case "in":
      return `${c.path} in (${(c.values ?? []).map(formatScalar).join(", ")})`;
    default:
      return `${c.path} ${op} ${formatScalar(c.value ?? null)}`;
  }
}

export function conditionsToText(conditions: Condition[]): string {
  return conditions.map(conditionToText).join(" and ");
}

type Tree = { op?: string; path?: string; args?: Tree[]; [k: string]: unknown };

function leaf(t: Tree): Condition | null {
  if (typeof t.path !== "string" || !t.op) return null;
  const op = t.op as Op;
  if (op === "between") return { path: t.path, op, low: t.low as Scalar, high: t.high as Scalar };
  if (op === "in") return { path: t.path, op, values: (t.values as Scalar[]) ?? [] };
  if (op === "exists") return { path: t.path, op };
  if (OPERATORS.some((o) => o.op === op)) return { path: t.path, op, value: t.value as Scalar };
  return null;
}

/**
 * The server's parsed tree as builder conditions, when it is an `and` of simple conditions
 * (or one condition); null for anything the builder cannot show (`or`, `not`, nesting).
 */
export function treeToConditions(tree: unknown): Condition[] | null {
  if (tree === null || tree === undefined) return [];
  const t = tree as Tree;
  if (t.op === "and" && Array.isArray(t.args)) {
    const out: Condition[] = [];
    for (const arg of t.args) {
      const c = leaf(arg);
      if (!c) return null;
      out.push(c);
    }
    return out;
  }
  const c = leaf(t);
  return c ? [c] : null;
}

/** The class a filter is about (`namespace = X` or `class = X`), for field suggestions. */
export function chosenClass(conditions: Condition[] | null): string | null {
  for (const c of conditions ?? []) {
    if ((c.path === "namespace" || c.path === "class" || c.path === "class_name") && c.op === "eq") {
      return typeof c.value === "string" ? c.value : null;
    }
  }
  return null;
}

/** Paths every experiment has (besides `config.*`), offered by the field picker. */
export const TOP_LEVEL_FIELDS: { path: string; kind: "num" | "str" | "bool" }[] = [
  { path: "status", kind: "str" },
  { path: "attempt_status", kind: "str" },
  { path: "namespace", kind: "str" },
  { path: "class", kind: "str" },
  { path: "hash", kind: "str" },
  { path: "name", kind: "str" },
  { path: "tags", kind: "str" },
  { path: "backend", kind: "str" },
  { path: "hostname", kind: "str" },
  { path: "user", kind: "str" },
  { path: "created_at", kind: "str" },
  { path: "updated_at", kind: "str" },
  { path: "started_at", kind: "str" },
  { path: "ended_at", kind: "str" },
  { path: "runtime", kind: "num" },
  { path: "resources.wall_sec", kind: "num" },
  { path: "resources.cpu_user_sec", kind: "num" },
  { path: "resources.cpu_system_sec", kind: "num" },
  { path: "resources.peak_rss_bytes", kind: "num" },
  { path: "resources.gpu_peak_memory_bytes", kind: "num" },
  { path: "resources.gpu_utilization_pct", kind: "num" },
  { path: "attempts", kind: "num" },
  { path: "n_dependencies", kind: "num" },
  { path: "size_bytes", kind: "num" },
  { path: "version_controlled", kind: "bool" },
  { path: "error_type", kind: "str" },
  { path: "error_message", kind: "str" },
  { path: "meta.git_commit", kind: "str" },
  { path: "meta.command", kind: "str" },
];

/** Values a field is known to take (the builder shows them as a dropdown). */
export const KNOWN_VALUES: Record<string, Scalar[]> = {
  status: ["absent", "incomplete", "success", "failed"],
  attempt_status: ["queued", "running", "success", "failed", "cancelled", "preempted", "crashed"],
  version_controlled: [true, false],
};
