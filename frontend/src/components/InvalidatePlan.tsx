/**
 * What an invalidation will hit, listed in its confirmation dialog before anything changes:
 * the server plans it with `furu.plan_targets`, the function the action itself uses.
 */
import { useQueries } from "@tanstack/react-query";

import { api, unwrap, type InvalidatePlan as Plan } from "@/api/client";
import { keys } from "@/api/queries";

import { ExperimentLink } from "./ExperimentLink";
import { ErrorState } from "./States";
import { ExperimentStatus } from "./StatusBadge";

type Ref = { namespace: string; hash: string };
type Target = Plan["targets"][number];

/** The targets of several plans, each once, the experiments asked for first. */
export function mergePlans(plans: Plan[]): Target[] {
  const seen = new Map<string, Target>();
  for (const t of plans.flatMap((p) => p.targets).toSorted((a, b) => Number(b.root) - Number(a.root))) {
    const key = `${t.namespace}/${t.hash}`;
    if (!seen.has(key)) seen.set(key, t);
  }
  return [...seen.values()];
}

export function InvalidatePlan({ refs, dependents }: { refs: Ref[]; dependents: boolean }) {
  const plans = useQueries({
    queries: refs.map((ref) => ({
      queryKey: keys.invalidatePlan(ref.namespace, ref.hash, dependents),
      queryFn: () =>
        unwrap(api.GET("/api/experiments/{namespace}/{hash}/invalidate/plan", { params: { path: ref, query: { dependents } } })),
    })),
  });
  const failed = plans.find((p) => p.error);
  if (failed?.error) return <ErrorState error={failed.error} />;
  if (plans.some((p) => !p.data)) return <div className="text-xs text-muted-foreground">Finding what it hits…</div>;
  const targets = mergePlans(plans.map((p) => p.data as Plan));
  const hitDependents = targets.filter((t) => !t.root);
  const busy = targets.filter((t) => t.busy);
  const truncated = plans.some((p) => p.data?.truncated);
  return (
    <div className="mt-2 grid gap-1 text-foreground" data-testid="invalidate-plan" data-targets={targets.length}>
      <div className="text-xs font-medium">
        {dependents
          ? `${targets.length} to invalidate: ${refs.length === 1 ? "it" : `the ${refs.length} selected`} and ${hitDependents.length} dependent${hitDependents.length === 1 ? "" : "s"}`
          : `${targets.length} to invalidate, no dependents (tick below to include them)`}
        {busy.length > 0 && <span className="text-amber-700 dark:text-amber-300"> · {busy.length} running, will be skipped</span>}
      </div>
      <ul className="max-h-48 overflow-auto rounded-md border text-xs" aria-label="Experiments it will invalidate">
        {targets.map((t) => (
          <li
            key={`${t.namespace}/${t.hash}`}
            className="flex items-center gap-2 border-b px-2 py-1 last:border-b-0"
            data-testid="invalidate-target"
            data-root={t.root || undefined}
            title={t.busy ?? undefined}
          >
            <span className="font-medium">{t.class_name}</span>
            <ExperimentLink namespace={t.namespace} hash={t.hash} />
            {!t.root && <span className="text-muted-foreground">dependent</span>}
            <span className="ml-auto">
              {t.busy ? <span className="text-amber-700 dark:text-amber-300">skipped: {t.busy}</span> : <ExperimentStatus result={t.result_status} attempt={t.attempt_status} />}
            </span>
          </li>
        ))}
      </ul>
      {truncated && <div className="text-xs text-muted-foreground">Only the first 500 are listed.</div>}
    </div>
  );
}
