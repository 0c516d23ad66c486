import { Link } from "@tanstack/react-router";
import { HistoryIcon } from "lucide-react";

import { staleKind, staleText } from "@/lib/evolution";

import { badgeVariants } from "./ui/badge";

/**
 * "stale": the current code would no longer produce this experiment's directory. The reason is
 * its tooltip; the badge links to the migration helper of its class.
 */
export function StaleBadge({
  stale,
  kind: stableKind,
  reason,
  namespace,
  link = true,
}: {
  stale: boolean | null | undefined;
  /** The stable kind (`fields-changed`, `class-removed`, `dependency-stale`, `broken-alias`). */
  kind?: string | null;
  reason?: string | null;
  namespace: string;
  /** False inside another link (a badge only, with the reason as its tooltip). */
  link?: boolean;
}) {
  if (!stale) return null;
  const kind = stableKind ?? staleKind(reason) ?? "stale";
  if (!link) {
    return (
      <span className={badgeVariants({ variant: "warning" })} title={`Stale (${kind}): ${staleText(reason)}`} data-testid="stale-badge" data-stale-kind={kind}>
        <HistoryIcon className="size-3" />
        stale
      </span>
    );
  }
  return (
    <Link
      to="/migrate"
      search={{ ns: namespace }}
      className={badgeVariants({ variant: "warning", className: "nodrag hover:underline" })}
      title={`Stale (${kind}): ${staleText(reason)}. Open the migration helper of this class.`}
      aria-label={`stale: ${staleText(reason)}`}
      data-testid="stale-badge"
      data-stale-kind={kind}
      onClick={(e) => e.stopPropagation()}
    >
      <HistoryIcon className="size-3" />
      stale
    </Link>
  );
}
