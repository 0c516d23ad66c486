import { useVirtualizer } from "@tanstack/react-virtual";
import { ArrowDownIcon, ArrowUpIcon, ArrowUpDownIcon } from "lucide-react";
import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { refOf, type ExperimentSummary, type Order } from "@/api/client";
import { fieldLabel, isFieldColumn } from "@/lib/columns";
import { formatAgo, formatBytes, formatCell, formatDuration, formatPercent, formatTime } from "@/lib/format";
import { fieldLabel as runFieldLabel, shortNames, varyingFields } from "@/lib/labels";
import { cn } from "@/lib/utils";

import { StaleBadge } from "./StaleBadge";
import { ExperimentStatus } from "./StatusBadge";
import { Checkbox } from "./ui/input";

export type Row = { index: number; item?: ExperimentSummary };

/** A config or result cell: the value the search returned in `values` (full value as title). */
function FieldValue({ value }: { value: unknown }) {
  const { text, title } = formatCell(value);
  return (
    <span className={value === undefined ? "font-mono text-xs text-muted-foreground" : "font-mono text-xs"} title={title}>
      {text}
    </span>
  );
}

/** `sort`: the search's sort key (`SortKey`) or field (`config.lr`, `result.accuracy`). */
type Meta = { width: number; sort?: string; align?: "right"; label: string; field?: boolean };

const ROW_HEIGHT = 34;

/** Every built-in column: id, header, width, the sort key it maps to, and how it renders. */
export const BUILTIN_COLUMNS: { id: string; meta: Meta; render: (e: ExperimentSummary) => ReactNode }[] = [
  {
    id: "status",
    meta: { label: "Status", width: 150, sort: "status" },
    render: (e) => (
      <span className="flex items-center gap-1">
        <ExperimentStatus result={e.result_status} attempt={e.attempt_status} />
        <StaleBadge stale={e.stale} kind={e.stale_kind} reason={e.stale_reason} namespace={e.namespace} />
      </span>
    ),
  },
  { id: "class", meta: { label: "Class", width: 150, sort: "class" }, render: (e) => <span className="font-medium" title={e.namespace}>{e.class_name}</span> },
  { id: "namespace", meta: { label: "Namespace", width: 220, sort: "namespace" }, render: (e) => <span className="font-mono text-xs text-muted-foreground">{e.namespace}</span> },
  { id: "name", meta: { label: "Name", width: 150, sort: "name" }, render: (e) => nameCell(e, []) },
  { id: "hash", meta: { label: "Hash", width: 120, sort: "hash" }, render: (e) => <span className="font-mono text-xs">{e.hash.slice(0, 10)}</span> },
  { id: "created", meta: { label: "Created", width: 110, sort: "created" }, render: (e) => <span title={formatTime(e.created_at)}>{formatAgo(e.created_at)}</span> },
  { id: "updated", meta: { label: "Updated", width: 110, sort: "updated" }, render: (e) => <span title={formatTime(e.updated_at)}>{formatAgo(e.updated_at)}</span> },
  { id: "started", meta: { label: "Started", width: 110, sort: "started" }, render: (e) => <span title={formatTime(e.started_at)}>{formatAgo(e.started_at)}</span> },
  { id: "runtime", meta: { label: "Runtime", width: 90, sort: "runtime", align: "right" }, render: (e) => formatDuration(e.runtime_sec) },
  { id: "wall", meta: { label: "Wall", width: 84, sort: "wall", align: "right" }, render: (e) => formatDuration(e.wall_sec) },
  { id: "cpu_user", meta: { label: "CPU user", width: 90, sort: "cpu_user", align: "right" }, render: (e) => formatDuration(e.cpu_user_sec) },
  { id: "cpu_system", meta: { label: "CPU system", width: 108, sort: "cpu_system", align: "right" }, render: (e) => formatDuration(e.cpu_system_sec) },
  { id: "peak_rss", meta: { label: "Peak memory", width: 124, sort: "peak_rss", align: "right" }, render: (e) => formatBytes(e.peak_rss_bytes) },
  { id: "gpu_memory", meta: { label: "GPU memory", width: 116, sort: "gpu_memory", align: "right" }, render: (e) => formatBytes(e.gpu_peak_memory_bytes) },
  { id: "gpu_utilization", meta: { label: "GPU util", width: 84, sort: "gpu_utilization", align: "right" }, render: (e) => formatPercent(e.gpu_utilization_pct) },
  { id: "dependencies", meta: { label: "Deps", width: 64, sort: "dependencies", align: "right" }, render: (e) => e.n_dependencies },
  { id: "size", meta: { label: "Size", width: 84, sort: "size", align: "right" }, render: (e) => formatBytes(e.size_bytes) },
  { id: "tags", meta: { label: "Tags", width: 150 }, render: (e) => <span className="truncate text-xs">{e.tags.join(", ")}</span> },
  { id: "host", meta: { label: "Host", width: 100 }, render: (e) => e.hostname ?? "–" },
  { id: "user", meta: { label: "User", width: 90 }, render: (e) => e.user ?? "–" },
  { id: "backend", meta: { label: "Backend", width: 80 }, render: (e) => e.backend ?? "–" },
  { id: "vc", meta: { label: "VC", width: 48 }, render: (e) => (e.version_controlled ? "yes" : "") },
];

/** How many of the first rows the automatic labels look at for the fields that differ. */
export const LABEL_SAMPLE = 200;

/**
 * The Name cell: the experiment's name in the code (a FuruList) or its own name; else an
 * automatic label from the config columns shown whose values differ among the rows
 * (`lr=0.3, l2=0.01`, muted, in monospace).
 */
function nameCell(e: ExperimentSummary, varying: string[], names?: Map<string, string>): ReactNode {
  const named = e.display_name ?? e.name;
  if (named) {
    return <span title={e.display_name && e.display_name !== e.name ? "its name in the code (a FuruList)" : undefined}>{named}</span>;
  }
  const auto = varying.length > 0 && e.values ? runFieldLabel(e.values, varying, names) : "";
  if (!auto) return <span className="text-muted-foreground">–</span>;
  return (
    <span className="font-mono text-xs text-muted-foreground" data-automatic title={`automatic label: the config columns that differ among the rows (${runFieldLabel(e.values ?? {}, varying, names, varying.length)})`}>
      {auto}
    </span>
  );
}

/** The config columns (of `columns`) whose values differ among the first loaded rows. */
export function varyingColumns(columns: string[], rows: ExperimentSummary[]): string[] {
  const config = new Set(columns.filter((c) => c.startsWith("config.")));
  if (config.size === 0) return [];
  const runs = rows.map((e) => ({ id: refOf(e), fields: Object.fromEntries(Object.entries(e.values ?? {}).filter(([k]) => config.has(k))) }));
  return varyingFields(runs);
}

// The last answer of `varyingColumns` per first row: the table renders on every scroll, and the
// rows of a page are the same objects until the page is fetched again.
const varyingCache = new WeakMap<ExperimentSummary, { columns: string; rows: ExperimentSummary[]; key: string }>();

/** `varyingColumns` as one string key, computed again only when the sampled rows change. */
function cachedVarying(columns: string[], rows: ExperimentSummary[]): string {
  if (rows.length === 0) return "";
  const hit = varyingCache.get(rows[0]);
  const cols = columns.join(",");
  if (hit && hit.columns === cols && hit.rows.length === rows.length && hit.rows.every((r, i) => r === rows[i])) return hit.key;
  const key = varyingColumns(columns, rows).join("\n");
  varyingCache.set(rows[0], { columns: cols, rows, key });
  return key;
}

export const DEFAULT_COLUMNS = ["status", "class", "name", "hash", "created", "updated", "runtime", "dependencies", "size", "tags"];

type Column = { id: string; meta: Meta; render: (e: ExperimentSummary) => ReactNode };

function buildColumns(ids: string[], varying: string[]): Column[] {
  const cols: Column[] = [];
  const names = shortNames(varying);
  for (const id of ids) {
    const builtin = BUILTIN_COLUMNS.find((c) => c.id === id);
    if (builtin && id === "name") cols.push({ ...builtin, render: (e) => nameCell(e, varying, names) });
    else if (builtin) cols.push(builtin);
    else if (isFieldColumn(id)) {
      cols.push({
        id,
        meta: { label: id, width: id.startsWith("downstream.") ? 170 : 120, sort: id, align: "right", field: true },
        render: (e) => <FieldValue value={e.values?.[id]} />,
      });
    }
  }
  return cols;
}

export type TableProps = {
  total: number;
  rowAt: (index: number) => ExperimentSummary | undefined;
  columns: string[];
  /** A built-in sort key or a field column's id. */
  sort: string;
  order: Order;
  onSort: (sort: string, order: Order) => void;
  onRange: (start: number, end: number) => void;
  selected: { has: (ref: string) => boolean };
  onToggle: (e: ExperimentSummary) => void;
  onToggleAll: (rows: ExperimentSummary[], on: boolean) => void;
  focus: number;
  onFocus: (index: number) => void;
  onOpen: (e: ExperimentSummary) => void;
  /** A header dragged onto another: move column `id` to `target`'s place. */
  onMove?: (id: string, target: string) => void;
};

const SELECT_WIDTH = 36;

type RowProps = {
  index: number;
  start: number;
  item: ExperimentSummary | undefined;
  cols: Column[];
  template: string;
  selected: boolean;
  focused: boolean;
  onClick: (index: number, e: ExperimentSummary, toggle: boolean) => void;
  onToggle: (e: ExperimentSummary) => void;
};

/** One row: rendered again only when its own item, selection or focus changes (not on scroll). */
const TableRow = memo(function TableRow({ index, start, item: e, cols, template, selected, focused, onClick, onToggle }: RowProps) {
  return (
    <div
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      data-index={index}
      data-ref={e ? refOf(e) : undefined}
      data-focused={focused || undefined}
      className={`absolute left-0 grid w-full cursor-pointer items-center border-b text-sm ${focused ? "bg-accent" : "hover:bg-muted/60"}${selected ? " bg-primary/10" : ""}`}
      // `contain: strict`: a row's layout and paint never reach outside it (its size is fixed),
      // so a new row on screen costs only itself while scrolling.
      style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${start}px)`, contain: "strict" }}
      onClick={(ev) => {
        if (e) onClick(index, e, ev.metaKey || ev.ctrlKey);
      }}
    >
      <div role="gridcell" className="flex items-center justify-center" onClick={(ev) => ev.stopPropagation()}>
        {e && <Checkbox aria-label={`Select ${e.class_name} ${e.hash}`} checked={selected} onChange={() => onToggle(e)} />}
      </div>
      {cols.map((c) => (
        <div key={c.id} role="gridcell" className={c.meta.align === "right" ? "truncate px-2 text-right tabular-nums" : "truncate px-2"}>
          {e ? c.render(e) : <span className="inline-block h-3 w-3/4 animate-pulse rounded bg-muted" />}
        </div>
      ))}
    </div>
  );
});

/** The experiments as a virtualized table: only the rows on screen exist in the page. */
export function ExperimentsTable(props: TableProps) {
  const { total, rowAt, columns, sort, order, onSort, onRange, selected, onToggle, focus, onFocus, onOpen, onMove } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 6,
    initialRect: { width: 1200, height: 800 },
  });
  const items = virtualizer.getVirtualItems();
  const start = items[0]?.index ?? 0;
  const end = items[items.length - 1]?.index ?? 0;
  useEffect(() => onRange(start, end), [start, end, onRange]);
  useEffect(() => {
    if (focus >= 0 && focus < total) virtualizer.scrollToIndex(focus, { align: "auto" });
  }, [focus, total, virtualizer]);

  // Automatic names come from the config columns that differ among the first rows loaded; the
  // key changes only when that set does, so rows are not drawn again while scrolling.
  const sample: ExperimentSummary[] = [];
  for (let i = 0; i < Math.min(total, LABEL_SAMPLE); i++) {
    const e = rowAt(i);
    if (e) sample.push(e);
  }
  const varyingKey = cachedVarying(columns, sample);
  const cols = useMemo(() => buildColumns(columns, varyingKey ? varyingKey.split("\n") : []), [columns, varyingKey]);
  // The last column takes what is left of the width.
  const template = useMemo(
    () =>
      [`${SELECT_WIDTH}px`, ...cols.map((c, i) => (i === cols.length - 1 ? `minmax(${c.meta.width}px, 1fr)` : `${c.meta.width}px`))].join(" "),
    [cols],
  );
  const minWidth = cols.reduce((s, c) => s + c.meta.width, SELECT_WIDTH);
  const visible = items.map((v) => rowAt(v.index));
  const loaded = visible.filter((e): e is ExperimentSummary => !!e);
  const allSelected = loaded.length > 0 && loaded.every((e) => selected.has(refOf(e)));
  const [dragging, setDragging] = useState<string | null>(null);
  // Stable across renders, so memoised rows stay as they are while scrolling.
  const handlers = useRef({ onFocus, onOpen, onToggle });
  handlers.current = { onFocus, onOpen, onToggle };
  const clickRow = useMemo(
    () => (index: number, e: ExperimentSummary, toggle: boolean) => {
      handlers.current.onFocus(index);
      if (toggle) handlers.current.onToggle(e);
      else handlers.current.onOpen(e);
    },
    [],
  );
  const toggleRow = useMemo(() => (e: ExperimentSummary) => handlers.current.onToggle(e), []);

  return (
    <div
      ref={scrollRef}
      className="relative h-[calc(100vh-260px)] min-h-80 overflow-auto rounded-lg border bg-card"
      role="grid"
      aria-rowcount={total}
      aria-label="Experiments"
      data-testid="experiments-table"
    >
      <div style={{ minWidth }}>
        <div
          role="row"
          className="sticky top-0 z-10 grid border-b bg-muted text-xs font-medium text-muted-foreground"
          style={{ gridTemplateColumns: template }}
        >
          <div role="columnheader" className="flex items-center justify-center">
            <Checkbox aria-label="Select all rows on screen" checked={allSelected} onChange={(e) => props.onToggleAll(loaded, e.target.checked)} />
          </div>
          {cols.map(({ id, meta }) => {
            const active = meta.sort !== undefined && meta.sort === sort;
            const header = meta.field ? fieldLabel(id) : meta.label;
            const what = meta.field ? id : meta.label.toLowerCase();
            return (
              <div
                key={id}
                role="columnheader"
                data-column={id}
                aria-sort={active ? (order === "asc" ? "ascending" : "descending") : undefined}
                className={cn("flex h-9 min-w-0 items-center px-2", meta.align === "right" && "justify-end", dragging && dragging !== id && "outline-dashed outline-1 outline-muted-foreground/30")}
                draggable={!!onMove}
                title={meta.field ? `${id} (drag to move)` : undefined}
                onDragStart={(ev) => {
                  ev.dataTransfer.setData("text/x-furu-column", id);
                  ev.dataTransfer.effectAllowed = "move";
                  setDragging(id);
                }}
                onDragEnd={() => setDragging(null)}
                onDragOver={(ev) => {
                  if (dragging) ev.preventDefault();
                }}
                onDrop={(ev) => {
                  ev.preventDefault();
                  const from = ev.dataTransfer.getData("text/x-furu-column") || dragging;
                  setDragging(null);
                  if (from && from !== id) onMove?.(from, id);
                }}
              >
                {meta.sort ? (
                  <button
                    type="button"
                    className={cn("flex min-w-0 cursor-pointer items-center gap-1 hover:text-foreground", active && "text-foreground")}
                    onClick={() => onSort(meta.sort as string, active && order === "desc" ? "asc" : "desc")}
                    title={`Sort by ${what}`}
                    aria-label={`Sort by ${what}`}
                  >
                    <span className="truncate">{header}</span>
                    {active ? order === "asc" ? <ArrowUpIcon className="size-3 shrink-0" /> : <ArrowDownIcon className="size-3 shrink-0" /> : <ArrowUpDownIcon className="size-3 shrink-0 opacity-40" />}
                  </button>
                ) : (
                  <span className="truncate" title={meta.label}>{header}</span>
                )}
              </div>
            );
          })}
        </div>
        <div className="relative" style={{ height: virtualizer.getTotalSize(), contain: "layout paint" }}>
          {items.map((v, i) => {
            const e = visible[i];
            return (
              <TableRow
                key={v.key}
                index={v.index}
                start={v.start}
                item={e}
                cols={cols}
                template={template}
                selected={!!e && selected.has(refOf(e))}
                focused={v.index === focus}
                onClick={clickRow}
                onToggle={toggleRow}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}
