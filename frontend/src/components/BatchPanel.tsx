/** A sweep's or batch's plan (before launching) and its progress (after): shared by the sweep
 * form on an experiment's page and the "rerun these" / "run what is missing" dialog. */
import { Link } from "@tanstack/react-router";

import { type PlannedItem, type SweepPlan, useBatchTask } from "@/api/sweeps";
import { formatValue } from "@/lib/format";

import { CopyButton } from "./CopyButton";
import { ExperimentLink } from "./ExperimentLink";
import { Badge } from "./ui/badge";

const STATUS_VARIANT = { create: "queued", cached: "success", running: "running" } as const;
const STATUS_LABEL = { create: "to create", cached: "cached", running: "running elsewhere" } as const;

function Item({ item, showValues }: { item: PlannedItem; showValues: boolean }) {
  const values = Object.entries(item.values ?? {});
  return (
    <li className="flex items-center gap-2 py-0.5 text-xs" data-testid="plan-item" data-status={item.status}>
      <Badge variant={STATUS_VARIANT[item.status]}>{STATUS_LABEL[item.status]}</Badge>
      {showValues && values.length > 0 ? (
        <span className="font-mono">{values.map(([k, v]) => `${k}=${formatValue(v)}`).join(", ")}</span>
      ) : (
        <span className="font-mono">{item.namespace.split(".").at(-1)}</span>
      )}
      <ExperimentLink namespace={item.namespace} hash={item.hash} className="font-mono text-muted-foreground hover:underline">
        {item.hash.slice(0, 10)}
      </ExperimentLink>
      {item.status === "create" && item.reason && item.reason !== "missing" && <span className="text-muted-foreground">({item.reason})</span>}
    </li>
  );
}

/** The plan: its summary line, each configuration with its status, the dependencies, and
 * the Python that does the same. */
export function PlanView({ plan }: { plan: SweepPlan }) {
  return (
    <div className="grid gap-2" data-testid="sweep-plan">
      <div className="text-sm font-medium" data-testid="plan-summary">
        Plan: {plan.summary}
      </div>
      <ul className="max-h-56 overflow-auto rounded-md border p-2">
        {plan.items.map((item, i) => (
          <Item key={`${item.hash}-${i}`} item={item} showValues />
        ))}
      </ul>
      {plan.dependencies.length > 0 && (
        <details className="text-xs">
          <summary className="cursor-pointer text-muted-foreground">{plan.dependencies.length} dependencies to create first</summary>
          <ul className="mt-1 rounded-md border p-2">
            {plan.dependencies.map((item) => (
              <Item key={item.hash} item={item} showValues={false} />
            ))}
          </ul>
        </details>
      )}
      <details className="text-xs" data-testid="plan-code">
        <summary className="cursor-pointer text-muted-foreground">
          The Python that does the same <CopyButton text={plan.code} what="batch code" label="Copy" />
        </summary>
        <pre className="mt-1 max-h-60 overflow-auto rounded-md bg-muted p-2 font-mono text-xs">{plan.code}</pre>
      </details>
    </div>
  );
}

/** The hashes (full, or the 9-digit prefix of a progress line) created so far: each
 * `furu-batch: 3/6 created Fit 01307a3cd` line, then the outcome's list once it ends. */
export function createdSoFar(log: string, created: string[]): Set<string> {
  const out = new Set(created.map((r) => r.split("/").at(-1) ?? r));
  for (const m of log.matchAll(/^furu-batch: \d+\/\d+ created \S+ ([0-9a-f]{9})$/gm)) out.add(m[1]);
  return out;
}

type Outcome = { created?: string[]; failed?: { ref: string; error: string }[]; skipped?: { ref: string; error: string }[] };

/** A launched batch: its status and last progress line while it runs, then the experiments it
 * created (links) and the failures. The table is refreshed as it goes. */
export function BatchProgress({ taskId, items }: { taskId: string; items: PlannedItem[] }) {
  const task = useBatchTask(taskId).data;
  if (!task) return <div className="text-sm text-muted-foreground">Starting…</div>;
  const outcome = (task.result ?? {}) as Outcome;
  const variant = task.status === "succeeded" ? "success" : task.status === "failed" ? "failed" : "running";
  const ours = new Set(items.map((i) => `${i.namespace}/${i.hash}`));
  const done = createdSoFar(task.output_tail, outcome.created ?? []);
  const rows = items.filter((i) => i.status !== "create" || done.has(i.hash) || done.has(i.hash.slice(0, 9)));
  const hashes = [...ours].map((r) => r.split("/")[1]);
  return (
    <div className="grid gap-2 rounded-md border p-2" data-testid="batch-progress" data-status={task.status}>
      <div className="flex items-center gap-2 text-sm">
        <Badge variant={variant}>
          {task.status === "running" && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
          {task.status}
        </Badge>
        <span className="font-mono text-xs text-muted-foreground" data-testid="batch-progress-line">
          {task.progress ?? (task.status === "running" ? "planning…" : `${outcome.created?.length ?? 0} created`)}
        </span>
        <Link
          to="/experiments"
          search={{ q: `hash in (${hashes.map((h) => JSON.stringify(h)).join(", ")})` }}
          className="ml-auto text-xs text-primary hover:underline"
        >
          show in the table
        </Link>
      </div>
      {rows.length > 0 && (
        <ul className="max-h-56 overflow-auto" data-testid="batch-rows">
          {rows.map((item, i) => (
            <li key={`${item.hash}-${i}`} className="flex items-center gap-2 py-0.5 text-xs" data-testid="batch-row">
              <Badge variant="success">{item.status === "create" ? "created" : item.status === "running" ? "was running" : "cached"}</Badge>
              <ExperimentLink namespace={item.namespace} hash={item.hash} className="font-mono hover:underline">
                {item.namespace.split(".").at(-1)} {item.hash.slice(0, 10)}
              </ExperimentLink>
              <span className="font-mono text-muted-foreground">
                {Object.entries(item.values ?? {})
                  .map(([k, v]) => `${k}=${formatValue(v)}`)
                  .join(", ")}
              </span>
            </li>
          ))}
        </ul>
      )}
      {task.error && <div className="text-sm text-destructive">{task.error}</div>}
      {(outcome.failed ?? []).map((f) => (
        <div key={f.ref} className="font-mono text-xs text-destructive">
          failed {f.ref}: {f.error}
        </div>
      ))}
      {task.status === "failed" && task.output_tail && (
        <pre className="max-h-48 overflow-auto rounded bg-muted p-2 font-mono text-xs">{task.output_tail}</pre>
      )}
    </div>
  );
}
