/**
 * The table's columns as the URL keeps them (`cols=status,class,result.accuracy,...`): built-in
 * ids and config/result fields (`config.lr`, `result.accuracy`,
 * `downstream.Evaluate.result.accuracy`), whose values come with the search response.
 */
import type { SortKey } from "@/api/client";

const FIELD_PREFIXES = ["config.", "result.", "downstream."];

/** Whether a column id is a config or result field (its values come in `values`). */
export function isFieldColumn(id: string): boolean {
  return FIELD_PREFIXES.some((p) => id.startsWith(p));
}

/** The field columns, in table order: what the search asks for in `columns`. */
export function fieldColumns(columns: string[]): string[] {
  return columns.filter(isFieldColumn).slice(0, 16);
}

/** `columns` with `id` added right after Class (after the fields already placed there). */
export function insertColumn(columns: string[], id: string): string[] {
  if (columns.includes(id)) return columns;
  const at = columns.indexOf("class");
  if (at < 0) return isFieldColumn(id) ? [...columns, id] : [...columns, id];
  if (!isFieldColumn(id)) return [...columns, id];
  let end = at + 1;
  while (end < columns.length && isFieldColumn(columns[end] ?? "")) end += 1;
  return [...columns.slice(0, end), id, ...columns.slice(end)];
}

/** `columns` with `id` moved by `delta` places (clamped at both ends). */
export function moveColumn(columns: string[], id: string, delta: number): string[] {
  const from = columns.indexOf(id);
  if (from < 0) return columns;
  const to = Math.max(0, Math.min(columns.length - 1, from + delta));
  if (to === from) return columns;
  const next = columns.filter((c) => c !== id);
  next.splice(to, 0, id);
  return next;
}

/** `columns` with `id` placed where `target` is (a header dropped on another). */
export function dropColumn(columns: string[], id: string, target: string): string[] {
  const to = columns.indexOf(target);
  if (to < 0 || id === target) return columns;
  return moveColumn(columns, id, to - columns.indexOf(id));
}

/**
 * The URL's `sort` as the search takes it: a built-in key, or a field (`sort=result.accuracy`
 * sends `sort_field`).
 */
export function sortOf(sort: string | undefined): { sort: SortKey; sortField: string | null } {
  if (sort && isFieldColumn(sort)) return { sort: "updated", sortField: sort };
  return { sort: (sort as SortKey | undefined) ?? "updated", sortField: null };
}

/** The header of a field column: its last part, with the class of a downstream one. */
export function fieldLabel(id: string): string {
  if (id.startsWith("downstream.")) {
    const [, cls, , ...rest] = id.split(".");
    return `${cls} ▸ ${rest.join(".")}`;
  }
  return id.slice(id.indexOf(".") + 1);
}
