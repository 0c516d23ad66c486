/**
 * The API's view of the code (ADR 0005): the manifest, the DAG from the code, stale
 * experiments and migrations. The server learns the code from `manifest.json` (written by
 * `furu manifest`); what needs the code itself (refreshing the manifest, planning or applying a
 * migration) runs as a `furu` subprocess on the server's machine and is followed as a task.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useRefetchInterval } from "@/lib/refresh";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type ManifestInfo = S["ManifestInfo"];
export type ManifestClass = S["ManifestClass"];
export type ManifestList = S["ManifestList"];
export type ManifestExperiment = S["ManifestExperiment"];
export type Task = S["Task"];
export type MigrationRequest = S["MigrationRequest"];
export type MigrationPlan = S["MigrationPlan"];
export type MigrationItem = S["MigrationItem"];
export type MigrationChange = S["MigrationChange"];
export type MigrationInfo = S["MigrationInfo"];
export type DagSource = "code" | "experiments";

export const codeKeys = {
  manifest: () => ["furu", "manifest"] as const,
  dag: (source: DagSource) => ["furu", "dag", source] as const,
  task: (id: string) => ["furu", "task", id] as const,
};

export function useDagFrom(source: DagSource) {
  const interval = useRefetchInterval(10_000);
  return useQuery({
    queryKey: codeKeys.dag(source),
    queryFn: () => unwrap(api.GET("/api/dag", { params: { query: { source } } })),
    refetchInterval: interval,
    placeholderData: keepPreviousData,
    retry: (n, err) => (err as { status?: number }).status !== 404 && (err as { status?: number }).status !== 409 && n < 2,
  });
}

export function useManifest() {
  const interval = useRefetchInterval(10_000);
  return useQuery({
    queryKey: codeKeys.manifest(),
    queryFn: () => unwrap(api.GET("/api/manifest")),
    refetchInterval: interval,
    retry: (n, err) => (err as { status?: number }).status !== 404 && n < 2,
  });
}

/** A task (manifest refresh or migration), polled while it runs. */
export function useTask(id: string | null, kind: "manifest" | "migration") {
  return useQuery({
    queryKey: codeKeys.task(id ?? ""),
    queryFn: () =>
      kind === "migration"
        ? unwrap(api.GET("/api/migrations/{task_id}", { params: { path: { task_id: id ?? "" } } }))
        : unwrap(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: id ?? "" } } })),
    enabled: id !== null,
    refetchInterval: (q) => (q.state.data?.status === "running" || !q.state.data ? 600 : false),
  });
}

/** Everything the code's view feeds: refetched when a task ends. */
export function useInvalidateCode() {
  const client = useQueryClient();
  return async () => {
    await api.POST("/api/index/refresh", { params: { query: { full: false } } }).catch(() => undefined);
    await client.invalidateQueries({ queryKey: ["furu"] });
  };
}

export function useRefreshManifest() {
  return useMutation({ mutationFn: () => unwrap(api.POST("/api/manifest/refresh")) });
}

export function usePreviewMigration() {
  return useMutation({
    mutationFn: (body: MigrationRequest) => unwrap(api.POST("/api/migrations/preview", { body })),
  });
}

export function useApplyMigration() {
  return useMutation({
    mutationFn: (body: MigrationRequest) => unwrap(api.POST("/api/migrations/apply", { body })),
  });
}

/** Undo a migration: its alias `<namespace>/<hash>` is removed (the old result stays). */
export function useUndoMigration() {
  const invalidate = useInvalidateCode();
  return useMutation({
    mutationFn: (ref: string) => unwrap(api.POST("/api/migrations/undo", { body: { ref } })),
    onSuccess: invalidate,
  });
}
