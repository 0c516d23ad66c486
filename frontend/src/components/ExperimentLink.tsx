import { Link } from "@tanstack/react-router";
import type { ReactNode } from "react";

/** A link to one experiment's page. */
export function ExperimentLink({
  namespace,
  hash,
  children,
  className,
}: {
  namespace: string;
  hash: string;
  children?: ReactNode;
  className?: string;
}) {
  return (
    <Link
      to="/experiments/$namespace/$hash"
      params={{ namespace, hash }}
      className={className ?? "text-primary hover:underline"}
    >
      {children ?? <span className="font-mono text-xs">{hash.slice(0, 10)}</span>}
    </Link>
  );
}
