import { useState } from "react";

import { useArtifacts, usePreview } from "@/api/queries";

import { EmptyState, ErrorState, LoadingState } from "../States";
import { Card, CardContent } from "../ui/card";

import { ChartControls, defaultAxes, isTableFile } from "./ChartControls";
import { ResultChart, type ChartKind } from "./ResultChart";

/** Pick one of the experiment's result files and columns; get a line, scatter or bar chart. */
export function ChartsTab({ namespace, hash }: { namespace: string; hash: string }) {
  const artifacts = useArtifacts(namespace, hash);
  const files = (artifacts.data?.entries ?? []).filter((e) => e.type === "file" && isTableFile(e.path)).map((e) => e.path);
  const [file, setFile] = useState<string>("");
  const chosen = file || files[0] || "";
  const preview = usePreview(namespace, hash, chosen || null, 0, 1000);
  const [chosenAxes, setAxes] = useState<{ file: string; x: string; ys: string[]; kind: ChartKind } | null>(null);
  const axes = chosenAxes?.file === chosen ? chosenAxes : null;
  const p = preview.data?.path === chosen ? preview.data : undefined;
  const current = axes ?? { ...defaultAxes(p), kind: "line" as ChartKind };

  if (artifacts.error) return <ErrorState error={artifacts.error} />;
  if (!artifacts.data) return <LoadingState />;
  if (files.length === 0) {
    return (
      <Card>
        <EmptyState title="No result tables to chart">Charts are drawn from CSV, JSON lines, JSON and parquet files the step wrote.</EmptyState>
      </Card>
    );
  }
  return (
    <Card>
      <CardContent className="grid gap-4">
        <ChartControls
          files={files}
          file={chosen}
          onFile={setFile}
          preview={p}
          x={current.x}
          ys={current.ys}
          kind={current.kind}
          onChange={(v) => setAxes({ ...current, ...v, file: chosen })}
        />
        {preview.error ? (
          <ErrorState error={preview.error} />
        ) : !p ? (
          <LoadingState rows={5} />
        ) : p.kind !== "table" ? (
          <EmptyState title="This file is not a table" />
        ) : current.ys.length === 0 ? (
          <EmptyState title="Pick a y column" />
        ) : (
          <>
            <ResultChart series={[{ name: chosen, preview: p }]} x={current.x} ys={current.ys} kind={current.kind} />
            {p.total_rows != null && p.total_rows > (p.rows?.length ?? 0) && (
              <div className="text-xs text-muted-foreground">First {p.rows?.length} of {p.total_rows} rows.</div>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}
