/**
 * The migration helper: choose a class, see its stale experiments and how each differs from
 * what the current code makes of it, choose how to migrate them ("new default", "a value" per
 * new field, "only these"), preview old hash → new hash, confirm, follow the progress, and open
 * the results. The server runs `furu migrate` in the project's environment; nothing is copied
 * or recomputed (ADR 0005 §5).
 */
import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import { ArrowRightIcon, EyeIcon, HistoryIcon } from "lucide-react";
import { useEffect, useMemo, useState } from "react";

import {
  useApplyMigration,
  useInvalidateCode,
  useManifest,
  usePreviewMigration,
  useTask,
  type ManifestClass,
  type MigrationPlan,
} from "@/api/code";
import { useSearch } from "@/api/queries";
import { ConfirmDialog } from "@/components/ConfirmDialog";
import { ExperimentLink } from "@/components/ExperimentLink";
import { ManifestRefresh } from "@/components/ManifestRefresh";
import { StaleBadge } from "@/components/StaleBadge";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { ExperimentStatus } from "@/components/StatusBadge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox, Input, Select } from "@/components/ui/input";
import {
  addedFields,
  aliasesOfClass,
  migratedAway,
  changeText,
  dagIsMissingManifest,
  migrationBody,
  resultItems,
  staleOfClass,
  staleText,
  type MigrationBody,
  type MigrationMode,
} from "@/lib/evolution";
import { formatValue } from "@/lib/format";
import { cn } from "@/lib/utils";

const route = getRouteApi("/migrate");
const MODES: { mode: MigrationMode; label: string; what: string }[] = [
  { mode: "default", label: "new default", what: "every new field takes its default from the code" },
  { mode: "value", label: "a value", what: "set the new fields to the values below" },
  { mode: "only", label: "only these", what: "migrate only the experiments ticked below (with the values below, if any)" },
];

function defaultText(cls: ManifestClass | undefined, field: string): string {
  const f = cls?.fields.find((x) => x.name === field);
  if (!f?.has_default) return "";
  return typeof f.default === "object" && f.default !== null ? JSON.stringify(f.default) : formatValue(f.default);
}

function PlanTable({ plan, testid }: { plan: MigrationPlan; testid: string }) {
  if (plan.items.length === 0) return <div className="text-sm text-muted-foreground">Nothing to migrate: no stored experiment of this class differs from the code in a way a migration fixes.</div>;
  return (
    <div className="max-h-96 overflow-auto rounded-md border" data-testid={testid}>
      <table className="w-full text-sm">
        <thead className="sticky top-0 bg-muted text-xs text-muted-foreground">
          <tr>
            <th className="px-2 py-1.5 text-left">class</th>
            <th className="px-2 py-1.5 text-left">old hash → new hash</th>
            <th className="px-2 py-1.5 text-left">changes</th>
            <th className="px-2 py-1.5 text-left">status</th>
          </tr>
        </thead>
        <tbody>
          {plan.items.map((it) => (
            <tr key={`${it.namespace}/${it.old_hash}`} className="border-t" data-testid="plan-row" data-namespace={it.namespace} data-old={it.old_hash} data-new={it.new_hash ?? undefined}>
              <td className="px-2 py-1">
                {it.namespace.slice(it.namespace.lastIndexOf(".") + 1)}
                {it.dependent && <span className="ml-1 text-xs text-muted-foreground">(dependent)</span>}
              </td>
              <td className="px-2 py-1 font-mono text-xs whitespace-nowrap">
                <ExperimentLink namespace={it.namespace} hash={it.old_hash}>{it.old_hash.slice(0, 10)}</ExperimentLink>
                <ArrowRightIcon className="mx-1 inline size-3" />
                {it.new_hash ? it.new_hash.slice(0, 10) : "–"}
              </td>
              <td className="px-2 py-1 text-xs">{(it.changes ?? []).map(changeText).join("; ") || "–"}</td>
              <td className="px-2 py-1 text-xs">
                <Badge variant={it.status === "failed" ? "failed" : it.status === "skipped" ? "muted" : "secondary"}>{it.status}</Badge>
                {it.reason && <span className="ml-1 text-muted-foreground">{it.reason}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MigrationProgress({ taskId, namespace, onDone }: { taskId: string; namespace: string; onDone: () => void }) {
  const task = useTask(taskId, "migration");
  const status = task.data?.status ?? "running";
  useEffect(() => {
    if (status !== "running") onDone();
    // Once, when the task ends.
    // oxlint-disable-next-line react-hooks/exhaustive-deps
  }, [status]);
  const items = resultItems(task.data?.result, namespace);
  return (
    <div className="grid gap-2 rounded-md border p-3" data-testid="migration-progress" data-task-status={status}>
      <div className="flex items-center gap-2 text-sm">
        <Badge variant={status === "succeeded" ? "success" : status === "failed" ? "failed" : "running"}>
          {status === "running" && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
          {status}
        </Badge>
        <span className="text-xs text-muted-foreground">{task.data?.progress ?? (status === "running" ? "migrating…" : "")}</span>
      </div>
      {task.error && <ErrorState error={task.error} />}
      {task.data?.error && <div className="text-sm text-destructive" role="alert">{task.data.error}</div>}
      {items.length > 0 && (
        <ul className="grid max-h-72 gap-1 overflow-auto text-sm" data-testid="migration-result">
          {items.map((it) => (
            <li key={`${it.namespace}/${it.old_hash}`} className="flex items-center gap-2">
              <Badge variant={it.status === "migrated" ? "success" : it.status === "failed" ? "failed" : "muted"}>{it.status}</Badge>
              <span>{it.namespace.slice(it.namespace.lastIndexOf(".") + 1)}</span>
              <ExperimentLink namespace={it.namespace} hash={it.old_hash}>{it.old_hash.slice(0, 10)}</ExperimentLink>
              <ArrowRightIcon className="size-3" />
              {it.new_hash ? <ExperimentLink namespace={it.namespace} hash={it.new_hash}>{it.new_hash.slice(0, 10)}</ExperimentLink> : "–"}
              {it.reason && <span className="text-xs text-muted-foreground">{it.reason}</span>}
            </li>
          ))}
        </ul>
      )}
      {status === "failed" && task.data?.output_tail && (
        <pre className="max-h-48 overflow-auto rounded bg-muted p-2 font-mono text-xs">{task.data.output_tail}</pre>
      )}
    </div>
  );
}

export function ClassMigration({ cls }: { cls: ManifestClass }) {
  const ns = cls.namespace;
  const stale = useSearch({ query: staleOfClass(ns), sort: "updated", order: "desc", limit: 500, offset: 0 });
  // A migrated experiment stays stale (the code no longer makes its directory), but its result
  // is reused by the alias: it is not left to migrate.
  const aliases = useSearch({ query: aliasesOfClass(ns), sort: "updated", order: "desc", limit: 500, offset: 0 });
  const away = useMemo(() => migratedAway(aliases.data?.items ?? []), [aliases.data]);
  const differences = usePreviewMigration();
  const preview = usePreviewMigration();
  const apply = useApplyMigration();
  const invalidate = useInvalidateCode();
  const [mode, setMode] = useState<MigrationMode>("default");
  const [values, setValues] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [previewed, setPreviewed] = useState<MigrationBody | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [taskId, setTaskId] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);

  // How each stale experiment differs: the plan of "new default" (a dry run, nothing written).
  useEffect(() => {
    differences.mutate({ namespace: ns, mode: "default", values: {}, hashes: [] });
    // Once per class.
    // oxlint-disable-next-line react-hooks/exhaustive-deps
  }, [ns]);
  const changesOf = useMemo(() => new Map((differences.data?.items ?? []).map((it) => [`${it.namespace}/${it.old_hash}`, it.changes ?? []])), [differences.data]);
  const newFields = useMemo(() => {
    const fromPlan = addedFields(differences.data?.items ?? []);
    return fromPlan.length ? fromPlan : [];
  }, [differences.data]);
  const types = useMemo(() => Object.fromEntries(cls.fields.map((f) => [f.name, f.type])), [cls]);
  const body = (): MigrationBody => {
    const typed = Object.fromEntries(newFields.map((f) => [f, values[f] ?? (mode === "value" ? defaultText(cls, f) : "")]));
    return migrationBody({ namespace: ns, mode, values: typed, hashes: [...chosen], types });
  };
  const current = (() => {
    try {
      return JSON.stringify(body());
    } catch {
      return null;
    }
  })();
  const upToDate = previewed !== null && preview.data && JSON.stringify(previewed) === current;
  const runPreview = () => {
    setInvalid(null);
    try {
      const b = body();
      setPreviewed(b);
      preview.mutate(b);
    } catch (err) {
      setInvalid(err instanceof Error ? err.message : String(err));
    }
  };
  const items = stale.data?.items ?? [];
  const left = items.filter((e) => !away.has(e.hash));
  const migratable = preview.data?.items.filter((it) => it.status === "planned").length ?? 0;

  return (
    <div className="grid gap-4" data-testid="class-migration" data-namespace={ns}>
      <Card>
        <CardHeader>
          <CardTitle>
            Stale experiments of {cls.class_name}{" "}
            <span className="font-normal text-muted-foreground" data-testid="stale-count">
              ({stale.data ? stale.data.total.toLocaleString("en-US") : "…"})
            </span>{" "}
            {stale.data && aliases.data && (
              <span className="font-normal text-muted-foreground" data-testid="to-migrate" data-count={left.length}>
                · {left.length.toLocaleString("en-US")} left to migrate
              </span>
            )}
          </CardTitle>
          <Link to="/experiments" search={{ q: staleOfClass(ns) }} className="ml-auto text-xs text-primary hover:underline">
            Open in Experiments
          </Link>
        </CardHeader>
        <CardContent className="p-0">
          {stale.error ? (
            <ErrorState error={stale.error} />
          ) : !stale.data ? (
            <LoadingState rows={4} label="Loading the stale experiments" />
          ) : items.length === 0 ? (
            <EmptyState title="No stale experiment of this class">The stored experiments of {cls.class_name} are what the current code makes.</EmptyState>
          ) : (
            <div className="max-h-96 overflow-auto">
              <table className="w-full text-sm" data-testid="stale-list">
                <thead className="sticky top-0 bg-muted text-xs text-muted-foreground">
                  <tr>
                    <th className="w-8 px-2 py-1.5">
                      <Checkbox
                        aria-label="Choose all"
                        checked={left.length > 0 && left.every((e) => chosen.has(e.hash))}
                        onChange={(ev) => {
                          setChosen(ev.target.checked ? new Set(left.map((e) => e.hash)) : new Set());
                          setMode("only");
                        }}
                      />
                    </th>
                    <th className="px-2 py-1.5 text-left">status</th>
                    <th className="px-2 py-1.5 text-left">experiment</th>
                    <th className="px-2 py-1.5 text-left">why it is stale</th>
                    <th className="px-2 py-1.5 text-left">how it differs from the code</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e) => {
                    const changes = changesOf.get(`${e.namespace}/${e.hash}`);
                    const alias = away.get(e.hash);
                    return (
                      <tr key={e.hash} className={cn("border-t", alias && "text-muted-foreground")} data-testid="stale-row" data-hash={e.hash} data-migrated={alias ? "true" : undefined}>
                        <td className="px-2 py-1 text-center">
                          <Checkbox
                            disabled={!!alias}
                            aria-label={`Choose ${e.hash.slice(0, 10)}`}
                            checked={chosen.has(e.hash)}
                            onChange={() => {
                              const next = new Set(chosen);
                              if (next.has(e.hash)) next.delete(e.hash);
                              else next.add(e.hash);
                              setChosen(next);
                              setMode("only");
                            }}
                          />
                        </td>
                        <td className="px-2 py-1">
                          <span className="flex items-center gap-1">
                            <ExperimentStatus result={e.result_status} attempt={e.attempt_status} />
                            <StaleBadge stale={e.stale} kind={e.stale_kind} reason={e.stale_reason} namespace={e.namespace} link={false} />
                          </span>
                        </td>
                        <td className="px-2 py-1">
                          <ExperimentLink namespace={e.namespace} hash={e.hash}>
                            {e.display_name ?? e.name ?? <span className="font-mono text-xs">{e.hash.slice(0, 10)}</span>}
                          </ExperimentLink>
                        </td>
                        <td className="px-2 py-1 text-xs text-muted-foreground">{staleText(e.stale_reason)}</td>
                        <td className="px-2 py-1 text-xs" data-testid="stale-changes">
                          {alias ? (
                            <span className="flex items-center gap-1">
                              migrated to <ExperimentLink namespace={e.namespace} hash={alias} />
                            </span>
                          ) : changes ? (
                            changes.map(changeText).join("; ") || "–"
                          ) : differences.isPending ? (
                            "…"
                          ) : (
                            "–"
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {differences.error && (
            <div className="p-3">
              <ErrorState error={differences.error} />
            </div>
          )}
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Migrate</CardTitle>
        </CardHeader>
        <CardContent className="grid gap-3">
          <div className="flex flex-wrap gap-2" role="radiogroup" aria-label="How to migrate">
            {MODES.map((m) => (
              <label
                key={m.mode}
                className={cn("flex cursor-pointer items-center gap-2 rounded-md border px-3 py-1.5 text-sm", mode === m.mode && "border-primary bg-primary/5")}
                title={m.what}
              >
                <input type="radio" name="migration-mode" value={m.mode} checked={mode === m.mode} onChange={() => setMode(m.mode)} className="accent-primary" />
                {m.label}
              </label>
            ))}
          </div>
          <div className="text-xs text-muted-foreground">{MODES.find((m) => m.mode === mode)?.what}{mode === "only" && ` (${chosen.size} ticked)`}</div>
          {mode !== "default" && newFields.length > 0 && (
            <div className="grid max-w-xl gap-1.5" data-testid="migration-values">
              {newFields.map((f) => (
                <label key={f} className="grid grid-cols-[10rem_minmax(0,1fr)_6rem] items-center gap-2 text-sm">
                  <span className="truncate font-mono text-xs">{f}</span>
                  <Input
                    aria-label={`value of ${f}`}
                    className="h-8 font-mono text-xs"
                    placeholder={defaultText(cls, f) || "value"}
                    value={values[f] ?? (mode === "value" ? defaultText(cls, f) : "")}
                    onChange={(ev) => setValues({ ...values, [f]: ev.target.value })}
                  />
                  <span className="truncate text-xs text-muted-foreground">{types[f] ?? ""}</span>
                </label>
              ))}
            </div>
          )}
          {mode !== "default" && newFields.length === 0 && differences.data && (
            <div className="text-xs text-muted-foreground">No field is new in the code: there is no value to set.</div>
          )}
          <div className="flex flex-wrap items-center gap-2">
            <Button variant="outline" onClick={runPreview} disabled={preview.isPending}>
              <EyeIcon /> {preview.isPending ? "Previewing…" : "Preview"}
            </Button>
            <Button onClick={() => setConfirm(true)} disabled={!upToDate || migratable === 0 || apply.isPending}>
              <HistoryIcon /> Migrate…
            </Button>
            {!upToDate && preview.data && <span className="text-xs text-muted-foreground">The choices changed: preview again.</span>}
          </div>
          {invalid && <div className="text-sm text-destructive" role="alert">{invalid}</div>}
          {preview.error && <ErrorState error={preview.error} />}
          {preview.data && upToDate && (
            <>
              <div className="text-sm" data-testid="preview-summary">
                {migratable} experiment{migratable === 1 ? "" : "s"} would be migrated (old hash → new hash); nothing is copied or
                recomputed: each new directory links to the old result.
              </div>
              <PlanTable plan={preview.data} testid="preview-table" />
              <div className="font-mono text-[11px] text-muted-foreground" title="The command that applies it">{preview.data.command.join(" ")}</div>
            </>
          )}
          {apply.error && <ErrorState error={apply.error} />}
          {taskId && (
            <MigrationProgress
              key={taskId}
              taskId={taskId}
              namespace={ns} onDone={() => {
                setPreviewed(null);
                preview.reset();
                void invalidate().then(() => differences.mutate({ namespace: ns, mode: "default", values: {}, hashes: [] }));
              }}
            />
          )}
        </CardContent>
      </Card>
      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title={`Migrate ${migratable} experiment${migratable === 1 ? "" : "s"} of ${cls.class_name}?`}
        confirm="Migrate"
        onConfirm={async () => {
          if (!previewed) return;
          const task = await apply.mutateAsync(previewed);
          setTaskId(task.id);
          setChosen(new Set());
        }}
      >
        <p>
          Each gets a new directory under its new hash whose files link to the old result; both directories record the migration, and{" "}
          <code>furu migrate --undo</code> takes it back.
        </p>
      </ConfirmDialog>
    </div>
  );
}

export function MigratePage() {
  const search = route.useSearch();
  const navigate = useNavigate({ from: "/migrate" });
  const manifest = useManifest();
  const classes = useMemo(
    () => (manifest.data?.classes ?? []).toSorted((a, b) => b.stale - a.stale || a.class_name.localeCompare(b.class_name)),
    [manifest.data],
  );
  const cls = classes.find((c) => c.namespace === search.ns);
  const removed = search.ns && manifest.data?.removed_classes.includes(search.ns);

  return (
    <div className="grid gap-3" data-testid="migrate-page">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-lg font-semibold">Migrate</h1>
        <span className="text-sm text-muted-foreground">
          reuse stored results after a code change
          {manifest.data && ` · ${manifest.data.stale.toLocaleString("en-US")} stale in the store`}
        </span>
        <div className="ml-auto">
          <ManifestRefresh />
        </div>
      </div>
      {manifest.error ? (
        dagIsMissingManifest(manifest.error) ? (
          <Card>
            <EmptyState title="The server does not know the code yet">
              Run <code>furu manifest</code> in the project, or press <em>Refresh from code</em> above: stale experiments are found by comparing
              the store with the code.
            </EmptyState>
          </Card>
        ) : (
          <ErrorState error={manifest.error} retry={() => void manifest.refetch()} />
        )
      ) : !manifest.data ? (
        <LoadingState rows={4} label="Loading the code's classes" />
      ) : (
        <>
          <div className="flex flex-wrap items-center gap-2">
            <Select
              aria-label="Class to migrate"
              value={search.ns ?? ""}
              onChange={(ev) => void navigate({ search: { ns: ev.target.value || undefined } })}
              className="max-w-xl"
            >
              <option value="">Choose a class…</option>
              {classes.map((c) => (
                <option key={c.namespace} value={c.namespace}>
                  {c.class_name} — {c.stale} stale of {c.experiments} ({c.namespace})
                </option>
              ))}
            </Select>
          </div>
          {removed ? (
            <Card>
              <EmptyState title="This class is gone from the code">
                Its experiments cannot be migrated to a class that no longer exists. <code>furu stale</code> lists them; delete them when you no
                longer need them.
              </EmptyState>
            </Card>
          ) : cls ? (
            <ClassMigration key={cls.namespace} cls={cls} />
          ) : search.ns ? (
            <Card>
              <EmptyState title="No such class in the code">
                <span className="font-mono">{search.ns}</span> is not in the manifest: refresh it from the code.
              </EmptyState>
            </Card>
          ) : (
            <Card>
              <EmptyState title="Choose a class">
                Classes with stale experiments come first. A stale experiment is one the current code would no longer produce (a field was added,
                removed, renamed or retyped, or a dependency is stale).
              </EmptyState>
            </Card>
          )}
        </>
      )}
    </div>
  );
}
