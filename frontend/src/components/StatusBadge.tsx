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

/**
 * Whether a step was invalidated: its latest attempt succeeded but its result is gone
 * (`SUCCESS.json` removed by `furu invalidate`, the dashboard or the API).
 */
export function isInvalidated(result: string, attempt: string | null | undefined): boolean {
  return result === "incomplete" && attempt === "success";
}

/**
 * What a row shows: the attempt's status while it runs or failed, else the result's.
 *
 * An invalidated step reads `incomplete` everywhere (table, detail, DAG counts): what
 * `load_or_create()` will do with it (compute it again); the tooltip says it was invalidated,
 * and why when the caller knows (`reason`, the attempt's).
 */
export function ExperimentStatus({
  result,
  attempt,
  reason,
}: {
  result: string;
  attempt: string | null | undefined;
  reason?: string | null;
}) {
  if (isInvalidated(result, attempt)) {
    return (
      <span data-invalidated="" className="contents">
        <StatusBadge
          status="incomplete"
          title={`invalidated${reason ? ` (${reason})` : ""}: its result was dropped; the next load_or_create() computes it again`}
        />
      </span>
    );
  }
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
