/**
 * Reading a recorded config (`to_dict` JSON): its leaves as `path -> value` (the same paths the
 * filter language and the server's index use: `model.lr`, `layers.0`), and its nested steps.
 */

export type Leaf = { path: string; value: unknown };

// The tagged-JSON vocabulary of furu-core (`furu._tagged`): these readers and the core's agree on
// the golden cases in packages/furu-core/tests/fixtures/tagged_json_golden.json (config.test.ts).
const LIST_TAGS = ["__tuple__", "__set__", "__frozenset__"];
const TEXT_TAGS = ["__path__", "__datetime__", "__date__", "__time__", "__bytes__", "__int__"];
const SUMMARY_TAGS = ["__ndarray__", "__ndarray_summary__", "__bytes_summary__"];

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** A class reference (`pkg.mod:Outer.Inner`, or `pkg.mod.Outer.Inner` in older records) as its
 * namespace, `pkg.mod.Outer.Inner`: how listings and filters name a class. */
export function classNamespace(ref: string): string {
  return ref.replace(":", ".");
}

/** JSON text as Python's `json.dumps(value, sort_keys=True)` writes it (the index's form). */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value as Record<string, unknown>).toSorted();
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${pythonJson((value as Record<string, unknown>)[k])}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

function tagOf(obj: Record<string, unknown>): string | null {
  if ("__class__" in obj) return null;
  const keys = Object.keys(obj);
  const tag = keys[0] ?? "";
  if (!(tag.startsWith("__") && tag.endsWith("__") && tag.length > 4)) return null;
  return tag === "__enum__" || tag === "__repr__" || keys.length === 1 ? tag : null;
}

/** A tagged value (`{"__tuple__": [...]}`, `{"__path__": "..."}`) as the plain value it holds. */
export function untag(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const tag = tagOf(obj);
  if (tag === null) return value;
  const inner = obj[tag];
  if (LIST_TAGS.includes(tag) && Array.isArray(inner)) return inner;
  if (TEXT_TAGS.includes(tag)) return String(inner);
  if (tag === "__type__") return classNamespace(String(inner));
  if (tag === "__float__") return Number(String(inner).replace("inf", "Infinity"));
  if (tag === "__timedelta__" && typeof inner === "number") return inner;
  if (tag === "__enum__") return String(obj.name);
  if (tag === "__repr__") return String(inner);
  if (tag === "__dict__" && Array.isArray(inner)) {
    const out: Record<string, unknown> = {};
    for (const pair of inner) {
      if (Array.isArray(pair) && pair.length === 2) {
        out[typeof pair[0] === "string" ? pair[0] : pythonJson(pair[0])] = pair[1];
      }
    }
    return out;
  }
  if (SUMMARY_TAGS.includes(tag)) return pythonJson(inner);
  return value;
}

/** Every leaf of a config, in order; a nested step's `__class__` is a leaf too. */
export function flattenConfig(config: unknown, prefix = ""): Leaf[] {
  const out: Leaf[] = [];
  const walk = (raw: unknown, path: string) => {
    if (isStep(raw)) {
      for (const [k, v] of Object.entries(raw)) {
        if (k === "__class__") out.push({ path: join(path, k), value: classNamespace(raw.__class__) });
        else walk(v, join(path, k));
      }
      return;
    }
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

/** `pkg.mod:Outer.Class` (or `pkg.mod.Class`) -> `Class`. */
export function shortClass(qualified: string): string {
  return qualified.slice(Math.max(qualified.lastIndexOf("."), qualified.lastIndexOf(":")) + 1);
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
