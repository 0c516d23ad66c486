/**
 * Reading a recorded config (`to_dict` JSON): its leaves as `path -> value` (the same paths the
 * filter language and the server's index use: `model.lr`, `layers.0`), and its nested steps.
 */

export type Leaf = { path: string; value: unknown };

const LIST_TAGS = ["__tuple__", "__set__", "__frozenset__"];
const TEXT_TAGS = ["__path__", "__datetime__", "__date__", "__time__", "__type__", "__bytes__"];

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** A tagged value (`{"__tuple__": [...]}`, `{"__path__": "..."}`) as the plain value it holds. */
export function untag(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 || "__enum__" in obj) {
    const tag = keys[0] ?? "";
    if (LIST_TAGS.includes(tag) && Array.isArray(obj[tag])) return obj[tag];
    if (TEXT_TAGS.includes(tag)) return String(obj[tag]);
    if (tag === "__float__") return Number(obj[tag]);
    if (tag === "__timedelta__") return obj[tag];
    if ("__enum__" in obj) return String(obj.name ?? obj.__enum__);
  }
  return value;
}

/** Every leaf of a config, in order; a nested step's `__class__` is a leaf too. */
export function flattenConfig(config: unknown, prefix = ""): Leaf[] {
  const out: Leaf[] = [];
  const walk = (raw: unknown, path: string) => {
    const value = untag(raw);
    if (Array.isArray(value)) {
      if (value.length === 0) out.push({ path, value: [] });
      value.forEach((item, i) => walk(item, join(path, String(i))));
    } else if (value && typeof value === "object") {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) out.push({ path, value: {} });
      for (const [k, v] of entries) walk(v, join(path, k));
    } else {
      out.push({ path, value });
    }
  };
  walk(config, prefix);
  return out;
}

/** The value at a dotted path of a config (tags read through), or undefined. */
export function valueAt(config: unknown, path: string): unknown {
  let cur: unknown = config;
  for (const part of path.split(".")) {
    cur = untag(cur);
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return untag(cur);
}

/** Is this config node a furu step (it names its class)? */
export function isStep(value: unknown): value is Record<string, unknown> & { __class__: string } {
  return !!value && typeof value === "object" && typeof (value as { __class__?: unknown }).__class__ === "string";
}

/** `pkg.mod.Class` -> `Class`. */
export function shortClass(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf(".") + 1);
}

/** Leaves of several configs side by side, and whether each path differs between them. */
export function compareConfigs(configs: unknown[]): { path: string; values: unknown[]; differs: boolean }[] {
  const flat = configs.map((c) => new Map(flattenConfig(c).map((l) => [l.path, l.value])));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const m of flat) for (const p of m.keys()) if (!seen.has(p)) { seen.add(p); paths.push(p); }
  return paths.map((path) => {
    const values = flat.map((m) => m.get(path));
    const first = JSON.stringify(values[0]);
    return { path, values, differs: values.some((v) => JSON.stringify(v) !== first) };
  });
}
