import { ChevronDownIcon, ChevronRightIcon, ExternalLinkIcon } from "lucide-react";
import { useState } from "react";

import { isStep, shortClass, untag } from "@/lib/config";
import { formatValue } from "@/lib/format";
import { cn } from "@/lib/utils";

import { ExperimentLink } from "../ExperimentLink";

export type StepRefs = Map<string, { namespace: string; hash: string }>;

/** `models[0]` (a dependency's field) -> `models.0` (a config path). */
export function fieldToPath(field: string): string {
  return field.replace(/\[(\d+)\]/g, ".$1");
}

/** Which nested step (by config path) is which experiment, from a lineage's edges. */
export function stepRefs(
  root: string,
  edges: { source: string; target: string; field: string }[],
): StepRefs {
  const out: StepRefs = new Map();
  const walk = (ref: string, prefix: string, depth: number) => {
    if (depth > 20) return;
    for (const e of edges) {
      if (e.target !== ref || e.field.includes("(")) continue;
      const path = prefix ? `${prefix}.${fieldToPath(e.field)}` : fieldToPath(e.field);
      const i = e.source.lastIndexOf("/");
      out.set(path, { namespace: e.source.slice(0, i), hash: e.source.slice(i + 1) });
      walk(e.source, path, depth + 1);
    }
  };
  walk(root, "", 0);
  return out;
}

function Leaf({ value }: { value: unknown }) {
  const color =
    typeof value === "number"
      ? "text-sky-700 dark:text-sky-300"
      : typeof value === "string"
        ? "text-emerald-700 dark:text-emerald-300"
        : typeof value === "boolean" || value === null
          ? "text-violet-700 dark:text-violet-300"
          : "";
  return <span className={cn("font-mono break-all", color)}>{typeof value === "string" ? JSON.stringify(value) : formatValue(value)}</span>;
}

function Node({ name, raw, path, depth, refs }: { name: string; raw: unknown; path: string; depth: number; refs: StepRefs }) {
  const value = untag(raw);
  const [open, setOpen] = useState(depth < 2);
  const composite = value !== null && typeof value === "object";
  if (!composite) {
    return (
      <div className="flex gap-2 py-0.5 pl-5" data-path={path}>
        <span className="text-muted-foreground">{name}:</span>
        <Leaf value={value} />
      </div>
    );
  }
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value as Record<string, unknown>).filter(([k]) => k !== "__class__");
  const step = isStep(value) ? value.__class__ : null;
  const ref = path ? refs.get(path) : undefined;
  return (
    <div data-path={path}>
      <div className="flex items-center gap-1 py-0.5">
        <button type="button" className="flex cursor-pointer items-center gap-1" onClick={() => setOpen(!open)} aria-expanded={open} aria-label={`${open ? "Collapse" : "Expand"} ${path || "config"}`}>
          {open ? <ChevronDownIcon className="size-4 text-muted-foreground" /> : <ChevronRightIcon className="size-4 text-muted-foreground" />}
          <span className="text-muted-foreground">{name}:</span>
        </button>
        {step ? (
          <span className="font-medium" title={step}>
            {shortClass(step)}
          </span>
        ) : (
          <span className="text-xs text-muted-foreground">{Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</span>
        )}
        {ref && (
          <ExperimentLink namespace={ref.namespace} hash={ref.hash} className="ml-1 inline-flex items-center gap-1 rounded border px-1.5 text-xs text-primary hover:bg-accent">
            <span className="font-mono">{ref.hash.slice(0, 8)}</span>
            <ExternalLinkIcon className="size-3" />
            <span className="sr-only">open nested step {path}</span>
          </ExperimentLink>
        )}
      </div>
      {open && (
        <div className="ml-2 border-l pl-2">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} raw={v} path={path ? `${path}.${k}` : k} depth={depth + 1} refs={refs} />
          ))}
        </div>
      )}
    </div>
  );
}

/** The recorded config as a collapsible tree; nested steps link to their own experiments. */
export function ConfigTree({ config, refs }: { config: unknown; refs: StepRefs }) {
  if (!config || typeof config !== "object") return <div className="text-sm text-muted-foreground">No recorded config.</div>;
  const entries = Object.entries(config as Record<string, unknown>).filter(([k]) => k !== "__class__");
  return (
    <div className="text-sm" data-testid="config-tree">
      {entries.length === 0 && <div className="text-muted-foreground">No fields (every value is the default of a class without fields).</div>}
      {entries.map(([k, v]) => (
        <Node key={k} name={k} raw={v} path={k} depth={0} refs={refs} />
      ))}
    </div>
  );
}
