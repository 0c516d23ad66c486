/** Two or more experiments side by side: config, metadata, status, and their charts overlaid. */
import { useQueries } from "@tanstack/react-query";
import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import { XIcon } from "lucide-react";
import { useState, type ReactNode } from "react";

import { parseRef, refOf, type ExperimentDetail, type Preview } from "@/api/client";
import { experimentQuery, fetchPreview, keys, useArtifacts } from "@/api/queries";
import { ChartControls, defaultAxes, isTableFile } from "@/components/charts/ChartControls";
import { INDEX, numericColumns, ResultChart, type ChartKind } from "@/components/charts/ResultChart";
import { ExperimentLink } from "@/components/ExperimentLink";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { ExperimentStatus } from "@/components/StatusBadge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/input";
import { compareConfigs, flattenConfig } from "@/lib/config";
import { formatAgo, formatBytes, formatCell, formatDuration, formatValue } from "@/lib/format";
import { differ, runColors, runLabels, type Label } from "@/lib/labels";
import { cn } from "@/lib/utils";

const route = getRouteApi("/compare");

const git = (e: ExperimentDetail, key: string) => String((e.metadata as Record<string, unknown> | null)?.[key] ?? "");

/** The status and metadata rows. `text` is what the cell reads: a row is highlighted only when
 * the cells read differently (two peak memories of 25.1 MB and 25.3 MB both read "25 MB"). */
const META: { label: string; get: (e: ExperimentDetail) => ReactNode; text: (e: ExperimentDetail) => string }[] = [
  { label: "status", get: (e) => <ExperimentStatus result={e.result_status} attempt={e.attempt_status} />, text: (e) => `${e.result_status}/${e.attempt_status}` },
  { label: "class", get: (e) => e.class_name, text: (e) => e.namespace },
  { label: "name", get: (e) => e.display_name ?? e.name ?? "–", text: (e) => e.display_name ?? e.name ?? "" },
  { label: "tags", get: (e) => e.tags.join(", ") || "–", text: (e) => e.tags.join(",") },
  { label: "created", get: (e) => <span title={e.created_at ?? undefined}>{formatAgo(e.created_at)}</span>, text: (e) => formatAgo(e.created_at) },
  { label: "runtime", get: (e) => formatDuration(e.runtime_sec), text: (e) => formatDuration(e.runtime_sec) },
  { label: "CPU user", get: (e) => formatDuration(e.cpu_user_sec), text: (e) => formatDuration(e.cpu_user_sec) },
  { label: "peak memory", get: (e) => <span title={e.peak_rss_bytes == null ? undefined : `${e.peak_rss_bytes} bytes`}>{formatBytes(e.peak_rss_bytes)}</span>, text: (e) => formatBytes(e.peak_rss_bytes) },
  { label: "GPU memory", get: (e) => formatBytes(e.gpu_peak_memory_bytes), text: (e) => formatBytes(e.gpu_peak_memory_bytes) },
  { label: "size", get: (e) => <span title={`${e.size_bytes} bytes`}>{formatBytes(e.size_bytes)}</span>, text: (e) => formatBytes(e.size_bytes) },
  { label: "host", get: (e) => e.hostname ?? "–", text: (e) => e.hostname ?? "" },
  { label: "user", get: (e) => e.user ?? "–", text: (e) => e.user ?? "" },
  { label: "git commit", get: (e) => <span className="font-mono text-xs">{git(e, "git_commit").slice(0, 12) || "–"}</span>, text: (e) => git(e, "git_commit") },
  { label: "command", get: (e) => <span className="font-mono text-xs">{git(e, "command") || "–"}</span>, text: (e) => git(e, "command") },
];

/** How many of the first experiment's table files are looked into for the default chart. */
const PROBED_FILES = 12;

/** The first of `files` whose table has a numeric column (what a chart can draw); `null` when
 * none has one; `""` while the files are still being looked into. */
function useFirstNumericTable(e: ExperimentDetail, files: string[]): string | null {
  const probed = files.slice(0, PROBED_FILES);
  const previews = useQueries({
    queries: probed.map((f) => ({
      queryKey: keys.preview(e.namespace, e.hash, f, 0, 1000),
      queryFn: () => fetchPreview(e.namespace, e.hash, f, 0, 1000),
      retry: false,
    })),
  });
  const numeric = probed.find((_, i) => {
    const p = previews[i]?.data;
    return p?.kind === "table" && numericColumns(p).length > 0;
  });
  // Wait for the files before it to answer, so the choice does not jump once they do.
  const pending = previews.some((p) => p.isLoading);
  return numeric ?? (pending ? "" : null);
}

type Labelled = { e: ExperimentDetail; label: Label; color: string };

function OverlaidCharts({ runs }: { runs: Labelled[] }) {
  const first = runs[0].e;
  const artifacts = useArtifacts(first.namespace, first.hash);
  const files = (artifacts.data?.entries ?? []).filter((e) => e.type === "file" && isTableFile(e.path)).map((e) => e.path);
  const [file, setFile] = useState("");
  const numericDefault = useFirstNumericTable(first, files);
  const chosen = file || numericDefault || (numericDefault === null ? (files[0] ?? "") : "");
  const previews = useQueries({
    queries: runs.map(({ e }) => ({
      queryKey: keys.preview(e.namespace, e.hash, chosen, 0, 1000),
      queryFn: () => fetchPreview(e.namespace, e.hash, chosen, 0, 1000),
      enabled: chosen !== "",
      retry: false,
    })),
  });
  const [chosenAxes, setAxes] = useState<{ file: string; x: string; ys: string[]; kind: ChartKind } | null>(null);
  const axes = chosenAxes?.file === chosen ? chosenAxes : null;
  const loaded = previews
    .map((p, i) => ({ name: runs[i].label.text, color: runs[i].color, preview: p.data }))
    .filter((s): s is { name: string; color: string; preview: Preview } => !!s.preview && s.preview.kind === "table");
  const current = axes ?? { ...defaultAxes(loaded[0]?.preview), kind: "line" as ChartKind };
  if (!artifacts.data) return <LoadingState rows={3} />;
  if (files.length === 0) return <EmptyState title="No result tables to chart">The first experiment wrote no CSV, JSON lines, JSON or parquet file.</EmptyState>;
  if (chosen === "") return <LoadingState rows={3} />;
  if (!file && numericDefault === null) {
    return (
      <div className="grid gap-3">
        <ChartControls files={files} file={chosen} onFile={setFile} preview={undefined} x={INDEX} ys={[]} kind="line" onChange={() => undefined} />
        <EmptyState title="No table of numbers to overlay">None of the first experiment&apos;s files is a table with a numeric column; its results are charted above. Pick a file to look anyway.</EmptyState>
      </div>
    );
  }
  return (
    <div className="grid gap-3">
      <ChartControls files={files} file={chosen} onFile={setFile} preview={loaded[0]?.preview} x={current.x} ys={current.ys} kind={current.kind} onChange={(v) => setAxes({ ...current, ...v, file: chosen })} />
      {previews.some((p) => p.isLoading) ? (
        <LoadingState rows={4} />
      ) : loaded.length === 0 || current.ys.length === 0 ? (
        <EmptyState title="Nothing to plot">Pick a file every experiment has, and a y column.</EmptyState>
      ) : (
        <>
          <ResultChart series={loaded} x={current.x} ys={current.ys} kind={current.kind} />
          {loaded.length < runs.length && <div className="text-xs text-muted-foreground">{runs.length - loaded.length} of the experiments have no {chosen}.</div>}
        </>
      )}
    </div>
  );
}

/** A cell of a row that differs: amber. Equal values (`sameValue`) are never highlighted. */
const DIFFERS = "bg-amber-50 dark:bg-amber-500/10";

/** A result row's texts: numbers as people read them (`formatCell`), in full where they clash. */
function cellTexts(values: unknown[], differs: boolean): string[] {
  return rowTexts(values, differs, values.map((v) => formatCell(v).text));
}

/** The experiments' results (`result.*`), one row per result, its best-looking form per cell. */
function ResultsRows({ runs }: { runs: Labelled[] }) {
  const experiments = runs.map((r) => r.e);
  const fields = [...new Set(experiments.flatMap((e) => Object.keys(e.results ?? {})))];
  if (fields.length === 0) return <div className="col-span-full px-3 py-4 text-sm text-muted-foreground">None of these experiments recorded results.</div>;
  return (
    <>
      <div className="border-b bg-muted px-3 py-2 text-xs font-medium text-muted-foreground" role="columnheader">result</div>
      {runs.map(({ e, label, color }) => (
        <div key={refOf(e)} className="flex items-start gap-1 border-b bg-muted px-3 py-2 text-xs" role="columnheader">
          <span className="mt-0.5 size-2.5 shrink-0 rounded-full" style={{ background: color }} aria-hidden />
          <span className="min-w-0 break-words" title={label.title}>{label.text}</span>
        </div>
      ))}
      {fields.map((k) => {
        const values = experiments.map((e) => e.results?.[k]);
        const differs = differ(values);
        return (
          <div key={k} className="contents" role="row" data-field={`result.${k}`} data-differs={differs || undefined}>
            <div className="border-b px-3 py-1.5 font-mono text-xs text-muted-foreground">result.{k}</div>
            {cellTexts(values, differs).map((text, i) => (
              <div key={i} className={cn("border-b px-3 py-1.5 font-mono text-xs", differs && DIFFERS)} title={formatCell(values[i]).title} role="cell">
                {values[i] === undefined ? <span className="text-muted-foreground">(absent)</span> : text}
              </div>
            ))}
          </div>
        );
      })}
    </>
  );
}

/** The runs' numeric results as a table per run (`metric`, `value`): one bar per run and metric,
 * for the results that differ among the runs (all of them when none does). */
function resultSeries(runs: Labelled[]): { name: string; color: string; preview: Preview }[] {
  const all = [...new Set(runs.flatMap(({ e }) => Object.entries(e.results ?? {}).filter(([, v]) => typeof v === "number").map(([k]) => k)))];
  if (all.length === 0) return [];
  // The results that tell the runs apart (an epoch count of 60 everywhere would dwarf a loss).
  const varying = all.filter((k) => differ(runs.map(({ e }) => e.results?.[k])));
  const numeric = varying.length > 0 ? varying : all;
  return runs.map(({ e, label, color }) => ({
    name: label.text,
    color,
    preview: {
      path: "results",
      kind: "table",
      mime: "application/json",
      size: 0,
      offset: 0,
      truncated: false,
      columns: [
        { name: "metric", type: "string" },
        { name: "value", type: "float64" },
      ],
      rows: numeric.map((k) => [`result.${k}`, typeof e.results?.[k] === "number" ? e.results[k] : null]),
    } as Preview,
  }));
}

/** The results as grouped bars (one colour per run, as in every chart of the page). */
function ResultsChart({ runs }: { runs: Labelled[] }) {
  const series = resultSeries(runs);
  if (series.length === 0) return null;
  return (
    <div className="border-t p-3" data-testid="compare-results-chart">
      <ResultChart series={series} x="metric" ys={["value"]} kind="bar" />
    </div>
  );
}

/** Values of a row as text (`short`: how a number is written); where two different values of a
 * differing row would read the same (`0.93131` and `0.93132` are both `0.9313`), every value is
 * written in full, so a highlighted row always shows what differs. */
function rowTexts(values: unknown[], differs: boolean, short = values.map((v) => formatValue(v))): string[] {
  if (!differs) return short;
  const clash = short.some((t, i) => short.some((u, j) => j > i && u === t && differ([values[i], values[j]])));
  return clash ? values.map((v) => (typeof v === "number" ? String(v) : formatValue(v))) : short;
}

export function ComparePage() {
  const { ids } = route.useSearch();
  const navigate = useNavigate({ from: "/compare" });
  const refs = (ids ?? "").split(",").filter((r) => r.includes("/"));
  const results = useQueries({ queries: refs.map((r) => experimentQuery(parseRef(r).namespace, parseRef(r).hash)) });
  const [onlyDiff, setOnlyDiff] = useState(true);
  const experiments = results.map((r) => r.data).filter((d): d is ExperimentDetail => !!d);
  const rows = compareConfigs(experiments.map((e) => e.config)).map((r) => ({ ...r, differs: differ(r.values) }));
  // One label and one colour per run, for the headers and every chart of the page.
  const labels = runLabels(experiments.map((e) => ({ id: refOf(e), name: e.display_name ?? e.name, fields: new Map(flattenConfig(e.config).map((l) => [l.path, l.value])) })));
  const colors = runColors(experiments.map(refOf));
  const labelled: Labelled[] = experiments.map((e) => ({ e, label: labels.get(refOf(e)) as Label, color: colors.get(refOf(e)) as string }));
  const remove = (ref: string) => void navigate({ search: { ids: refs.filter((r) => r !== ref).join(",") || undefined } });

  if (refs.length < 2) {
    return (
      <div className="grid gap-3">
        <h1 className="text-lg font-semibold">Compare</h1>
        <Card>
          <EmptyState title="Pick two or more experiments to compare">
            Select rows in the <Link to="/experiments" className="text-primary underline">experiments table</Link> (their checkboxes, or <kbd>x</kbd>), then press Compare (or <kbd>c</kbd>).
          </EmptyState>
        </Card>
      </div>
    );
  }
  const error = results.find((r) => r.error)?.error;
  if (error) return <ErrorState error={error} />;
  if (experiments.length < refs.length) return <LoadingState rows={8} label="Loading experiments" />;
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;
  const grid = { gridTemplateColumns: `minmax(10rem, 16rem) repeat(${experiments.length}, minmax(9rem, 1fr))` };

  return (
    <div className="grid gap-4" data-testid="compare-page">
      <div className="flex items-center gap-3">
        <h1 className="text-lg font-semibold">Compare {experiments.length} experiments</h1>
      </div>
      <Card>
        <CardHeader>
          <CardTitle>Results</CardTitle>
        </CardHeader>
        <CardContent className="overflow-x-auto p-0">
          <div className="grid text-sm" style={grid} role="table" data-testid="compare-results">
            <ResultsRows runs={labelled} />
          </div>
          <ResultsChart runs={labelled} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Config</CardTitle>
          <label className="ml-auto flex items-center gap-2 text-xs">
            <Checkbox checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} aria-label="Only differing fields" />
            only differing fields ({rows.filter((r) => r.differs).length} of {rows.length})
          </label>
        </CardHeader>
        <CardContent className="overflow-x-auto p-0">
          <div className="grid text-sm" style={grid} role="table" data-testid="compare-config">
            <div className="sticky left-0 border-b bg-muted px-3 py-2 text-xs font-medium text-muted-foreground" role="columnheader">field</div>
            {labelled.map(({ e, label, color }, i) => (
              <div key={refs[i]} className="flex items-start gap-1 border-b bg-muted px-3 py-2" role="columnheader" data-ref={refOf(e)}>
                <span className="mt-1 size-2.5 shrink-0 rounded-full" style={{ background: color }} aria-hidden data-testid="run-color" data-color={color} />
                <ExperimentLink namespace={e.namespace} hash={e.hash} className="min-w-0 text-primary hover:underline">
                  <span className="font-medium break-words [overflow-wrap:anywhere]">{e.class_name}</span>{" "}
                  <span className={cn("text-xs break-words", label.automatic && "font-mono")} title={label.title} data-testid="run-label" data-automatic={label.automatic || undefined}>
                    {label.text}
                  </span>
                </ExperimentLink>
                <Button size="xs" variant="ghost" className="ml-auto" aria-label={`Remove ${e.hash} from the comparison`} onClick={() => remove(refs[i])}>
                  <XIcon />
                </Button>
              </div>
            ))}
            {shown.length === 0 && <div className="col-span-full px-3 py-4 text-sm text-muted-foreground">The configs are identical.</div>}
            {shown.map((r) => (
              <div key={r.path} className="contents" role="row" data-differs={r.differs || undefined}>
                <div className="border-b px-3 py-1.5 font-mono text-xs text-muted-foreground">{r.path}</div>
                {rowTexts(r.values, r.differs).map((text, i) => (
                  <div key={i} className={cn("border-b px-3 py-1.5 font-mono text-xs break-all", r.differs && DIFFERS)}>
                    {r.values[i] === undefined ? <span className="text-muted-foreground">(absent)</span> : text}
                  </div>
                ))}
              </div>
            ))}
          </div>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Status and metadata</CardTitle>
        </CardHeader>
        <CardContent className="overflow-x-auto p-0">
          <div className="grid text-sm" style={grid} data-testid="compare-metadata">
            {META.map((m) => {
              const differs = new Set(experiments.map(m.text)).size > 1;
              return (
                <div key={m.label} className="contents" role="row" data-field={m.label} data-differs={differs || undefined}>
                  <div className="border-b px-3 py-1.5 text-xs text-muted-foreground">{m.label}</div>
                  {experiments.map((e, i) => (
                    <div key={i} className={cn("border-b px-3 py-1.5 break-words [overflow-wrap:anywhere]", differs && DIFFERS)}>
                      {m.get(e)}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Results, overlaid</CardTitle>
        </CardHeader>
        <CardContent data-testid="compare-overlaid">
          <OverlaidCharts runs={labelled} />
        </CardContent>
      </Card>
    </div>
  );
}
