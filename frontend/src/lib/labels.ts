/**
 * Runs people can tell apart: a label and a colour for each experiment a page shows.
 *
 * An experiment named in the code (a `FuruList`: `baseline`, `lr=0.01`) or by the user keeps
 * that name. Every other one gets an automatic label made of the config fields that differ
 * among the experiments shown (`lr=0.3, l2=0.01`), so three Evaluates read as three runs, not
 * as three copies of "Evaluate". Colours are given per run, in the page's order, so a run has
 * the same colour in every chart of the page. One place computes both, for every page.
 */
import { untag } from "./config";
import { formatMetric, formatValue } from "./format";

/** One experiment as the labeller sees it: its ref, its name (if any) and its fields. */
export type Run = {
  id: string;
  name?: string | null;
  /** Flat `path -> value`: config leaves (`flattenConfig`) or the search's `values`. */
  fields: Record<string, unknown> | Map<string, unknown>;
};

/** At most this many fields make an automatic label; the rest is in the label's tooltip. */
export const MAX_LABEL_FIELDS = 3;

/** Relative tolerance for numbers: two floats that differ only by float noise are equal. */
const FLOAT_TOLERANCE = 1e-12;

function entries(fields: Run["fields"]): [string, unknown][] {
  return fields instanceof Map ? [...fields.entries()] : Object.entries(fields);
}

function get(fields: Run["fields"], path: string): unknown {
  return fields instanceof Map ? fields.get(path) : fields[path];
}

/**
 * Are two recorded values the same? Tagged values are read through (`{"__float__": "inf"}`
 * equals `Infinity`, a tuple equals the list it holds), numbers are compared by value (an
 * integer and its float, float noise), objects regardless of key order, lists element by
 * element. What this says equal is never highlighted as different.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  const x = untag(a);
  const y = untag(b);
  if (typeof x === "number" && typeof y === "number") {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    if (x === y) return true;
    return Math.abs(x - y) <= FLOAT_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
  }
  if (Array.isArray(x) || Array.isArray(y)) {
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  }
  if (x && y && typeof x === "object" && typeof y === "object") {
    const ox = x as Record<string, unknown>;
    const oy = y as Record<string, unknown>;
    const kx = Object.keys(ox);
    if (kx.length !== Object.keys(oy).length) return false;
    return kx.every((k) => k in oy && sameValue(ox[k], oy[k]));
  }
  return x === y;
}

/** Do these values (one per run; `undefined`: the run lacks the field) differ? */
export function differ(values: unknown[]): boolean {
  return values.some((v) => (v === undefined) !== (values[0] === undefined) || !sameValue(v, values[0]));
}

/** A field is part of a label when it tells runs apart and names a setting, not a class. */
function labelled(path: string): boolean {
  return !path.endsWith("__class__");
}

/** The fields whose values differ among the runs, in the order they first appear. */
export function varyingFields(runs: Run[]): string[] {
  if (runs.length < 2) return [];
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const r of runs) {
    for (const [p] of entries(r.fields)) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  return paths.filter((p) => labelled(p) && differ(runs.map((r) => get(r.fields, p))));
}

/**
 * Short names for field paths: the last part (`model.lr` -> `lr`, `config.lr` -> `lr`), longer
 * only where two paths would share it (`model.lr`, `opt.lr` -> `model.lr`, `opt.lr`).
 */
export function shortNames(paths: string[]): Map<string, string> {
  const parts = paths.map((p) => p.replace(/^config\./, "").split("."));
  const out = new Map<string, string>();
  const suffix = (i: number, n: number) => parts[i].slice(Math.max(0, parts[i].length - n)).join(".");
  paths.forEach((p, i) => {
    let n = 1;
    while (n < parts[i].length && paths.some((_, j) => j !== i && suffix(j, n) === suffix(i, n))) n += 1;
    out.set(p, suffix(i, n));
  });
  return out;
}

/** A value as a label shows it: numbers short (`0.3`, `1e-4`, `12,345`), text as it is. */
export function labelValue(value: unknown): string {
  const v = untag(value);
  if (typeof v === "number") return formatMetric(v);
  return formatValue(v);
}

/** `lr=0.3, l2=0.01`: a run's values of the varying fields (those it has), at most `max`. */
export function fieldLabel(fields: Run["fields"], varying: string[], names = shortNames(varying), max = MAX_LABEL_FIELDS): string {
  return varying
    .filter((p) => get(fields, p) !== undefined)
    .slice(0, max)
    .map((p) => `${names.get(p) ?? p}=${labelValue(get(fields, p))}`)
    .join(", ");
}

export type Label = { text: string; automatic: boolean; title: string };

/**
 * Each run's label: its name when it has one; else its values of the fields that differ among
 * the runs (`lr=0.3, l2=0.01`); else (nothing differs) the start of its hash.
 */
export function runLabels(runs: Run[], max = MAX_LABEL_FIELDS): Map<string, Label> {
  const varying = varyingFields(runs);
  const names = shortNames(varying);
  const out = new Map<string, Label>();
  for (const r of runs) {
    if (r.name) {
      out.set(r.id, { text: r.name, automatic: false, title: r.name });
      continue;
    }
    const text = fieldLabel(r.fields, varying, names, max);
    const all = fieldLabel(r.fields, varying, names, varying.length);
    const hash = r.id.slice(r.id.lastIndexOf("/") + 1, r.id.lastIndexOf("/") + 9);
    out.set(
      r.id,
      text
        ? { text, automatic: true, title: `automatic label: the fields that differ among the experiments shown (${all})` }
        : { text: hash, automatic: true, title: "nothing tells it apart from the others: its hash" },
    );
  }
  return out;
}

/** Colours that stay apart in light and dark themes; the 11th run takes the first again. */
export const RUN_PALETTE = ["#0d9488", "#6366f1", "#f59e0b", "#ef4444", "#0ea5e9", "#a855f7", "#84cc16", "#ec4899", "#64748b", "#b45309"];

/** One colour per run, by its place among the page's runs: the same in every chart. */
export function runColors(ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of ids) if (!out.has(id)) out.set(id, RUN_PALETTE[out.size % RUN_PALETTE.length]);
  return out;
}

/** The ways a run's second, third... column is drawn, so columns of one run stay its colour. */
export const DASHES = [undefined, "6 3", "2 2", "8 3 2 3"];

/**
 * Labels for runs of several classes (a lineage): runs are told apart among those of their own
 * class (`group`), so a TrainModel's label names what differs among the TrainModels. A run alone
 * in its class gets no automatic label (only its name, if it has one).
 */
export function labelsByGroup(runs: (Run & { group: string })[], max = MAX_LABEL_FIELDS): Map<string, Label> {
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const out = new Map<string, Label>();
  for (const members of groups.values()) {
    if (members.length === 1) {
      const [only] = members;
      if (only.name) out.set(only.id, { text: only.name, automatic: false, title: only.name });
      continue;
    }
    for (const [id, label] of runLabels(members, max)) out.set(id, label);
  }
  return out;
}
