/** Sweeps and batches: plan (what would be created, what is cached or running elsewhere),
 * then launch as a task polled like a migration (`/api/tasks/{id}`). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type SweepRequest = S["SweepRequest"];
export type BatchRequest = S["BatchRequest"];
export type SweepPlan = S["SweepPlan"];
export type PlannedItem = S["PlannedItem"];
export type Task = S["Task"];

export function usePlanSweep() {
  return useMutation({ mutationFn: (body: SweepRequest) => unwrap(api.POST("/api/sweeps/plan", { body })) });
}

export function useLaunchSweep() {
  return useMutation({ mutationFn: (body: SweepRequest) => unwrap(api.POST("/api/sweeps", { body })) });
}

/** The plan of a batch, asked for once when it is shown (a POST: it runs the project's code). */
export function usePlanBatch(body: BatchRequest) {
  return useQuery({
    queryKey: ["furu-batch-plan", body],
    queryFn: () => unwrap(api.POST("/api/batches/plan", { body })),
    retry: false,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
}

export function useLaunchBatch() {
  return useMutation({ mutationFn: (body: BatchRequest) => unwrap(api.POST("/api/batches", { body })) });
}

const seen = new Map<string, string>();

/** A sweep's or batch's task, polled while it runs; each progress line (a job done: maybe a new
 * row) refreshes the index and what the dashboard shows. */
export function useBatchTask(id: string | null) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["furu-batch-task", id ?? ""],
    queryFn: async () => {
      const task = await unwrap(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: id ?? "" } } }));
      const mark = `${task.status} ${task.progress ?? ""}`;
      if (seen.get(task.id) !== mark) {
        seen.set(task.id, mark);
        await api.POST("/api/index/refresh", { params: { query: { full: false } } }).catch(() => undefined);
        await client.invalidateQueries({ queryKey: ["furu"] });
      }
      return task;
    },
    enabled: id !== null,
    refetchInterval: (q) => (q.state.data?.status === "running" || !q.state.data ? 500 : false),
  });
}
