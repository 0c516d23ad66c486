import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { useQueryClient } from "@tanstack/react-query";
import { CalendarRangeIcon, GitCompareArrowsIcon, HistoryIcon, PlayIcon, RotateCcwIcon, SkipForwardIcon, Trash2Icon, XIcon } from "lucide-react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiError, parseRef, refOf, type ExperimentSummary, type Order } from "@/api/client";
import { useDeleteExperiment, useInvalidateExperiment, useParsedFilter, useServerUp } from "@/api/queries";
import { BatchDialog, type BatchMode } from "@/components/BatchDialog";
import { ColumnPicker } from "@/components/ColumnPicker";
import { ConfirmDialog } from "@/components/ConfirmDialog";
import { InvalidatePlan } from "@/components/InvalidatePlan";
import { DEFAULT_COLUMNS, ExperimentsTable } from "@/components/ExperimentsTable";
import { FilterBar } from "@/components/FilterBar";
import { EmptyState, ErrorState, IndexingNotice, LoadingState } from "@/components/States";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/input";
import { dropColumn, fieldColumns, sortOf } from "@/lib/columns";
import { hasStaleFilter, toggleStaleFilter } from "@/lib/evolution";
import { chosenClass, treeToConditions } from "@/lib/filter";
import { useKeys } from "@/lib/keyboard";
import { rememberExperimentsSearch } from "@/lib/lastSearch";
import { PAGE, usePagedExperiments } from "@/lib/paging";

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

/** A filter the server refused (syntax, unknown field): the last good rows stay shown. */
function filterProblem(error: unknown): ApiError | null {
  return error instanceof ApiError && error.code.startsWith("filter") ? error : null;
}

export function ExperimentsPage() {
  const search = route.useSearch();
  const navigate = useNavigate({ from: "/experiments" });
  const client = useQueryClient();
  const q = search.q ?? "";
  const sortParam = search.sort ?? "updated";
  const { sort, sortField } = sortOf(sortParam);
  const order: Order = search.order ?? "desc";
  const columns = useMemo(() => (search.cols ? search.cols.split(",") : savedColumns()), [search.cols]);
  const fields = useMemo(() => fieldColumns(columns), [columns]);
  useEffect(() => rememberExperimentsSearch(search), [search]);
  const [range, setRange] = useState({ start: 0, end: 40 });
  const [knownTotal, setKnownTotal] = useState<number | null>(null);
  // A filter the server refuses keeps the rows of the last one it took, under one message.
  const [lastGood, setLastGood] = useState(q);
  const [refused, setRefused] = useState<{ q: string; error: ApiError } | null>(null);
  const failing = refused !== null && refused.q === q && lastGood !== q ? refused : null;
  const shownQ = failing ? lastGood : q;
  const listing = { query: shownQ, sort, order, sortField, columns: fields };
  const paged = usePagedExperiments(listing, range, knownTotal);
  useEffect(() => setKnownTotal(paged.total), [paged.total]);
  useEffect(() => {
    if (paged.shownQuery === q && !paged.error) setLastGood(q);
  }, [paged.shownQuery, paged.error, q]);
  const problem = shownQ === q ? filterProblem(paged.error) : null;
  useEffect(() => {
    if (problem && (refused?.q !== q || refused.error.message !== problem.message)) setRefused({ q, error: problem });
  }, [problem, q, refused]);
  const server = useServerUp();
  const indexInfo = server.index ?? paged.index;
  const building = indexInfo !== null && !indexInfo.built;
  const indexed = indexInfo?.experiments;
  useEffect(() => {
    // each new count: the rows read meanwhile
    if (building && indexed !== undefined) void client.invalidateQueries({ queryKey: ["furu", "search"] });
  }, [building, indexed, client]);
  const selectedRefs = useMemo(() => (search.sel ? search.sel.split(",").filter((r) => r.includes("/")) : []), [search.sel]);
  const selected = useMemo(() => new Set(selectedRefs), [selectedRefs]);
  const [focus, setFocus] = useState(-1);
  const [confirm, setConfirm] = useState<null | "delete" | "invalidate">(null);
  const [batch, setBatch] = useState<BatchMode | null>(null);
  const [withDependents, setWithDependents] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const del = useDeleteExperiment();
  const inv = useInvalidateExperiment();

  const setSearch = (changes: Partial<typeof search>) =>
    navigate({ search: (prev) => ({ ...prev, ...changes }), replace: false });
  const setSelected = (refs: string[]) =>
    navigate({ search: (prev) => ({ ...prev, sel: refs.join(",") || undefined }), replace: true });
  // Only a new page of rows re-renders the page: scrolling within the pages already asked
  // for changes nothing here (the table draws its own rows).
  const onRange = useCallback(
    (start: number, end: number) =>
      setRange((prev) =>
        Math.floor(prev.start / PAGE) === Math.floor(start / PAGE) && Math.floor(prev.end / PAGE) === Math.floor(end / PAGE)
          ? prev
          : { start, end },
      ),
    [],
  );
  const open = (e: ExperimentSummary) =>
    navigate({ to: "/experiments/$namespace/$hash", params: { namespace: e.namespace, hash: e.hash } });
  const toggle = (e: ExperimentSummary) => {
    const ref = refOf(e);
    void setSelected(selected.has(ref) ? selectedRefs.filter((r) => r !== ref) : [...selectedRefs, ref]);
  };
  const compare = () => {
    if (selected.size >= 2) void navigate({ to: "/compare", search: { ids: selectedRefs.join(",") } });
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

  const refs = selectedRefs.map(parseRef);
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
          {klass && paged.rowAt(0) && (
            <Button
              size="sm"
              variant="outline"
              data-testid="sweep-class"
              title={`A sweep of ${klass}, starting from the first row's config (the Actions tab of that experiment)`}
              onClick={() => {
                const first = paged.rowAt(0);
                if (first)
                  void navigate({
                    to: "/experiments/$namespace/$hash",
                    params: { namespace: first.namespace, hash: first.hash },
                    search: { tab: "actions" },
                    hash: "sweep",
                  });
              }}
            >
              <CalendarRangeIcon /> Sweep {klass.split(".").at(-1)}…
            </Button>
          )}
          <ColumnPicker columns={columns} onChange={setColumns} klass={klass} />
        </div>
      </div>
      <FilterBar ref={searchRef} q={q} onChange={(next) => void setSearch({ q: next || undefined })} />
      {failing && !parsed.isError && (
        <div role="alert" data-testid="filter-problem" className="-mt-1 rounded-md border border-destructive/40 bg-destructive/5 px-2 py-1 text-xs">
          <span className="text-destructive">{failing.error.message.split("\n")[0]}</span>
          <span className="ml-2 text-muted-foreground">Showing the rows of the last filter that worked.</span>
        </div>
      )}
      {building && indexInfo && <IndexingNotice info={indexInfo} />}
      {selected.size > 0 && (
        <div className="flex flex-wrap items-center gap-2 rounded-lg border bg-accent/50 px-3 py-2 text-sm" data-testid="bulk-bar">
          <span className="font-medium">{selected.size} selected</span>
          <Button size="sm" variant="outline" disabled={selected.size < 2} onClick={compare}>
            <GitCompareArrowsIcon /> Compare
          </Button>
          <Button size="sm" variant="outline" onClick={() => setBatch("rerun")}>
            <PlayIcon /> Rerun these
          </Button>
          <Button size="sm" variant="outline" onClick={() => setBatch("missing")}>
            <SkipForwardIcon /> Run what is missing
          </Button>
          <Button size="sm" variant="outline" onClick={() => setConfirm("invalidate")}>
            <RotateCcwIcon /> Invalidate
          </Button>
          <Button size="sm" variant="outline" className="text-destructive" onClick={() => setConfirm("delete")}>
            <Trash2Icon /> Delete
          </Button>
          <Button size="sm" variant="ghost" onClick={() => void setSelected([])}>
            <XIcon /> Clear
          </Button>
        </div>
      )}
      {paged.error && !paged.first?.data ? (
        problem && (parsed.isError || refused?.q === q) ? (
          <div role="alert" data-testid="filter-problem" className="rounded-md border border-destructive/40 bg-destructive/5 px-2 py-1 text-xs text-destructive">
            {parsed.isError ? "Fix the filter above." : problem.message.split("\n")[0]}
          </div>
        ) : (
          <ErrorState error={paged.error} retry={() => void paged.first?.refetch()} />
        )
      ) : paged.total === null ? (
        <LoadingState rows={8} label="Loading experiments" />
      ) : paged.total === 0 ? (
        <div className="rounded-lg border bg-card">
          {building && indexInfo ? (
            <IndexingNotice info={indexInfo} empty />
          ) : shownQ ? (
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
            sort={sortField ?? sort}
            order={order}
            onSort={(s, o) => void setSearch({ sort: s, order: o })}
            onMove={(id, target) => setColumns(dropColumn(columns, id, target))}
            onRange={onRange}
            selected={selected}
            onToggle={toggle}
            onToggleAll={(rows, on) => {
              const these = new Set(rows.map(refOf));
              const rest = selectedRefs.filter((r) => !these.has(r));
              void setSelected(on ? [...rest, ...these] : rest);
            }}
            focus={focus}
            onFocus={setFocus}
            onOpen={(e) => void open(e)}
          />
        </>
      )}
      {batch && <BatchDialog key={batch} mode={batch} refs={selectedRefs} onClose={() => setBatch(null)} />}
      <ConfirmDialog
        open={confirm === "delete"}
        onOpenChange={(o) => setConfirm(o ? "delete" : null)}
        title={`Delete ${selected.size} experiment${selected.size === 1 ? "" : "s"}?`}
        confirm="Delete"
        onConfirm={async () => {
          for (const e of refs) await del.mutateAsync({ namespace: e.namespace, hash: e.hash });
          void setSelected([]);
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
          void setSelected([]);
        }}
      >
        <p>Their cached results are dropped: the next <code>load_or_create()</code> computes them again.</p>
        <label className="mt-2 flex items-center gap-2 text-foreground">
          <Checkbox checked={withDependents} onChange={(e) => setWithDependents(e.target.checked)} />
          also everything that depends on them
        </label>
        {confirm === "invalidate" && <InvalidatePlan refs={refs} dependents={withDependents} />}
      </ConfirmDialog>
    </div>
  );
}
