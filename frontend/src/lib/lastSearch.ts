/**
 * The Experiments page's last search (filter, sort, columns, selection), so "← Experiments"
 * from an experiment returns to the table as it was left, not to a reset one.
 */
import type { ExperimentsSearch } from "@/router";

const KEY = "furu-experiments-search";
let last: ExperimentsSearch | null = null;

export function rememberExperimentsSearch(search: ExperimentsSearch): void {
  last = search;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(search));
  } catch {
    /* kept in this page only */
  }
}

export function lastExperimentsSearch(): ExperimentsSearch {
  if (last) return last;
  try {
    const saved = sessionStorage.getItem(KEY);
    if (saved) return JSON.parse(saved) as ExperimentsSearch;
  } catch {
    /* nothing kept */
  }
  return {};
}
