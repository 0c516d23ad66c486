import { ChevronRightIcon } from "lucide-react";
import type { ReactNode } from "react";

import type { CodeStateInfo, ExperimentDetail, Related, Relationships } from "@/api/client";
import { formatBytes, formatDuration, formatPercent, formatTime } from "@/lib/format";

import { CopyButton } from "../CopyButton";
import { ExperimentLink } from "../ExperimentLink";
import { ExperimentStatus, isInvalidated, StatusBadge } from "../StatusBadge";
import { Card, CardContent, CardHeader, CardTitle } from "../ui/card";
import { Truncations } from "./Truncations";

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0 break-words">{children ?? "–"}</dd>
    </>
  );
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : null);

/** The latest attempt: where and when it ran, and its error with the traceback. */
export function AttemptCard({ e }: { e: ExperimentDetail }) {
  const attempt = ((e.state ?? {}) as { attempt?: Record<string, unknown> | null }).attempt ?? null;
  const scheduler = (attempt?.scheduler ?? {}) as Record<string, unknown>;
  return (
    <Card data-testid="attempt">
      <CardHeader>
        <CardTitle>Current attempt {e.attempt_number != null && <span className="text-muted-foreground">#{e.attempt_number}</span>}</CardTitle>
        <span className="ml-auto flex items-center gap-2">
          {isInvalidated(e.result_status, e.attempt_status) && (
            <span className="text-xs font-normal text-muted-foreground" data-testid="attempt-invalidated">
              its result was invalidated since: the step reads incomplete
            </span>
          )}
          <StatusBadge status={e.attempt_status} />
        </span>
      </CardHeader>
      <CardContent className="grid gap-3">
        {attempt ? (
          <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1 text-sm">
            <Field label="backend">{e.backend}</Field>
            <Field label="host / pid">{`${e.hostname ?? "–"} / ${str(attempt.pid) ?? "–"}`}</Field>
            <Field label="started">{formatTime(e.started_at)}</Field>
            <Field label="ended">{formatTime(e.ended_at)}</Field>
            <Field label="runtime">{formatDuration(e.runtime_sec)}</Field>
            {str(attempt.reason) && <Field label="reason">{str(attempt.reason)}</Field>}
            {Object.keys(scheduler).length > 0 && <Field label="scheduler">{<span className="font-mono text-xs">{JSON.stringify(scheduler)}</span>}</Field>}
          </dl>
        ) : (
          <div className="text-sm text-muted-foreground">No attempt recorded.</div>
        )}
        {attempt && <ResourcesList e={e} />}
        {e.error && (e.error.type || e.error.message) && (
          <div className="grid gap-2" data-testid="error">
            <div className="rounded-md border border-destructive/40 bg-destructive/5 p-2 text-sm">
              <span className="font-mono font-semibold text-destructive">{e.error.type}</span>
              {e.error.message && <span className="font-mono">: {e.error.message}</span>}
            </div>
            {e.error.traceback && (
              <details open>
                <summary className="cursor-pointer text-xs text-muted-foreground">Traceback</summary>
                <pre className="mt-1 max-h-80 overflow-auto rounded-md bg-muted p-2 font-mono text-xs leading-relaxed" data-testid="traceback">
                  {e.error.traceback}
                </pre>
              </details>
            )}
          </div>
        )}
      </CardContent>
    </Card>
  );
}

/** What the latest attempt's `_create()` used (recorded when it ended; docs/concepts.md). */
export function ResourcesList({ e }: { e: ExperimentDetail }) {
  if (e.wall_sec == null && e.peak_rss_bytes == null) {
    return (
      <div className="text-sm text-muted-foreground" data-testid="resources">
        No resources recorded (the attempt is still running, or an older furu ran it).
      </div>
    );
  }
  const gpu = e.gpu_peak_memory_bytes != null;
  return (
    <div data-testid="resources">
      <div className="text-xs font-medium text-muted-foreground">Resources used by _create()</div>
      <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1 text-sm">
        <Field label="wall time">{formatDuration(e.wall_sec)}</Field>
        <Field label="CPU user">{formatDuration(e.cpu_user_sec)}</Field>
        <Field label="CPU system">{formatDuration(e.cpu_system_sec)}</Field>
        <Field label="peak memory">{formatBytes(e.peak_rss_bytes)}</Field>
        <Field label="GPU memory">{gpu ? formatBytes(e.gpu_peak_memory_bytes) : "not measured (no nvidia-ml-py)"}</Field>
        {gpu && <Field label="GPU utilisation">{formatPercent(e.gpu_utilization_pct)}</Field>}
      </dl>
    </div>
  );
}

/** How the experiment was made: git state, machine, command, Python. */
export function MetadataCard({ e }: { e: ExperimentDetail }) {
  const m = (e.metadata ?? {}) as Record<string, unknown>;
  return (
    <Card data-testid="metadata">
      <CardHeader>
        <CardTitle>Metadata</CardTitle>
      </CardHeader>
      <CardContent>
        {e.metadata ? (
          <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1 text-sm">
            <Field label="host">{str(m.hostname)}</Field>
            <Field label="user">{str(m.user)}</Field>
            <Field label="command">{str(m.command) && <code className="font-mono text-xs">{str(m.command)}</code>}</Field>
            <Field label="python">{str(m.python_version)}</Field>
            <Field label="executable">{str(m.executable) && <span className="font-mono text-xs">{str(m.executable)}</span>}</Field>
            <Field label="platform">{str(m.platform)}</Field>
            <Field label="created">{formatTime(str(m.timestamp) ?? e.created_at)}</Field>
            <Field label="version control">{e.version_controlled ? "version-controlled (kept with the code)" : "not version-controlled (in the store)"}</Field>
          </dl>
        ) : (
          <div className="text-sm text-muted-foreground">No readable metadata.json.</div>
        )}
        <Truncations items={e.truncations} what="This experiment's detail" />
        {e.problems.length > 0 && (
          <ul className="mt-3 list-disc pl-5 text-sm text-amber-700 dark:text-amber-300">
            {e.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

function uncommitted(c: CodeStateInfo): string {
  if (c.source === "commit") return "not recorded (only the commit)";
  if (!c.dirty) return "none (a clean checkout)";
  const parts = [];
  if (c.changed_files) parts.push(`${c.changed_files} changed file(s), ${formatBytes(c.diff_bytes)} of diff`);
  else if (c.source === "inline") parts.push(`${formatBytes(c.diff_bytes)} of diff`);
  if (c.untracked.length) parts.push(`${c.untracked.length} untracked file(s)`);
  return parts.join(", ") || "changes left out (see below)";
}

/** The code the experiment was made from (commit, uncommitted diff, untracked files) and the
 * `furu checkout` command that recreates it. */
export function CodeCard({ e }: { e: ExperimentDetail }) {
  const c = e.code_state ?? null;
  return (
    <Card data-testid="code-state">
      <CardHeader>
        <CardTitle>Code</CardTitle>
      </CardHeader>
      <CardContent className="grid gap-3">
        {c ? (
          <>
            <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1 text-sm">
              <Field label="git commit">
                <span className="font-mono text-xs">{c.commit}</span>
              </Field>
              <Field label="git branch">{c.branch}</Field>
              <Field label="git remote">{c.remote}</Field>
              <Field label="uncommitted">{uncommitted(c)}</Field>
              {c.id && (
                <Field label="code state">
                  <span className="font-mono text-xs" title={c.id}>
                    {c.id.slice(0, 16)}
                  </span>
                </Field>
              )}
            </dl>
            <div className="grid gap-1">
              <div className="text-xs text-muted-foreground">Recreate this code (run in a clone of the repository):</div>
              <div className="flex items-center gap-2">
                <code className="min-w-0 flex-1 truncate rounded-md bg-muted px-2 py-1 font-mono text-xs" data-testid="checkout-command">
                  {c.checkout_command}
                </code>
                <CopyButton text={c.checkout_command} what="checkout command" />
              </div>
            </div>
            {c.problem && <div className="text-sm text-amber-700 dark:text-amber-300">{c.problem}</div>}
            {c.left_out_count > 0 && (
              <details>
                <summary className="cursor-pointer text-xs text-amber-700 dark:text-amber-300">
                  {c.left_out_count} file(s) left out by a size limit
                </summary>
                <ul className="mt-1 list-disc pl-5 text-xs">
                  {c.left_out.map((l) => (
                    <li key={`${l.what}-${l.path}`}>
                      <span className="font-mono">{l.path}</span> ({l.what}, {formatBytes(l.bytes)}): {l.why}
                    </li>
                  ))}
                </ul>
              </details>
            )}
            {c.untracked.length > 0 && (
              <details>
                <summary className="cursor-pointer text-xs text-muted-foreground">Untracked files</summary>
                <ul className="mt-1 list-disc pl-5 font-mono text-xs">
                  {c.untracked.map((u) => (
                    <li key={u.path}>
                      {u.path} <span className="text-muted-foreground">({u.mode}, {formatBytes(u.size)})</span>
                    </li>
                  ))}
                </ul>
              </details>
            )}
            {c.diff && (
              <details>
                <summary className="cursor-pointer text-xs text-muted-foreground">
                  Uncommitted diff{c.diff_truncated ? ` (first ${formatBytes(c.diff.length)} of ${formatBytes(c.diff_bytes)})` : ""}
                </summary>
                <pre className="mt-1 max-h-80 overflow-auto rounded-md bg-muted p-2 font-mono text-xs" data-testid="code-diff">
                  {c.diff}
                </pre>
              </details>
            )}
          </>
        ) : (
          <div className="text-sm text-muted-foreground">No code state: it was made outside a git repository (or without git).</div>
        )}
      </CardContent>
    </Card>
  );
}

function RelatedList({ items, empty }: { items: Related[]; empty: string }) {
  if (items.length === 0) return <div className="py-2 text-sm text-muted-foreground">{empty}</div>;
  return (
    <ul className="divide-y">
      {items.map((r) => (
        <li key={`${r.field}-${r.namespace}/${r.hash}`} className="flex items-center gap-2 py-1.5 text-sm">
          <ExperimentStatus result={r.result_status} attempt={r.attempt_status} />
          <ExperimentLink namespace={r.namespace} hash={r.hash} className="flex min-w-0 flex-1 items-center gap-1 truncate hover:underline">
            <span className="font-medium">{r.class_name}</span>
            <span className="font-mono text-xs text-muted-foreground">{r.hash.slice(0, 10)}</span>
            <ChevronRightIcon className="size-3 text-muted-foreground" />
          </ExperimentLink>
          <span className="shrink-0 font-mono text-xs text-muted-foreground">{r.field}</span>
        </li>
      ))}
    </ul>
  );
}

/** What this experiment depends on, and everything that depends on it. */
export function RelationshipsCard({ rel }: { rel: Relationships | undefined }) {
  return (
    <Card data-testid="relationships">
      <CardHeader>
        <CardTitle>Dependencies</CardTitle>
      </CardHeader>
      <CardContent className="grid gap-3 pt-2">
        {!rel ? (
          <div className="text-sm text-muted-foreground">Loading…</div>
        ) : (
          <>
            <div>
              <div className="text-xs font-medium text-muted-foreground">Parents (it depends on)</div>
              <RelatedList items={rel.parents} empty="None." />
            </div>
            <div data-testid="children">
              <div className="text-xs font-medium text-muted-foreground">
                Children (depend on it){rel.children_total > rel.children.length && ` — ${rel.children.length} of ${rel.children_total}`}
              </div>
              <RelatedList items={rel.children} empty="None." />
            </div>
          </>
        )}
      </CardContent>
    </Card>
  );
}
