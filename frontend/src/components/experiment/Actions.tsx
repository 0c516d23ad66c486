import { useNavigate } from "@tanstack/react-router";
import { PlayIcon, RotateCcwIcon, Trash2Icon, WandSparklesIcon } from "lucide-react";
import { useMemo, useState } from "react";

import type { ExperimentDetail, Run } from "@/api/client";
import { useDeleteExperiment, useInvalidateExperiment, useRefreshAll, useRerun, useRun, useSnippet } from "@/api/queries";
import { flattenConfig } from "@/lib/config";
import { formatValue } from "@/lib/format";

import { ConfirmDialog } from "../ConfirmDialog";
import { CopyButton } from "../CopyButton";
import { ExperimentLink } from "../ExperimentLink";
import { InvalidatePlan } from "../InvalidatePlan";
import { ErrorState } from "../States";
import { SweepCard } from "./Sweep";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "../ui/card";
import { Checkbox, Input } from "../ui/input";

/** `python -c '...'` for a snippet (single-quoted for POSIX shells). */
export function commandLine(code: string): string {
  return `python -c '${code.replace(/'/g, `'\\''`)}'`;
}

/** What the user typed for a field, as the JSON value of an override (typed like the old value). */
export function overrideValue(old: unknown, text: string): unknown {
  if (typeof old === "number") {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? n : text;
  }
  if (typeof old === "boolean") return text.trim().toLowerCase() === "true";
  if (old === null) {
    if (text.trim() === "" || text.trim() === "null") return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function RunProgress({ run, namespace }: { run: Run; namespace: string }) {
  const live = useRun(run.id).data ?? run;
  const variant = live.status === "succeeded" ? "success" : live.status === "failed" ? "failed" : "running";
  return (
    <div className="grid gap-2 rounded-md border p-2" data-testid="run-progress" data-run-status={live.status}>
      <div className="flex items-center gap-2 text-sm">
        <Badge variant={variant}>
          {live.status === "running" && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
          {live.status}
        </Badge>
        <span className="text-xs text-muted-foreground">run {live.id.slice(0, 8)} · pid {live.pid ?? "–"}</span>
        {live.returncode != null && <span className="text-xs text-muted-foreground">exit {live.returncode}</span>}
        {live.result_hash && (
          <ExperimentLink namespace={namespace} hash={live.result_hash} className="ml-auto text-xs text-primary hover:underline">
            open result {live.result_hash.slice(0, 10)}
          </ExperimentLink>
        )}
      </div>
      {live.output_tail && <pre className="max-h-48 overflow-auto rounded bg-muted p-2 font-mono text-xs">{live.output_tail}</pre>}
    </div>
  );
}

function NewExperiment({ e }: { e: ExperimentDetail }) {
  const leaves = useMemo(
    () => flattenConfig(e.config).filter((l) => l.path && !l.path.endsWith("__class__") && (l.value === null || typeof l.value !== "object")),
    [e.config],
  );
  const [edits, setEdits] = useState<Record<string, string>>({});
  const set = Object.entries(edits)
    .filter(([path, text]) => text !== formatValue(leaves.find((l) => l.path === path)?.value))
    .map(([path, text]) => `${path}=${JSON.stringify(overrideValue(leaves.find((l) => l.path === path)?.value, text))}`);
  const snippet = useSnippet(e.namespace, e.hash, set);
  const rerun = useRerun();
  const overrides = Object.fromEntries(set.map((s) => [s.slice(0, s.indexOf("=")), JSON.parse(s.slice(s.indexOf("=") + 1))]));
  return (
    <Card data-testid="new-experiment">
      <CardHeader>
        <CardTitle>New experiment from this one</CardTitle>
      </CardHeader>
      <CardContent className="grid gap-3 lg:grid-cols-2">
        <div className="grid max-h-96 content-start gap-1.5 overflow-auto pr-1">
          {leaves.length === 0 && <div className="text-sm text-muted-foreground">This config has no fields to change.</div>}
          {leaves.map((l) => (
            <label key={l.path} className="grid grid-cols-[minmax(0,1fr)_10rem] items-center gap-2 text-sm">
              <span className="truncate font-mono text-xs" title={l.path}>
                {l.path}
              </span>
              <Input
                aria-label={`value of ${l.path}`}
                className="h-7 font-mono text-xs"
                value={edits[l.path] ?? formatValue(l.value)}
                onChange={(ev) => setEdits({ ...edits, [l.path]: ev.target.value })}
              />
            </label>
          ))}
        </div>
        <div className="grid content-start gap-2">
          {snippet.error ? (
            <ErrorState error={snippet.error} />
          ) : (
            <>
              <div className="flex items-center gap-2 text-xs text-muted-foreground">
                Python {set.length > 0 && <Badge variant="secondary">{set.length} changed</Badge>}
                <span className="ml-auto" />
                <CopyButton text={snippet.data?.code ?? ""} what="new experiment snippet" label="Python" />
                <CopyButton text={commandLine(snippet.data?.code ?? "")} what="command line" label="Command" />
              </div>
              <pre className="max-h-60 overflow-auto rounded-md bg-muted p-2 font-mono text-xs" data-testid="new-snippet">
                {snippet.data?.code ?? "…"}
              </pre>
              <pre className="overflow-auto rounded-md bg-muted p-2 font-mono text-[11px] text-muted-foreground">{commandLine(snippet.data?.code ?? "")}</pre>
              <div className="flex items-center gap-2">
                <Button
                  size="sm"
                  disabled={set.length === 0 || rerun.isPending}
                  onClick={() => rerun.mutate({ ref: { namespace: e.namespace, hash: e.hash }, overrides, force: false })}
                >
                  <WandSparklesIcon /> Create it here
                </Button>
                <span className="text-xs text-muted-foreground">runs in the project's environment on the server's machine</span>
              </div>
              {rerun.error && <ErrorState error={rerun.error} />}
              {rerun.data && <RunProgress run={rerun.data} namespace={e.namespace} />}
            </>
          )}
        </div>
      </CardContent>
    </Card>
  );
}

/** Rerun, new experiment, invalidate, delete. Destructive actions ask first. */
export function ActionsTab({ e }: { e: ExperimentDetail }) {
  const ref = { namespace: e.namespace, hash: e.hash };
  const rerun = useRerun();
  const snippet = useSnippet(e.namespace, e.hash);
  const del = useDeleteExperiment();
  const inv = useInvalidateExperiment();
  const refresh = useRefreshAll();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState<null | "delete" | "invalidate">(null);
  const [dependents, setDependents] = useState(false);
  const [invalidated, setInvalidated] = useState<string | null>(null);
  return (
    <div className="grid gap-4">
      <Card data-testid="rerun">
        <CardHeader>
          <CardTitle>Rerun</CardTitle>
        </CardHeader>
        <CardContent className="grid gap-3">
          <div className="flex flex-wrap items-center gap-2">
            <Button
              onClick={() => rerun.mutate({ ref, force: true }, { onSuccess: () => window.setTimeout(() => void refresh(), 1500) })}
              disabled={rerun.isPending || e.attempt_status === "running"}
            >
              <PlayIcon /> Rerun now
            </Button>
            <CopyButton text={snippet.data?.rerun_code ?? ""} what="rerun snippet" label="Copy rerun code" />
            <span className="text-xs text-muted-foreground">recomputes it even though it is cached, in the project's environment</span>
          </div>
          {rerun.error && <ErrorState error={rerun.error} />}
          {rerun.data && <RunProgress run={rerun.data} namespace={e.namespace} />}
          <pre className="max-h-56 overflow-auto rounded-md bg-muted p-2 font-mono text-xs">{snippet.data?.rerun_code ?? "…"}</pre>
        </CardContent>
      </Card>
      <NewExperiment e={e} />
      <SweepCard e={e} />
      <Card>
        <CardHeader>
          <CardTitle>Clean up</CardTitle>
        </CardHeader>
        <CardContent className="flex flex-wrap items-center gap-2">
          <Button variant="outline" onClick={() => setConfirm("invalidate")}>
            <RotateCcwIcon /> Invalidate…
          </Button>
          <Button variant="destructive" onClick={() => setConfirm("delete")}>
            <Trash2Icon /> Delete…
          </Button>
          {invalidated && <span className="text-sm text-muted-foreground" role="status">{invalidated}</span>}
        </CardContent>
      </Card>
      <ConfirmDialog
        open={confirm === "invalidate"}
        onOpenChange={(o) => setConfirm(o ? "invalidate" : null)}
        title="Invalidate this experiment?"
        confirm="Invalidate"
        onConfirm={async () => {
          const result = await inv.mutateAsync({ ref, dependents });
          setInvalidated(`Invalidated ${result.invalidated.length}${result.skipped.length ? `, skipped ${result.skipped.length}` : ""}.`);
        }}
      >
        <p>Its cached result is dropped: the next <code>load_or_create()</code> computes it again. Its files stay.</p>
        <label className="mt-2 flex items-center gap-2 text-foreground">
          <Checkbox checked={dependents} onChange={(ev) => setDependents(ev.target.checked)} />
          also invalidate everything that depends on it
        </label>
        {confirm === "invalidate" && <InvalidatePlan refs={[ref]} dependents={dependents} />}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "delete"}
        onOpenChange={(o) => setConfirm(o ? "delete" : null)}
        title="Delete this experiment?"
        confirm="Delete"
        onConfirm={async () => {
          await del.mutateAsync(ref);
          await navigate({ to: "/experiments" });
        }}
      >
        <p>
          <span className="font-mono">{e.furu_dir}</span> is removed with everything in it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
