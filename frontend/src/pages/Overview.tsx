import { Link } from "@tanstack/react-router";
import { ActivityIcon, AlertOctagonIcon, DatabaseIcon, FlaskConicalIcon, HardDriveIcon } from "lucide-react";
import type { ReactNode } from "react";

import type { ExperimentSummary } from "@/api/client";
import { useNamespaces, useSearch, useStats } from "@/api/queries";
import { ExperimentLink } from "@/components/ExperimentLink";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { ExperimentStatus, STATUS_COLORS } from "@/components/StatusBadge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { formatAgo, formatBytes, formatDuration, formatNumber } from "@/lib/format";

function Metric({ icon, label, value, testId }: { icon: ReactNode; label: string; value: ReactNode; testId: string }) {
  return (
    <Card className="flex items-center gap-3 p-4" data-testid={testId}>
      <div className="rounded-md bg-accent p-2 text-accent-foreground [&_svg]:size-5">{icon}</div>
      <div>
        <div className="text-xs text-muted-foreground">{label}</div>
        <div className="text-xl font-semibold tabular-nums">{value}</div>
      </div>
    </Card>
  );
}

function StatusBar({ counts, total }: { counts: Record<string, number>; total: number }) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0).toSorted((a, b) => b[1] - a[1]);
  return (
    <div className="grid gap-2">
      <div className="flex h-3 overflow-hidden rounded-full bg-muted">
        {entries.map(([status, n]) => (
          <div key={status} style={{ width: `${(100 * n) / Math.max(total, 1)}%`, background: STATUS_COLORS[status] ?? "#888" }} title={`${status}: ${n}`} />
        ))}
      </div>
      <div className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
        {entries.map(([status, n]) => (
          <Link key={status} to="/experiments" search={{ q: `status = ${status}` }} className="flex items-center gap-1.5 hover:underline">
            <span className="size-2.5 rounded-full" style={{ background: STATUS_COLORS[status] ?? "#888" }} />
            {status} <span className="text-muted-foreground tabular-nums">{formatNumber(n)}</span>
          </Link>
        ))}
      </div>
    </div>
  );
}

function ExperimentRows({ items, empty, when }: { items: ExperimentSummary[] | undefined; empty: string; when: (e: ExperimentSummary) => string }) {
  if (!items) return <LoadingState rows={3} />;
  if (items.length === 0) return <div className="px-4 py-6 text-center text-sm text-muted-foreground">{empty}</div>;
  return (
    <ul className="divide-y">
      {items.map((e) => (
        <li key={`${e.namespace}/${e.hash}`} className="flex items-center gap-3 px-4 py-2 text-sm">
          <ExperimentStatus result={e.result_status} attempt={e.attempt_status} />
          <ExperimentLink namespace={e.namespace} hash={e.hash} className="min-w-0 flex-1 truncate hover:underline">
            <span className="font-medium">{e.class_name}</span>{" "}
            <span className="font-mono text-xs text-muted-foreground">{e.name ?? e.hash.slice(0, 10)}</span>
          </ExperimentLink>
          <span className="shrink-0 text-xs text-muted-foreground">{when(e)}</span>
        </li>
      ))}
    </ul>
  );
}

function Section({ title, link, children, testId }: { title: string; link?: { q: string; sort?: "updated" | "created" }; children: ReactNode; testId: string }) {
  return (
    <Card data-testid={testId}>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        {link && (
          <Link to="/experiments" search={{ q: link.q || undefined, sort: link.sort }} className="ml-auto text-xs text-primary hover:underline">
            see all
          </Link>
        )}
      </CardHeader>
      {children}
    </Card>
  );
}

export function OverviewPage() {
  const stats = useStats();
  const namespaces = useNamespaces();
  const running = useSearch({ query: "attempt_status in (running, queued)", sort: "started", order: "desc", limit: 8, offset: 0 });
  const failures = useSearch({ query: "status = failed", sort: "updated", order: "desc", limit: 8, offset: 0 });
  const recent = useSearch({ query: "", sort: "created", order: "desc", limit: 10, offset: 0 });

  if (stats.error) return <ErrorState error={stats.error} retry={() => void stats.refetch()} />;
  if (!stats.data) return <LoadingState rows={6} label="Loading overview" />;
  const s = stats.data;
  if (s.total === 0 && !s.index.built) {
    return (
      <div className="grid gap-4">
        <h1 className="text-lg font-semibold">Overview</h1>
        <Card>
          <EmptyState title="Indexing the store">
            Read {s.index.experiments.toLocaleString("en-US")}
            {s.index.build_total != null ? ` of ${s.index.build_total.toLocaleString("en-US")}` : ""} experiments so far.
          </EmptyState>
        </Card>
      </div>
    );
  }
  if (s.total === 0) {
    return (
      <div className="grid gap-4">
        <h1 className="text-lg font-semibold">Overview</h1>
        <Card>
          <EmptyState title="This store has no experiments yet">
            Steps appear here once a pipeline writing to this store runs. Try <code>make demo</code> in the furu
            repository, or call <code>load_or_create()</code> on a step with <code>FURU_PATH</code> pointing here.
          </EmptyState>
        </Card>
      </div>
    );
  }
  const classes = (namespaces.data ?? []).toSorted((a, b) => b.size_bytes - a.size_bytes).slice(0, 8);
  return (
    <div className="grid gap-4">
      <h1 className="text-lg font-semibold">Overview</h1>
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Metric testId="metric-total" icon={<FlaskConicalIcon />} label="Experiments" value={formatNumber(s.total)} />
        <Metric testId="metric-running" icon={<ActivityIcon />} label="Running now" value={formatNumber(s.running)} />
        <Metric testId="metric-failed" icon={<AlertOctagonIcon />} label="Failed" value={formatNumber(s.failed)} />
        <Metric testId="metric-disk" icon={<HardDriveIcon />} label="Disk used" value={formatBytes(s.size_bytes)} />
      </div>
      <Card data-testid="status-counts">
        <CardHeader>
          <CardTitle>By status</CardTitle>
          <span className="ml-auto text-xs text-muted-foreground">{s.namespaces} classes</span>
        </CardHeader>
        <CardContent className="grid gap-4 md:grid-cols-2">
          <div>
            <div className="mb-2 text-xs text-muted-foreground">Result</div>
            <StatusBar counts={s.by_result_status} total={s.total} />
          </div>
          <div>
            <div className="mb-2 text-xs text-muted-foreground">Latest attempt</div>
            <StatusBar counts={s.by_attempt_status} total={Object.values(s.by_attempt_status).reduce((a, b) => a + b, 0)} />
          </div>
        </CardContent>
      </Card>
      <div className="grid gap-4 lg:grid-cols-3">
        <Section title="Running now" testId="running-now" link={{ q: "attempt_status in (running, queued)" }}>
          <ExperimentRows items={running.data?.items} empty="Nothing is running." when={(e) => `started ${formatAgo(e.started_at)}`} />
        </Section>
        <Section title="Recent failures" testId="recent-failures" link={{ q: "status = failed" }}>
          <ExperimentRows items={failures.data?.items} empty="No failures." when={(e) => formatAgo(e.updated_at)} />
        </Section>
        <Section title="Recent experiments" testId="recent-experiments" link={{ q: "", sort: "created" }}>
          <ExperimentRows items={recent.data?.items} empty="None yet." when={(e) => `${formatAgo(e.created_at)} · ${formatDuration(e.runtime_sec)}`} />
        </Section>
      </div>
      <Card data-testid="disk-by-class">
        <CardHeader>
          <CardTitle>Disk used by class</CardTitle>
          <DatabaseIcon className="ml-auto size-4 text-muted-foreground" />
        </CardHeader>
        <CardContent className="grid gap-2">
          {classes.map((n) => (
            <div key={n.namespace} className="grid grid-cols-[minmax(0,16rem)_1fr_5rem] items-center gap-3 text-sm">
              <Link to="/experiments" search={{ q: `namespace = ${n.namespace}` }} className="truncate hover:underline" title={n.namespace}>
                {n.class_name} <span className="text-xs text-muted-foreground">({formatNumber(n.total)})</span>
              </Link>
              <div className="h-2 rounded-full bg-muted">
                <div className="h-2 rounded-full bg-primary" style={{ width: `${(100 * n.size_bytes) / Math.max(classes[0]?.size_bytes ?? 1, 1)}%` }} />
              </div>
              <span className="text-right text-xs tabular-nums text-muted-foreground">{formatBytes(n.size_bytes)}</span>
            </div>
          ))}
        </CardContent>
      </Card>
    </div>
  );
}
