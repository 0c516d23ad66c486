/** TanStack Query hooks over the API: one per route the dashboard reads, and its actions. */
import {
  keepPreviousData,
  useMutation,
  useQuery,
  useQueryClient,
  type UseQueryOptions,
} from "@tanstack/react-query";

import { useRefetchInterval } from "@/lib/refresh";

import { api, unwrap, type Order, type SortKey } from "./client";

export type SearchParams = {
  query: string;
  sort: SortKey;
  order: Order;
  limit: number;
  offset: number;
  /** Sort by a config or result field (`config.lr`, `downstream.Evaluate.result.acc`) instead of `sort`. */
  sortField?: string | null;
  /** Config and result fields each row carries in `values`. */
  columns?: string[];
};

export const keys = {
  all: ["furu"] as const,
  stats: () => ["furu", "stats"] as const,
  namespaces: () => ["furu", "namespaces"] as const,
  search: (p: SearchParams) => ["furu", "search", p] as const,
  experiment: (ns: string, hash: string) => ["furu", "experiment", ns, hash] as const,
  relationships: (ns: string, hash: string) => ["furu", "relationships", ns, hash] as const,
  lineage: (ns: string, hash: string) => ["furu", "lineage", ns, hash] as const,
  artifacts: (ns: string, hash: string) => ["furu", "artifacts", ns, hash] as const,
  preview: (ns: string, hash: string, path: string, offset: number, limit: number) =>
    ["furu", "preview", ns, hash, path, offset, limit] as const,
  snippet: (ns: string, hash: string, set: string[]) => ["furu", "snippet", ns, hash, set] as const,
  dag: () => ["furu", "dag"] as const,
  dagClass: (ns: string) => ["furu", "dag-class", ns] as const,
  invalidatePlan: (ns: string, hash: string, dependents: boolean) => ["furu", "invalidate-plan", ns, hash, dependents] as const,
  run: (id: string) => ["furu", "run", id] as const,
};

export function searchExperiments(p: SearchParams) {
  return unwrap(
    api.POST("/api/experiments/search", {
      body: {
        query: p.query.trim() || null,
        sort: p.sort,
        order: p.order,
        limit: p.limit,
        offset: p.offset,
        ...(p.sortField ? { sort_field: p.sortField } : {}),
        ...(p.columns?.length ? { columns: p.columns } : {}),
      },
    }),
  );
}

export function useSearch(p: SearchParams, options: { enabled?: boolean; live?: boolean } = {}) {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: keys.search(p),
    queryFn: () => searchExperiments(p),
    placeholderData: keepPreviousData,
    enabled: options.enabled ?? true,
    refetchInterval: options.live === false ? false : interval,
    retry: (n, err) => !(err as { code?: string }).code?.startsWith("filter") && n < 2,
  });
}

/** The config, result and downstream fields a table can show (of one class when given). */
export function useFields(klass: string | null, enabled = true) {
  return useQuery({
    queryKey: ["furu", "field-catalog", klass],
    queryFn: () => unwrap(api.GET("/api/fields", { params: { query: klass ? { class: klass } : {} } })),
    enabled,
    staleTime: 30_000,
  });
}

/** Whether the server answers (`/api/health`, polled): the "Live" indicator turns off when not. */
export function useServerUp(intervalMs = 5_000) {
  const health = useQuery({
    queryKey: ["furu", "health"],
    queryFn: () => unwrap(api.GET("/api/health")),
    // every second while the index is first built ("indexing N of M" moves)
    refetchInterval: (query) => (query.state.data?.index.built === false ? 1_000 : intervalMs),
    refetchIntervalInBackground: false,
    retry: false,
  });
  return { up: !health.isError, index: health.data?.index ?? null };
}

/** The server's parse of a text filter (the tree, or a syntax error with its position). */
export function useParsedFilter(query: string) {
  return useQuery({
    queryKey: ["furu", "parse", query],
    queryFn: () => unwrap(api.POST("/api/filters/parse", { body: { query } })),
    enabled: query.trim() !== "",
    retry: false,
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });
}

export function useStats() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: keys.stats(),
    queryFn: () => unwrap(api.GET("/api/stats")),
    refetchInterval: interval,
  });
}

export function useNamespaces() {
  return useQuery({
    queryKey: keys.namespaces(),
    queryFn: () => unwrap(api.GET("/api/namespaces")),
    staleTime: 10_000,
  });
}

export function fetchExperiment(namespace: string, hash: string) {
  return unwrap(api.GET("/api/experiments/{namespace}/{hash}", { params: { path: { namespace, hash } } }));
}

export function experimentQuery(namespace: string, hash: string) {
  return {
    queryKey: keys.experiment(namespace, hash),
    queryFn: () => fetchExperiment(namespace, hash),
    staleTime: 5_000,
  } satisfies UseQueryOptions<Awaited<ReturnType<typeof fetchExperiment>>, Error, unknown, readonly unknown[]>;
}

export function useExperiment(namespace: string, hash: string) {
  const interval = useRefetchInterval();
  return useQuery({ ...experimentQuery(namespace, hash), refetchInterval: interval });
}

export function useRelationships(namespace: string, hash: string) {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: keys.relationships(namespace, hash),
    queryFn: () =>
      unwrap(
        api.GET("/api/experiments/{namespace}/{hash}/relationships", {
          params: { path: { namespace, hash } },
        }),
      ),
    refetchInterval: interval,
  });
}

export function useLineage(namespace: string, hash: string) {
  return useQuery({
    queryKey: keys.lineage(namespace, hash),
    queryFn: () =>
      unwrap(
        api.GET("/api/experiments/{namespace}/{hash}/lineage", {
          params: { path: { namespace, hash }, query: { depth: 10, limit: 500 } },
        }),
      ),
  });
}

export function useArtifacts(namespace: string, hash: string) {
  return useQuery({
    queryKey: keys.artifacts(namespace, hash),
    queryFn: () =>
      unwrap(
        api.GET("/api/experiments/{namespace}/{hash}/artifacts", { params: { path: { namespace, hash } } }),
      ),
  });
}

export function fetchPreview(namespace: string, hash: string, path: string, offset: number, limit: number) {
  return unwrap(
    api.GET("/api/experiments/{namespace}/{hash}/preview/{path}", {
      params: { path: { namespace, hash, path }, query: { offset, limit } },
    }),
  );
}

export function usePreview(namespace: string, hash: string, path: string | null, offset = 0, limit = 100) {
  return useQuery({
    queryKey: keys.preview(namespace, hash, path ?? "", offset, limit),
    queryFn: () => fetchPreview(namespace, hash, path ?? "", offset, limit),
    enabled: path !== null && path !== "",
    placeholderData: keepPreviousData,
  });
}

export function useSnippet(namespace: string, hash: string, set: string[] = []) {
  return useQuery({
    queryKey: keys.snippet(namespace, hash, set),
    queryFn: () =>
      unwrap(
        api.GET("/api/experiments/{namespace}/{hash}/snippet", {
          params: { path: { namespace, hash }, query: set.length ? { set } : {} },
        }),
      ),
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function useDag() {
  const interval = useRefetchInterval(10_000);
  return useQuery({
    queryKey: keys.dag(),
    queryFn: () => unwrap(api.GET("/api/dag")),
    refetchInterval: interval,
  });
}

/** The DAG's side panel of a class: its varying config fields and recent failures. */
export function useDagClass(namespace: string | null) {
  return useQuery({
    queryKey: keys.dagClass(namespace ?? ""),
    queryFn: () => unwrap(api.GET("/api/dag/classes/{namespace}", { params: { path: { namespace: namespace ?? "" } } })),
    enabled: namespace !== null,
  });
}

/** What invalidating would hit (the experiment, and with `dependents` its dependents). */
export function useInvalidatePlan(ref: Ref, dependents: boolean, enabled: boolean) {
  return useQuery({
    queryKey: keys.invalidatePlan(ref.namespace, ref.hash, dependents),
    queryFn: () =>
      unwrap(api.GET("/api/experiments/{namespace}/{hash}/invalidate/plan", { params: { path: ref, query: { dependents } } })),
    enabled,
  });
}

export function useRun(id: string | null) {
  return useQuery({
    queryKey: keys.run(id ?? ""),
    queryFn: () => unwrap(api.GET("/api/runs/{run_id}", { params: { path: { run_id: id ?? "" } } })),
    enabled: id !== null,
    refetchInterval: (q) => (q.state.data?.status === "running" || !q.state.data ? 700 : false),
  });
}

// ------------------------------------------------------------------ actions

type Ref = { namespace: string; hash: string };

function useInvalidateAll() {
  const client = useQueryClient();
  return async () => {
    await api.POST("/api/index/refresh", { params: { query: { full: false } } }).catch(() => undefined);
    await client.invalidateQueries({ queryKey: keys.all });
  };
}

export function useDeleteExperiment() {
  const refresh = useInvalidateAll();
  return useMutation({
    mutationFn: (ref: Ref) =>
      unwrap(api.DELETE("/api/experiments/{namespace}/{hash}", { params: { path: ref } })),
    onSuccess: refresh,
  });
}

export function useInvalidateExperiment() {
  const refresh = useInvalidateAll();
  return useMutation({
    mutationFn: ({ ref, dependents }: { ref: Ref; dependents: boolean }) =>
      unwrap(
        api.POST("/api/experiments/{namespace}/{hash}/invalidate", {
          params: { path: ref },
          body: { dependents },
        }),
      ),
    onSuccess: refresh,
  });
}

export function useSetTags() {
  const refresh = useInvalidateAll();
  return useMutation({
    scope: { id: "labels" },
    mutationFn: ({ ref, tags }: { ref: Ref; tags: string[] }) =>
      unwrap(api.PUT("/api/experiments/{namespace}/{hash}/tags", { params: { path: ref }, body: { tags } })),
    onSuccess: refresh,
  });
}

export function useSetName() {
  const refresh = useInvalidateAll();
  return useMutation({
    scope: { id: "labels" },
    mutationFn: ({ ref, name }: { ref: Ref; name: string | null }) =>
      unwrap(api.PUT("/api/experiments/{namespace}/{hash}/name", { params: { path: ref }, body: { name } })),
    onSuccess: refresh,
  });
}

export function useRerun() {
  return useMutation({
    mutationFn: ({ ref, overrides, force }: { ref: Ref; overrides?: Record<string, unknown>; force: boolean }) =>
      unwrap(
        api.POST("/api/experiments/{namespace}/{hash}/rerun", {
          params: { path: ref },
          body: { overrides: overrides ?? {}, force },
        }),
      ),
  });
}

export function useRefreshAll() {
  return useInvalidateAll();
}
