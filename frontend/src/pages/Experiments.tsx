import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { GitCompareArrowsIcon, HistoryIcon, RotateCcwIcon, Trash2Icon, XIcon } from "lucide-react";
import { useCallback, useEffect, useRef, useState } from "react";

import { refOf, type ExperimentSummary, type Order, type SortKey } from "@/api/client";
import { useDeleteExperiment, useInvalidateExperiment, useParsedFilter } from "@/api/queries";
import { ColumnPicker } from "@/components/ColumnPicker";
import { ConfirmDialog } from "@/components/ConfirmDialog";
import { DEFAULT_COLUMNS, ExperimentsTable } from "@/components/ExperimentsTable";
import { FilterBar } from "@/components/FilterBar";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/input";
import { hasStaleFilter, toggleStaleFilter } from "@/lib/evolution";
import { chosenClass, treeToConditions } from "@/lib/filter";
import { useKeys } from "@/lib/keyboard";
import { usePagedExperiments } from "@/lib/paging";

const route = getRouteApi("/experiments");
const COLS_KEY = "furu-columns";

function savedColumns(): string[] {
  try {
    const saved = localStorage.getItem(COLS_KEY);
    return saved ? saved.split(",") : DEFAULT_COLUMNS;
  } catch {
    return DEFAULT_COLUMNS;
  }
}

export function ExperimentsPage() {
  const search = route.useSearch();
  const navigate = useNavigate({ from: "/experiments" });
  const q = search.q ?? "";
  const sort: SortKey = search.sort ?? "updated";
  const order: Order = search.order ?? "desc";
  const columns = search.cols ? search.cols.split(",") : savedColumns();
  const [range, setRange] = useState({ start: 0, end: 40 });
  const [knownTotal, setKnownTotal] = useState<number | null>(null);
  const listing = { query: q, sort, order };
  const paged = usePagedExperiments(listing, range, knownTotal);
  useEffect(() => setKnownTotal(paged.total), [paged.total]);
  const [selected, setSelected] = useState<Map<string, ExperimentSummary>>(new Map());
  const [focus, setFocus] = useState(-1);
  const [confirm, setConfirm] = useState<null | "delete" | "invalidate">(null);
  const [withDependents, setWithDependents] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const del = useDeleteExperiment();
  const inv = useInvalidateExperiment();

  const setSearch = (changes: Partial<typeof search>) =>
    navigate({ search: (prev) => ({ ...prev, ...changes }), replace: false });
  const onRange = useCallback((start: number, end: number) => setRange({ start, end }), []);
  const open = (e: ExperimentSummary) =>
    navigate({ to: "/experiments/$namespace/$hash", params: { namespace: e.namespace, hash: e.hash } });
  const toggle = (e: ExperimentSummary) =>
    setSelected((prev) => {
      const next = new Map(prev);
      if (next.has(refOf(e))) next.delete(refOf(e));
      else next.set(refOf(e), e);
      return next;
    });
  const compare = () => {
    if (selected.size >= 2) void navigate({ to: "/compare", search: { ids: [...selected.keys()].join(",") } });
  };
  useEffect(() => {
    const on = () => compare();
    window.addEventListener("furu:compare", on);
    return () => window.removeEventListener("furu:compare", on);
  });
  const total = paged.total ?? 0;
  useKeys({
    "/": () => searchRef.current?.focus(),
    j: () => setFocus((f) => Math.min(f + 1, total - 1)),
    k: () => setFocus((f) => Math.max(f - 1, 0)),
    ArrowDown: () => setFocus((f) => Math.min(f + 1, total - 1)),
    ArrowUp: () => setFocus((f) => Math.max(f - 1, 0)),
    Enter: () => {
      const e = paged.rowAt(focus);
      if (e) void open(e);
    },
    x: () => {
      const e = paged.rowAt(focus);
      if (e) toggle(e);
    },
  });

  const refs = [...selected.values()];
  const setColumns = (cols: string[]) => {
    try {
      localStorage.setItem(COLS_KEY, cols.join(","));
    } catch {
      /* not persisted */
    }
    void setSearch({ cols: cols.join(",") });
  };
  const parsed = useParsedFilter(q);
  const klass = q.trim() && parsed.data ? chosenClass(treeToConditions(parsed.data.filter)) : null;

  return (
    <div className="grid gap-3">
      <div className="flex items-center gap-3">
        <h1 className="text-lg font-semibold">Experiments</h1>
        <span className="text-sm text-muted-foreground" data-testid="experiments-total" data-query={paged.shownQuery ?? undefined}>
          {paged.total === null ? "…" : `${paged.total.toLocaleString("en-US")} experiment${paged.total === 1 ? "" : "s"}`}
          {paged.fetching && paged.total !== null && " · updating"}
        </span>
        <div className="ml-auto flex items-center gap-2">
          <Button
            size="sm"
            variant={hasStaleFilter(q) ? "default" : "outline"}
            aria-pressed={hasStaleFilter(q)}
            data-testid="stale-chip"
            title="Only the experiments the current code would no longer produce (filter: stale = true)"
            onClick={() => void setSearch({ q: toggleStaleFilter(q) || undefined })}
          >
            <HistoryIcon /> stale
          </Button>
          <ColumnPicker columns={columns} onChange={setColumns} klass={klass} />
        </div>
      </div>
      <FilterBar ref={searchRef} q={q} onChange={(next) => void setSearch({ q: next || undefined })} />
      {selected.size > 0 && (
        <div className="flex flex-wrap items-center gap-2 rounded-lg border bg-accent/50 px-3 py-2 text-sm" data-testid="bulk-bar">
          <span className="font-medium">{selected.size} selected</span>
          <Button size="sm" variant="outline" disabled={selected.size < 2} onClick={compare}>
            <GitCompareArrowsIcon /> Compare
          </Button>
          <Button size="sm" variant="outline" onClick={() => setConfirm("invalidate")}>
            <RotateCcwIcon /> Invalidate
          </Button>
          <Button size="sm" variant="outline" className="text-destructive" onClick={() => setConfirm("delete")}>
            <Trash2Icon /> Delete
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setSelected(new Map())}>
            <XIcon /> Clear
          </Button>
        </div>
      )}
      {paged.error && !paged.first?.data ? (
        <ErrorState error={paged.error} retry={() => void paged.first?.refetch()} />
      ) : paged.total === null ? (
        <LoadingState rows={8} label="Loading experiments" />
      ) : paged.total === 0 ? (
        <div className="rounded-lg border bg-card">
          {q ? (
            <EmptyState title="No experiment matches this filter">Change or clear the filter above.</EmptyState>
          ) : (
            <EmptyState title="This store has no experiments yet">
              Run a pipeline whose steps write to this store (its <code>FURU_PATH</code>); they appear here as they are
              created.
            </EmptyState>
          )}
        </div>
      ) : (
        <>
          {paged.error && <ErrorState error={paged.error} />}
          <ExperimentsTable
            total={paged.total}
            rowAt={paged.rowAt}
            columns={columns}
            sort={sort}
            order={order}
            onSort={(s, o) => void setSearch({ sort: s, order: o })}
            onRange={onRange}
            selected={selected}
            onToggle={toggle}
            onToggleAll={(rows, on) =>
              setSelected((prev) => {
                const next = new Map(prev);
                for (const e of rows) {
                  if (on) next.set(refOf(e), e);
                  else next.delete(refOf(e));
                }
                return next;
              })
            }
            focus={focus}
            onFocus={setFocus}
            onOpen={(e) => void open(e)}
          />
        </>
      )}
      <ConfirmDialog
        open={confirm === "delete"}
        onOpenChange={(o) => setConfirm(o ? "delete" : null)}
        title={`Delete ${selected.size} experiment${selected.size === 1 ? "" : "s"}?`}
        confirm="Delete"
        onConfirm={async () => {
          for (const e of refs) await del.mutateAsync({ namespace: e.namespace, hash: e.hash });
          setSelected(new Map());
        }}
      >
        Their directories (results, logs, metadata) are removed from the store. This cannot be undone.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "invalidate"}
        onOpenChange={(o) => setConfirm(o ? "invalidate" : null)}
        title={`Invalidate ${selected.size} experiment${selected.size === 1 ? "" : "s"}?`}
        confirm="Invalidate"
        onConfirm={async () => {
          for (const e of refs)
            await inv.mutateAsync({ ref: { namespace: e.namespace, hash: e.hash }, dependents: withDependents });
          setSelected(new Map());
        }}
      >
        <p>Their cached results are dropped: the next <code>load_or_create()</code> computes them again.</p>
        <label className="mt-2 flex items-center gap-2 text-foreground">
          <Checkbox checked={withDependents} onChange={(e) => setWithDependents(e.target.checked)} />
          also everything that depends on them
        </label>
      </ConfirmDialog>
    </div>
  );
}
