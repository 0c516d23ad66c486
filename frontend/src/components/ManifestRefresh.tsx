import { RefreshCwIcon } from "lucide-react";
import { useEffect, useState } from "react";

import { useInvalidateCode, useRefreshManifest, useTask } from "@/api/code";

import { ErrorState } from "./States";
import { Badge } from "./ui/badge";
import { Button } from "./ui/button";

/**
 * "Refresh from code": the server runs `furu manifest` in the project's environment; its
 * progress shows here, and the code's views refetch when it ends.
 */
export function ManifestRefresh() {
  const start = useRefreshManifest();
  const [taskId, setTaskId] = useState<string | null>(null);
  const task = useTask(taskId, "manifest");
  const invalidate = useInvalidateCode();
  const status = task.data?.status ?? (start.isPending ? "starting" : null);
  useEffect(() => {
    if (task.data && task.data.status !== "running") void invalidate();
    // Refetch once per finished task.
    // oxlint-disable-next-line react-hooks/exhaustive-deps
  }, [task.data?.status]);
  return (
    <div className="flex items-center gap-2" data-testid="manifest-refresh" data-task-status={status ?? undefined}>
      <Button
        size="sm"
        variant="outline"
        disabled={start.isPending || status === "running"}
        onClick={() => start.mutate(undefined, { onSuccess: (t) => setTaskId(t.id) })}
        title="Run `furu manifest` in the project's environment (imports the project's modules)"
      >
        <RefreshCwIcon className={status === "running" || status === "starting" ? "animate-spin" : undefined} />
        Refresh from code
      </Button>
      {status && status !== "starting" && (
        <Badge variant={status === "succeeded" ? "success" : status === "failed" ? "failed" : "running"} title={task.data?.progress ?? undefined}>
          {status === "running" ? task.data?.progress || "reading the code…" : status}
        </Badge>
      )}
      {start.error && <ErrorState error={start.error} />}
      {task.data?.status === "failed" && (
        <span className="max-w-96 truncate text-xs text-destructive" title={task.data.output_tail}>
          {task.data.error ?? "furu manifest failed"}
        </span>
      )}
    </div>
  );
}
