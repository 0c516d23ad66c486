import { AlertTriangleIcon, InboxIcon, RotateCwIcon } from "lucide-react";
import type { ReactNode } from "react";

import { ApiError } from "@/api/client";
import type { components } from "@/api/schema";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/card";

export function LoadingState({ rows = 4, label = "Loading…" }: { rows?: number; label?: string }) {
  return (
    <div className="space-y-2 p-2" role="status" aria-label={label} data-state="loading">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-6" style={{ width: `${90 - i * 7}%` }} />
      ))}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-2 px-4 py-10 text-center" data-state="empty">
      <InboxIcon className="size-8 text-muted-foreground" />
      <div className="font-medium">{title}</div>
      {children && <div className="max-w-md text-sm text-muted-foreground">{children}</div>}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div
      className="flex items-start gap-3 rounded-md border border-destructive/40 bg-destructive/5 p-3 text-sm"
      role="alert"
      data-state="error"
    >
      <AlertTriangleIcon className="mt-0.5 size-4 shrink-0 text-destructive" />
      <div className="min-w-0 flex-1">
        <div className="font-medium">{code === "network" ? "The furu server is unreachable" : "Something went wrong"}</div>
        <div className="break-words whitespace-pre-wrap text-muted-foreground">{message}</div>
        {code && code !== "network" && <div className="mt-1 font-mono text-xs text-muted-foreground">{code}</div>}
      </div>
      {retry && (
        <Button variant="outline" size="sm" onClick={retry}>
          <RotateCwIcon /> Retry
        </Button>
      )}
    </div>
  );
}

/** How far the index's first build is: "Indexing 18,000 of 100,000 experiments" (never "no
 * experiments yet" while the store is still being read). `empty`: in place of the table. */
export function IndexingNotice({ info, empty = false }: { info: components["schemas"]["IndexInfo"]; empty?: boolean }) {
  const done = info.experiments.toLocaleString("en-US");
  const of = info.build_total != null ? ` of ${info.build_total.toLocaleString("en-US")}` : "";
  const text = `Indexing ${done}${of} experiments…`;
  if (empty) {
    return (
      <div data-testid="indexing" role="status">
        <EmptyState title={text}>The store is being read; its experiments appear here as they are indexed.</EmptyState>
      </div>
    );
  }
  return (
    <div role="status" data-testid="indexing" className="rounded-md border bg-accent/40 px-3 py-1.5 text-sm">
      {text} Rows appear as they are read.
    </div>
  );
}
