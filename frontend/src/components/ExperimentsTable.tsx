import { useQuery } from "@tanstack/react-query";
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { ArrowDownIcon, ArrowUpIcon, ArrowUpDownIcon } from "lucide-react";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { refOf, type ExperimentSummary, type Order, type SortKey } from "@/api/client";
import { experimentQuery } from "@/api/queries";
import { valueAt } from "@/lib/config";
import { formatAgo, formatBytes, formatDuration, formatPercent, formatTime, formatValue } from "@/lib/format";
import { cn } from "@/lib/utils";

import { StaleBadge } from "./StaleBadge";
import { ExperimentStatus } from "./StatusBadge";
import { Checkbox } from "./ui/input";

export type Row = { index: number; item?: ExperimentSummary };

/** A config field of one row (read from its detail; only rows on screen ask for it). */
function ConfigValue({ namespace, hash, path }: { namespace: string; hash: string; path: string }) {
  const detail = useQuery({ ...experimentQuery(namespace, hash), staleTime: 60_000 });
  if (!detail.data) return <span className="inline-block h-3 w-10 animate-pulse rounded bg-muted" />;
  return <span className="font-mono text-xs">{formatValue(valueAt(detail.data.config, path))}</span>;
}

type Meta = { width: number; sort?: SortKey; align?: "right"; label: string };

const h = createColumnHelper<Row>();
const ROW_HEIGHT = 34;

function cell(render: (e: ExperimentSummary, r: Row) => ReactNode) {
  return ({ row }: { row: { original: Row } }) => {
    const r = row.original;
    return r.item ? render(r.item, r) : <span className="inline-block h-3 w-3/4 animate-pulse rounded bg-muted" />;
  };
}

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
  { id: "name", meta: { label: "Name", width: 150, sort: "name" }, render: (e) => (e.display_name ?? e.name) ? <span title={e.display_name && e.display_name !== e.name ? "its name in the code (a FuruList)" : undefined}>{e.display_name ?? e.name}</span> : <span className="text-muted-foreground">–</span> },
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

export const DEFAULT_COLUMNS = ["status", "class", "name", "hash", "created", "updated", "runtime", "dependencies", "size", "tags"];

function buildColumns(ids: string[]): ColumnDef<Row, unknown>[] {
  const cols: ColumnDef<Row, unknown>[] = [
    h.display({ id: "select", meta: { label: "", width: 36 } satisfies Meta }) as ColumnDef<Row, unknown>,
  ];
  for (const id of ids) {
    const builtin = BUILTIN_COLUMNS.find((c) => c.id === id);
    if (builtin) {
      cols.push(h.display({ id, header: builtin.meta.label, meta: builtin.meta, cell: cell(builtin.render) }) as ColumnDef<Row, unknown>);
    } else if (id.startsWith("config.")) {
      const path = id.slice("config.".length);
      cols.push(
        h.display({
          id,
          header: id.slice(7),
          meta: { label: id, width: 110 } satisfies Meta,
          cell: cell((e) => <ConfigValue namespace={e.namespace} hash={e.hash} path={path} />),
        }) as ColumnDef<Row, unknown>,
      );
    }
  }
  return cols;
}

export type TableProps = {
  total: number;
  rowAt: (index: number) => ExperimentSummary | undefined;
  columns: string[];
  sort: SortKey;
  order: Order;
  onSort: (sort: SortKey, order: Order) => void;
  onRange: (start: number, end: number) => void;
  selected: Map<string, ExperimentSummary>;
  onToggle: (e: ExperimentSummary) => void;
  onToggleAll: (rows: ExperimentSummary[], on: boolean) => void;
  focus: number;
  onFocus: (index: number) => void;
  onOpen: (e: ExperimentSummary) => void;
};

/** The experiments as a virtualized table: only the rows on screen exist in the page. */
export function ExperimentsTable(props: TableProps) {
  const { total, rowAt, columns, sort, order, onSort, onRange, selected, onToggle, focus } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1200, height: 800 },
  });
  const items = virtualizer.getVirtualItems();
  const start = items[0]?.index ?? 0;
  const end = items[items.length - 1]?.index ?? 0;
  useEffect(() => onRange(start, end), [start, end, onRange]);
  useEffect(() => {
    if (focus >= 0 && focus < total) virtualizer.scrollToIndex(focus, { align: "auto" });
  }, [focus, total, virtualizer]);

  const visible = items.map((v) => rowAt(v.index));
  const data: Row[] = items.map((v, i) => ({ index: v.index, item: visible[i] }));
  const defs = useMemo(() => buildColumns(columns), [columns]);
  // No auto-resets: they set the table's state whenever `data` changes, which here is every
  // scroll (the rows on screen), and that re-renders without end.
  const table = useReactTable({ data, columns: defs, getCoreRowModel: getCoreRowModel(), autoResetAll: false });
  const leaves = table.getVisibleLeafColumns();
  // The last column takes what is left of the width.
  const widths = leaves.map((c, i) => {
    const w = (c.columnDef.meta as Meta).width;
    return i === leaves.length - 1 ? `minmax(${w}px, 1fr)` : `${w}px`;
  });
  const template = widths.join(" ");
  const minWidth = table.getVisibleLeafColumns().reduce((s, c) => s + (c.columnDef.meta as Meta).width, 0);
  const loaded = visible.filter((e): e is ExperimentSummary => !!e);
  const allSelected = loaded.length > 0 && loaded.every((e) => selected.has(refOf(e)));
  const [hover, setHover] = useState<number | null>(null);

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
          className="sticky top-0 z-10 grid border-b bg-muted/95 text-xs font-medium text-muted-foreground backdrop-blur"
          style={{ gridTemplateColumns: template }}
        >
          {table.getFlatHeaders().map((header) => {
            const meta = header.column.columnDef.meta as Meta;
            if (header.id === "select") {
              return (
                <div key={header.id} role="columnheader" className="flex items-center justify-center">
                  <Checkbox aria-label="Select all rows on screen" checked={allSelected} onChange={(e) => props.onToggleAll(loaded, e.target.checked)} />
                </div>
              );
            }
            const active = meta.sort === sort;
            return (
              <div
                key={header.id}
                role="columnheader"
                aria-sort={active ? (order === "asc" ? "ascending" : "descending") : undefined}
                className={cn("flex h-9 items-center px-2", meta.align === "right" && "justify-end")}
              >
                {meta.sort ? (
                  <button
                    type="button"
                    className={cn("flex cursor-pointer items-center gap-1 hover:text-foreground", active && "text-foreground")}
                    onClick={() => onSort(meta.sort as SortKey, active && order === "desc" ? "asc" : "desc")}
                    title={`Sort by ${meta.label.toLowerCase()}`}
                    aria-label={`Sort by ${meta.label.toLowerCase()}`}
                  >
                    {flexRender(header.column.columnDef.header, header.getContext())}
                    {active ? order === "asc" ? <ArrowUpIcon className="size-3" /> : <ArrowDownIcon className="size-3" /> : <ArrowUpDownIcon className="size-3 opacity-40" />}
                  </button>
                ) : (
                  <span className="truncate" title={meta.label}>{flexRender(header.column.columnDef.header, header.getContext())}</span>
                )}
              </div>
            );
          })}
        </div>
        <div className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {table.getRowModel().rows.map((row, i) => {
            const v = items[i];
            if (!v) return null;
            const e = row.original.item;
            const isSelected = !!e && selected.has(refOf(e));
            return (
              <div
                key={v.key}
                role="row"
                aria-rowindex={v.index + 1}
                aria-selected={isSelected}
                data-index={v.index}
                data-ref={e ? refOf(e) : undefined}
                data-focused={v.index === focus || undefined}
                className={cn(
                  "absolute left-0 grid w-full cursor-pointer items-center border-b text-sm",
                  v.index === focus ? "bg-accent" : hover === v.index ? "bg-muted/60" : "",
                  isSelected && "bg-primary/10",
                )}
                style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                onMouseEnter={() => setHover(v.index)}
                onMouseLeave={() => setHover(null)}
                onClick={(ev) => {
                  if (!e) return;
                  props.onFocus(v.index);
                  if (ev.metaKey || ev.ctrlKey) onToggle(e);
                  else props.onOpen(e);
                }}
              >
                {row.getVisibleCells().map((c) => {
                  const meta = c.column.columnDef.meta as Meta;
                  if (c.column.id === "select") {
                    return (
                      <div key={c.id} role="gridcell" className="flex items-center justify-center" onClick={(ev) => ev.stopPropagation()}>
                        {e && <Checkbox aria-label={`Select ${e.class_name} ${e.hash}`} checked={isSelected} onChange={() => onToggle(e)} />}
                      </div>
                    );
                  }
                  return (
                    <div key={c.id} role="gridcell" className={cn("truncate px-2", meta.align === "right" && "text-right tabular-nums")}>
                      {flexRender(c.column.columnDef.cell, c.getContext())}
                    </div>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
