import { useSearch } from "@/api/queries";

import { ExperimentLink } from "./ExperimentLink";
import { StaleBadge } from "./StaleBadge";
import { EmptyState, ErrorState, LoadingState } from "./States";
import { ExperimentStatus } from "./StatusBadge";

/** The experiments of one class (the latest first), as a short list beside the DAG. */
export function ClassExperiments({ namespace, limit = 50 }: { namespace: string; limit?: number }) {
  const list = useSearch({ query: `namespace = ${namespace}`, sort: "updated", order: "desc", limit, offset: 0 });
  if (list.error) return <ErrorState error={list.error} />;
  if (!list.data) return <LoadingState rows={5} label="Loading its experiments" />;
  if (list.data.total === 0) return <EmptyState title="No experiments of this class yet" />;
  return (
    <div className="min-h-0 flex-1 overflow-auto" data-testid="class-experiments">
      <div className="px-3 py-1.5 text-xs text-muted-foreground">
        {list.data.total.toLocaleString("en-US")} experiment{list.data.total === 1 ? "" : "s"}
        {list.data.total > list.data.items.length && `, the latest ${list.data.items.length}`}
      </div>
      {list.data.items.map((e) => (
        <ExperimentLink
          key={e.hash}
          namespace={e.namespace}
          hash={e.hash}
          className="flex items-center gap-2 border-t px-3 py-1.5 text-sm hover:bg-accent"
        >
          <ExperimentStatus result={e.result_status} attempt={e.attempt_status} />
          <span className="truncate">{e.display_name ?? e.name ?? <span className="font-mono text-xs">{e.hash.slice(0, 10)}</span>}</span>
          <span className="ml-auto" />
          <StaleBadge stale={e.stale} kind={e.stale_kind} reason={e.stale_reason} namespace={e.namespace} link={false} />
        </ExperimentLink>
      ))}
    </div>
  );
}
