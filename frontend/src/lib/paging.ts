/**
 * Rows of a filtered, sorted listing fetched page by page as they scroll into view, so a table
 * over 100,000 experiments asks only for what is on screen.
 */
import { keepPreviousData, useQueries } from "@tanstack/react-query";
import { useState } from "react";

import type { ExperimentList, ExperimentSummary, Order, SortKey } from "@/api/client";
import { keys, searchExperiments } from "@/api/queries";

import { useRefetchInterval } from "./refresh";

export const PAGE = 100;

type Held = { signature: string; byPage: Map<number, ExperimentList>; total: number };

export type Listing = {
  query: string;
  sort: SortKey;
  order: Order;
  /** A config or result field to sort by instead of `sort`. */
  sortField?: string | null;
  /** Config and result fields each row carries in `values` (no request per row). */
  columns?: string[];
};

export function pagesFor(start: number, end: number, total: number | null): number[] {
  const last = total === null ? 0 : Math.max(0, Math.ceil(total / PAGE) - 1);
  const from = Math.min(Math.floor(Math.max(start, 0) / PAGE), last);
  const to = Math.min(Math.floor(Math.max(end, 0) / PAGE), last);
  const out: number[] = [];
  for (let p = from; p <= to; p++) out.push(p);
  return out.includes(0) ? out : [0, ...out];
}

export function usePagedExperiments(listing: Listing, range: { start: number; end: number }, knownTotal: number | null) {
  const interval = useRefetchInterval();
  const pages = pagesFor(range.start, range.end, knownTotal);
  const results = useQueries({
    queries: pages.map((page) => {
      const params = { ...listing, limit: PAGE, offset: page * PAGE };
      return {
        queryKey: keys.search(params),
        queryFn: () => searchExperiments(params),
        placeholderData: page === 0 ? keepPreviousData : undefined,
        refetchInterval: interval,
        retry: (n: number, err: unknown) => !(err as { code?: string }).code?.startsWith("filter") && n < 2,
      };
    }),
  });
  const first = results[0];
  const byPage = new Map<number, ExperimentList>();
  pages.forEach((p, i) => {
    const data = results[i]?.data;
    if (data) byPage.set(p, data);
  });
  // A new sort, filter or set of columns has new query keys (no previous data to keep): the
  // rows shown before stay until its first page arrives, so the table is not torn down (the
  // sort header pressed keeps its focus) and nothing flickers.
  // (State set while rendering, as React documents for "information from previous renders":
  // it changes only when the fetched pages do.)
  const signature = pages.map((p, i) => `${p}:${results[i]?.dataUpdatedAt ?? 0}`).join(",");
  const [held, setHeld] = useState<Held | null>(null);
  if (first?.data && held?.signature !== signature) {
    setHeld({ signature, byPage, total: first.data.total });
  }
  const holding = !first?.data && !first?.error && held !== null;
  const shown = holding && held ? held.byPage : byPage;
  const rowAt = (index: number): ExperimentSummary | undefined =>
    shown.get(Math.floor(index / PAGE))?.items[index % PAGE];
  return {
    total: first?.data?.total ?? (holding && held ? held.total : null),
    first,
    rowAt,
    /** The listing the shown rows belong to (differs from `listing` while a new one loads). */
    shownQuery: first?.isPlaceholderData ? null : first?.data ? listing.query : null,
    error: results.find((r) => r.error)?.error ?? null,
    /** The index's state as the first page reported it (building: `built` false). */
    index: first?.data?.index ?? null,
    fetching: results.some((r) => r.isFetching),
  };
}
