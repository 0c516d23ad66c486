/** Line, scatter and bar charts of result tables (recharts; loaded only with the chart views). */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import type { Preview } from "@/api/client";
import { DASHES, RUN_PALETTE } from "@/lib/labels";

export type ChartKind = "line" | "scatter" | "bar";
/** One run's table: `name` is its legend label, `color` its colour on the page (`runColors`). */
export type Series = { name: string; preview: Preview; color?: string };

/** The numeric (or index) columns of a table preview. */
export function numericColumns(p: Preview | undefined): string[] {
  return (p?.columns ?? []).filter((c) => ["integer", "number", "float", "double", "int64", "float64", "int32", "float32"].some((t) => c.type.toLowerCase().includes(t))).map((c) => c.name);
}

export const INDEX = "(row)";

function rowsOf(p: Preview): Record<string, unknown>[] {
  const cols = (p.columns ?? []).map((c) => c.name);
  return (p.rows ?? []).map((row, i) => {
    const out: Record<string, unknown> = { [INDEX]: p.offset + i };
    cols.forEach((c, j) => (out[c] = row[j]));
    return out;
  });
}

export function ResultChart({ series, x, ys, kind }: { series: Series[]; x: string; ys: string[]; kind: ChartKind }) {
  const lines = series.flatMap((s, si) =>
    ys.map((y, yi) => ({
      key: `${si}:${y}`,
      label: series.length > 1 ? (ys.length > 1 ? `${s.name} · ${y}` : s.name) : y,
      // A run keeps its colour in every chart of the page; its columns differ by dash. The legend
      // keeps the runs in the page's order (itemSorter={null}), not sorted by label.
      color: s.color ?? RUN_PALETTE[(series.length > 1 ? si : si * ys.length + yi) % RUN_PALETTE.length],
      dash: series.length > 1 ? DASHES[yi % DASHES.length] : undefined,
      data: rowsOf(s.preview).map((r) => ({ x: r[x], y: r[y] })),
    })),
  );
  const axisProps = { stroke: "var(--color-muted-foreground)", fontSize: 11 };
  const common = (
    <>
      <CartesianGrid stroke="var(--color-border)" strokeDasharray="3 3" />
      <XAxis dataKey="x" type={kind === "bar" ? "category" : "number"} domain={["auto", "auto"]} name={x} {...axisProps} allowDuplicatedCategory={false} />
      <YAxis dataKey="y" type="number" domain={["auto", "auto"]} {...axisProps} width={56} />
      <Tooltip contentStyle={{ background: "var(--color-popover)", border: "1px solid var(--color-border)", fontSize: 12 }} />
      <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
    </>
  );
  return (
    <div className="h-96 w-full" data-testid="result-chart" data-kind={kind} data-series={lines.length} data-legend={lines.map((l) => l.label).join("\n")}>
      <ResponsiveContainer width="100%" height="100%">
        {kind === "scatter" ? (
          <ScatterChart>
            {common}
            {lines.map((l) => (
              <Scatter key={l.key} name={l.label} data={l.data} fill={l.color} isAnimationActive={false} />
            ))}
          </ScatterChart>
        ) : kind === "bar" ? (
          <BarChart data={mergeByX(lines)}>
            <CartesianGrid stroke="var(--color-border)" strokeDasharray="3 3" />
            <XAxis dataKey="x" {...axisProps} />
            <YAxis {...axisProps} width={56} />
            <Tooltip contentStyle={{ background: "var(--color-popover)", border: "1px solid var(--color-border)", fontSize: 12 }} />
            <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
            {lines.map((l) => (
              <Bar key={l.key} dataKey={l.key} name={l.label} fill={l.color} isAnimationActive={false} />
            ))}
          </BarChart>
        ) : (
          <LineChart>
            {common}
            {lines.map((l) => (
              <Line key={l.key} data={l.data} dataKey="y" name={l.label} stroke={l.color} strokeDasharray={l.dash} dot={false} strokeWidth={2} isAnimationActive={false} />
            ))}
          </LineChart>
        )}
      </ResponsiveContainer>
    </div>
  );
}

function mergeByX(lines: { key: string; data: { x: unknown; y: unknown }[] }[]): Record<string, unknown>[] {
  const byX = new Map<string, Record<string, unknown>>();
  for (const l of lines) {
    for (const p of l.data) {
      const k = String(p.x);
      const row = byX.get(k) ?? { x: p.x };
      row[l.key] = p.y;
      byX.set(k, row);
    }
  }
  return [...byX.values()];
}
