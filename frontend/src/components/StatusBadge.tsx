import { Badge } from "@/components/ui/badge";

type Variant = "success" | "failed" | "running" | "queued" | "warning" | "muted";

const VARIANTS: Record<string, Variant> = {
  success: "success",
  failed: "failed",
  crashed: "failed",
  running: "running",
  queued: "queued",
  incomplete: "warning",
  preempted: "warning",
  cancelled: "muted",
  absent: "muted",
};

/** A result or attempt status as a coloured badge. */
export function StatusBadge({ status, title }: { status: string | null | undefined; title?: string }) {
  if (!status) return <span className="text-muted-foreground">–</span>;
  return (
    <Badge variant={VARIANTS[status] ?? "muted"} title={title} data-status={status}>
      {status === "running" && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {status}
    </Badge>
  );
}

/** What a row shows: the attempt's status while it runs or failed, else the result's. */
export function ExperimentStatus({
  result,
  attempt,
}: {
  result: string;
  attempt: string | null | undefined;
}) {
  const shown = attempt && attempt !== "success" && result !== "success" ? attempt : result;
  return <StatusBadge status={shown} title={`result: ${result}; attempt: ${attempt ?? "none"}`} />;
}

/** Colours of statuses in charts and the DAG (the same hues as the badges). */
export const STATUS_COLORS: Record<string, string> = {
  success: "#10b981",
  failed: "#ef4444",
  crashed: "#b91c1c",
  running: "#0ea5e9",
  queued: "#8b5cf6",
  incomplete: "#f59e0b",
  preempted: "#f97316",
  cancelled: "#94a3b8",
  absent: "#cbd5e1",
};
