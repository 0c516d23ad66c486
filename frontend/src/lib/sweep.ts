/** Sweep values as people type them: a list (`0.1, 0.3, 1`) or a range (`1:5`, `0:1:0.25`),
 * typed by the field's recorded type (`config_schema`). */

export type FieldType = "int" | "float" | "str" | "bool";

/** The recorded type of a field, when a sweep can take typed values for it. */
export function sweepType(recorded: unknown): FieldType | null {
  return recorded === "int" || recorded === "float" || recorded === "str" || recorded === "bool" ? recorded : null;
}

export type Parsed = { values: unknown[] } | { error: string };

const RANGE_LIMIT = 1000;

function number(field: string, type: FieldType, text: string): number | string {
  const n = Number(text);
  if (text === "" || !Number.isFinite(n)) return `${field}: "${text}" is not a number`;
  if (type === "int" && !Number.isInteger(n)) return `${field}: ${text} is not a whole number (the field is an int)`;
  return n;
}

/** `start:stop[:step]`, stop included (`1:3` is 1, 2, 3; `0:1:0.25` is 0, 0.25, … 1). */
function range(field: string, type: FieldType, parts: string[]): Parsed {
  const nums = parts.map((p) => number(field, type, p.trim()));
  const bad = nums.find((n) => typeof n === "string");
  if (bad !== undefined) return { error: bad as string };
  const [start, stop, step = 1] = nums as number[];
  if (step <= 0) return { error: `${field}: a range's step must be above 0` };
  if (stop < start) return { error: `${field}: a range goes up (${start}:${stop} is empty)` };
  const count = Math.floor((stop - start) / step + 1e-9) + 1;
  if (count > RANGE_LIMIT) return { error: `${field}: the range has ${count} values, more than ${RANGE_LIMIT}` };
  const values = Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  return { values };
}

/** The values `text` names for `field` of `type`; `{error}` names the field and the value. */
export function parseSweepValues(field: string, type: FieldType, text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "") return { values: [] };
  if ((type === "int" || type === "float") && /^[^,]*:[^,]*$/.test(trimmed)) {
    const parts = trimmed.split(":");
    if (parts.length === 2 || parts.length === 3) return range(field, type, parts);
  }
  const values: unknown[] = [];
  for (const raw of trimmed.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    if (type === "str") values.push(item.replace(/^"(.*)"$/, "$1"));
    else if (type === "bool") {
      if (item !== "true" && item !== "false") return { error: `${field}: "${item}" is not true or false` };
      values.push(item === "true");
    } else {
      const n = number(field, type, item);
      if (typeof n === "string") return { error: n };
      values.push(n);
    }
  }
  return { values: [...new Map(values.map((v) => [JSON.stringify(v), v])).values()] };
}

/** How many configurations the axes make (their cartesian product). */
export function combinations(axes: Record<string, unknown[]>): number {
  const sizes = Object.values(axes);
  return sizes.length === 0 ? 0 : sizes.reduce((n, v) => n * v.length, 1);
}
