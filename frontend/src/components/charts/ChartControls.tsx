import type { Preview } from "@/api/client";

import { Checkbox, Select } from "../ui/input";

import { INDEX, numericColumns, type ChartKind } from "./ResultChart";

export const TABLE_EXTENSIONS = [".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".json"];

export function isTableFile(path: string): boolean {
  return !path.startsWith(".furu/") && TABLE_EXTENSIONS.some((ext) => path.toLowerCase().endsWith(ext));
}

/** Default axes: x is the first numeric column (else the row number), y the next numeric one. */
export function defaultAxes(p: Preview | undefined): { x: string; ys: string[] } {
  const nums = numericColumns(p);
  if (nums.length >= 2) return { x: nums[0], ys: [nums[1]] };
  return { x: INDEX, ys: nums.slice(0, 1) };
}

export function ChartControls({
  files,
  file,
  onFile,
  preview,
  x,
  ys,
  kind,
  onChange,
}: {
  files: string[];
  file: string;
  onFile: (f: string) => void;
  preview: Preview | undefined;
  x: string;
  ys: string[];
  kind: ChartKind;
  onChange: (v: { x?: string; ys?: string[]; kind?: ChartKind }) => void;
}) {
  const cols = [INDEX, ...(preview?.columns ?? []).map((c) => c.name)];
  const nums = numericColumns(preview);
  return (
    <div className="flex flex-wrap items-end gap-3 text-sm">
      <label className="grid gap-1">
        <span className="text-xs text-muted-foreground">Result file</span>
        <Select aria-label="Result file" value={file} onChange={(e) => onFile(e.target.value)} className="min-w-56 font-mono text-xs">
          {files.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </Select>
      </label>
      <label className="grid gap-1">
        <span className="text-xs text-muted-foreground">x</span>
        <Select aria-label="x column" value={x} onChange={(e) => onChange({ x: e.target.value })} className="font-mono text-xs">
          {cols.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </Select>
      </label>
      <fieldset className="grid gap-1">
        <legend className="text-xs text-muted-foreground">y</legend>
        <div className="flex flex-wrap gap-2">
          {nums.map((c) => (
            <label key={c} className="flex items-center gap-1 font-mono text-xs">
              <Checkbox checked={ys.includes(c)} onChange={(e) => onChange({ ys: e.target.checked ? [...ys, c] : ys.filter((y) => y !== c) })} aria-label={`y: ${c}`} />
              {c}
            </label>
          ))}
          {nums.length === 0 && <span className="text-xs text-muted-foreground">no numeric columns</span>}
        </div>
      </fieldset>
      <label className="grid gap-1">
        <span className="text-xs text-muted-foreground">Chart</span>
        <Select aria-label="Chart type" value={kind} onChange={(e) => onChange({ kind: e.target.value as ChartKind })}>
          <option value="line">line</option>
          <option value="scatter">scatter</option>
          <option value="bar">bar</option>
        </Select>
      </label>
    </div>
  );
}
