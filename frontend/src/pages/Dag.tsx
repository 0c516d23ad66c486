/**
 * The class-level DAG, from the experiments (the store's index) or from the code (the manifest
 * `furu manifest` wrote): which classes feed which, how many experiments each has, by status,
 * and how many are stale. In code mode the classes without experiments are drawn apart.
 */
import "@xyflow/react/dist/style.css";

import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import { Background, Controls, Handle, Position, ReactFlow, useReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { CircleAlertIcon, CodeXmlIcon, DatabaseIcon, HistoryIcon, ListIcon, XIcon } from "lucide-react";
import { useEffect, useMemo, useState } from "react";

import type { Dag, DagClass, DagNode } from "@/api/client";
import { useDagClass } from "@/api/queries";
import { useDagFrom, type DagSource } from "@/api/code";
import { ClassExperiments } from "@/components/ClassExperiments";
import { ExperimentLink } from "@/components/ExperimentLink";
import { ManifestRefresh } from "@/components/ManifestRefresh";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { STATUS_COLORS } from "@/components/StatusBadge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { dagIsMissingManifest } from "@/lib/evolution";
import { layoutApart } from "@/lib/dagApart";
import { formatNumber, formatValue } from "@/lib/format";
import { connected } from "@/lib/layout";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";

const route = getRouteApi("/dag");

type ClassData = { node: DagNode; dim: boolean; active: boolean; parent: string | null };
type GroupData = { label: string; apart?: boolean };
const W = 240;
const H = 112;

function ClassNode({ data }: NodeProps<Node<ClassData>>) {
  const n = data.node;
  const counts = Object.entries(n.counts).filter(([, c]) => c > 0);
  const stale = n.stale ?? 0;
  const failed = n.counts.failed ?? 0;
  return (
    <div
      className={cn(
        "rounded-lg border bg-card px-3 py-2 text-xs shadow-sm transition-opacity",
        data.dim && "opacity-25",
        data.active && "ring-2 ring-primary",
        !n.has_experiments && "border-dashed",
        n.defined_only && !data.dim && "opacity-70",
        n.in_code === false && "border-destructive/60",
      )}
      style={{ width: W }}
      data-testid="dag-node"
      data-namespace={n.namespace}
      data-dim={data.dim || undefined}
      data-defined-only={n.defined_only || undefined}
      data-stale={stale || undefined}
      data-failed={failed || undefined}
    >
      <Handle type="target" position={Position.Left} className="!bg-muted-foreground" />
      <div className="flex items-center gap-2">
        <span className="truncate text-sm font-semibold">{n.class_name}</span>
        {stale > 0 && (
          <Link
            to="/migrate"
            search={{ ns: n.namespace }}
            className="nodrag shrink-0 rounded-md bg-amber-100 px-1.5 py-0.5 text-[10px] font-medium text-amber-800 hover:underline dark:bg-amber-500/15 dark:text-amber-300"
            onClick={(e) => e.stopPropagation()}
            title={`${stale} of its experiments are stale: the current code would no longer produce them. Open the migration helper.`}
            data-testid="dag-stale"
          >
            {formatNumber(stale)} stale
          </Link>
        )}
        {failed > 0 && (
          <Link
            to="/experiments"
            search={{ q: `namespace = ${n.namespace} and result_status = failed` }}
            className="nodrag flex shrink-0 items-center gap-0.5 rounded-md bg-red-100 px-1.5 py-0.5 text-[10px] font-medium text-red-800 hover:underline dark:bg-red-500/15 dark:text-red-300"
            onClick={(e) => e.stopPropagation()}
            title={`${failed} of its experiments failed: list them`}
            data-testid="dag-failed"
          >
            <CircleAlertIcon className="size-3" /> {formatNumber(failed)} failed
          </Link>
        )}
        <span className="ml-auto font-semibold tabular-nums" title="experiments">{formatNumber(n.total)}</span>
      </div>
      <div className="truncate font-mono text-[10px] text-muted-foreground" title={n.namespace}>
        {n.namespace}
      </div>
      {data.parent && (
        <div className="truncate text-[10px] text-primary" data-testid="dag-subclass-of">
          subclass of {data.parent.slice(data.parent.lastIndexOf(".") + 1)}
        </div>
      )}
      {n.in_code === false && <div className="text-[10px] text-destructive">gone from the code</div>}
      <div className="mt-1.5 flex h-1.5 overflow-hidden rounded-full bg-muted">
        {counts.map(([s, c]) => (
          <div key={s} style={{ width: `${(100 * c) / Math.max(n.total, 1)}%`, background: STATUS_COLORS[s] ?? "#888" }} />
        ))}
      </div>
      <div className="mt-1 flex items-center gap-2">
        <span className="truncate text-[10px] text-muted-foreground">
          {counts.map(([s, c]) => `${c} ${s}`).join(" · ") || (n.defined_only ? "defined in the code, no experiments yet" : "no experiments")}
        </span>
        <Link
          to="/experiments"
          search={{ q: `namespace = ${n.namespace}` }}
          className="nodrag ml-auto flex shrink-0 items-center gap-0.5 rounded border px-1.5 py-0.5 text-[10px] text-primary hover:bg-accent"
          onClick={(e) => e.stopPropagation()}
          aria-label={`List the experiments of ${n.class_name}`}
        >
          <ListIcon className="size-3" /> list
        </Link>
      </div>
      <Handle type="source" position={Position.Right} className="!bg-muted-foreground" />
    </div>
  );
}

function GroupNode({ data }: NodeProps<Node<GroupData>>) {
  return (
    <div
      className={cn(
        "h-full w-full rounded-xl border border-dashed",
        data.apart ? "border-muted-foreground/50 bg-muted/30" : "border-primary/50 bg-primary/5",
      )}
      data-testid={data.apart ? "dag-defined-only" : "dag-group"}
    >
      <div className={cn("px-2 pt-1 text-[10px] font-medium", data.apart ? "text-muted-foreground" : "text-primary")}>{data.label}</div>
    </div>
  );
}

const nodeTypes = { klass: ClassNode, family: GroupNode };

/** The root base class of each subclass (so a family of classes shares one group). */
export function subclassGroups(dag: Dag): Map<string, string> {
  const parentOf = new Map(dag.subclass_edges.map((e) => [e.child, e.parent]));
  const known = new Set(dag.nodes.map((n) => n.namespace));
  const groupOf = new Map<string, string>();
  for (const e of dag.subclass_edges) {
    let root = e.parent;
    for (let i = 0; i < 20 && parentOf.has(root) && known.has(parentOf.get(root) as string); i++) root = parentOf.get(root) as string;
    if (!known.has(root)) continue;
    groupOf.set(e.child, root);
    groupOf.set(root, root);
  }
  return groupOf;
}

function buildGraph(dag: Dag, selected: string | null) {
  // Classes of the code without experiments are drawn apart (not in their base's group).
  const main = dag.nodes.filter((n) => !n.defined_only);
  const apart = dag.nodes.filter((n) => n.defined_only);
  const mainIds = new Set(main.map((n) => n.namespace));
  const groups = new Map([...subclassGroups({ ...dag, nodes: main })].filter(([child]) => mainIds.has(child)));
  const groupIds = [...new Set(groups.values())].map((root) => `group:${root}`);
  const boxes = [
    ...groupIds.map((id) => ({ id, width: 0, height: 0 })),
    ...main.map((n) => ({ id: n.namespace, width: W, height: H, parent: groups.has(n.namespace) ? `group:${groups.get(n.namespace)}` : undefined })),
  ];
  const linked = new Set(dag.subclass_edges.flatMap((e) => [e.child, e.parent]));
  const { pos, frame } = layoutApart(boxes, apart.map((n) => ({ id: n.namespace, width: W, height: H })), dag.edges, linked);
  const lit = selected ? connected(selected, dag.edges) : null;
  const parentOf = new Map(dag.subclass_edges.map((e) => [e.child, e.parent]));
  const nodes: Node[] = [
    ...(frame
      ? [
          {
            id: "group:defined-only",
            type: "family",
            position: { x: frame.x, y: frame.y },
            style: { width: frame.width, height: frame.height },
            data: { label: `Defined in the code, no experiments yet (${apart.length})`, apart: true },
            selectable: false,
            zIndex: -1,
          } satisfies Node<GroupData>,
        ]
      : []),
    ...groupIds.map((id) => {
      const p = pos.get(id) ?? { x: 0, y: 0, width: 0, height: 0 };
      const root = id.slice(6);
      return {
        id,
        type: "family",
        position: { x: p.x - 10, y: p.y - 22 },
        style: { width: p.width + 20, height: p.height + 32 },
        data: { label: `${root.slice(root.lastIndexOf(".") + 1)} and its subclasses` },
        selectable: false,
        zIndex: -1,
      } satisfies Node<GroupData>;
    }),
    ...dag.nodes.map(
      (n) =>
        ({
          id: n.namespace,
          type: "klass",
          position: pos.get(n.namespace) ?? { x: 0, y: 0 },
          data: {
            node: n,
            dim: !!lit && !lit.has(n.namespace),
            active: selected === n.namespace,
            parent: parentOf.get(n.namespace) ?? null,
          },
        }) satisfies Node<ClassData>,
    ),
  ];
  const edges: Edge[] = [
    ...dag.edges.map((e, i) => ({
      id: `d${i}`,
      source: e.source,
      target: e.target,
      label: `${e.field}${e.count > 1 ? ` ×${e.count}` : ""}`,
      animated: !!lit && lit.has(e.source) && lit.has(e.target),
      style: { opacity: lit && !(lit.has(e.source) && lit.has(e.target)) ? 0.2 : 1 },
      labelStyle: { fontSize: 10, fill: "var(--color-muted-foreground)" },
      labelBgStyle: { fill: "var(--color-card)" },
    })),
    // A subclass shares its base's group; an edge is drawn only when they are apart.
    ...dag.subclass_edges
      .filter((e) => !groups.has(e.child) || groups.get(e.child) !== groups.get(e.parent))
      .map((e, i) => ({
        id: `s${i}`,
        source: e.parent,
        target: e.child,
        label: "subclass",
        style: { strokeDasharray: "4 4", stroke: "var(--color-primary)" },
        labelStyle: { fontSize: 10, fill: "var(--color-primary)" },
        labelBgStyle: { fill: "var(--color-card)" },
      })),
  ];
  return { nodes, edges };
}

function SourceToggle({ source, onChange }: { source: DagSource; onChange: (s: DagSource) => void }) {
  const options: { value: DagSource; label: string; icon: typeof CodeXmlIcon }[] = [
    { value: "experiments", label: "from the experiments", icon: DatabaseIcon },
    { value: "code", label: "from the code", icon: CodeXmlIcon },
  ];
  return (
    <div className="inline-flex rounded-md border bg-card p-0.5" role="group" aria-label="Draw the graph">
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          aria-pressed={source === o.value}
          onClick={() => onChange(o.value)}
          className={cn(
            "flex h-7 cursor-pointer items-center gap-1.5 rounded px-2.5 text-xs",
            source === o.value ? "bg-primary text-primary-foreground" : "text-muted-foreground hover:bg-accent",
          )}
        >
          <o.icon className="size-3.5" /> {o.label}
        </button>
      ))}
    </div>
  );
}

/** Fits the graph again when the side panel opens or closes (the graph's width changes). */
function RefitOnPanel({ open }: { open: boolean }) {
  const flow = useReactFlow();
  const [fitted, setFitted] = useState(open);
  useEffect(() => {
    if (fitted === open) return;
    // After React Flow has measured its new width (its resize observer runs after paint).
    const timer = window.setTimeout(() => {
      setFitted(open);
      void flow.fitView();
    }, 80);
    return () => window.clearTimeout(timer);
  }, [open, fitted, flow]);
  return null;
}

/** The side panel of a selected class: what varies among its experiments, what failed. */
function ClassPanel({ node, onClose }: { node: DagNode; onClose: () => void }) {
  const detail = useDagClass(node.has_experiments ? node.namespace : null);
  return (
    <Card className="flex h-[calc(100vh-150px)] min-h-96 flex-col overflow-hidden" data-testid="dag-class-panel" data-namespace={node.namespace}>
      <div className="flex items-center gap-2 border-b px-3 py-2">
        <span className="truncate font-semibold">{node.class_name}</span>
        {(node.counts.failed ?? 0) > 0 && <Badge variant="failed">{formatNumber(node.counts.failed ?? 0)} failed</Badge>}
        {(node.stale ?? 0) > 0 && <Badge variant="warning">{node.stale} stale</Badge>}
        <Button variant="ghost" size="icon" className="ml-auto" aria-label="Close" onClick={onClose}>
          <XIcon />
        </Button>
      </div>
      <div className="flex flex-wrap gap-2 border-b px-3 py-2 text-xs">
        <Link to="/experiments" search={{ q: `namespace = ${node.namespace}` }} className="text-primary hover:underline">
          Open in Experiments
        </Link>
        {(node.stale ?? 0) > 0 && (
          <Link to="/migrate" search={{ ns: node.namespace }} className="flex items-center gap-1 text-primary hover:underline" data-testid="dag-migrate">
            <HistoryIcon className="size-3.5" /> Migrate its stale experiments…
          </Link>
        )}
      </div>
      <div className="min-h-0 flex-1 overflow-auto">
        {detail.error ? (
          <ErrorState error={detail.error} />
        ) : detail.data ? (
          <ClassDetail d={detail.data} />
        ) : node.has_experiments ? (
          <LoadingState rows={3} label="Loading the class" />
        ) : null}
        <div className="border-t">
          <div className="px-3 pt-2 text-xs font-medium">Latest experiments</div>
          <ClassExperiments namespace={node.namespace} limit={20} />
        </div>
      </div>
    </Card>
  );
}

function ClassDetail({ d }: { d: DagClass }) {
  return (
    <>
      <section className="grid gap-1.5 px-3 py-2" data-testid="dag-varying">
        <div className="text-xs font-medium">
          Varying fields{" "}
          <span className="font-normal text-muted-foreground">
            ({d.varying.length}; {d.constant} the same in all {formatNumber(d.total)})
          </span>
        </div>
        {d.varying.length === 0 && <div className="text-xs text-muted-foreground">Every config field has one value.</div>}
        {d.varying.map((f) => (
          <div key={f.field} className="grid gap-0.5" data-testid="dag-varying-field" data-field={f.field}>
            <Link
              to="/experiments"
              search={{ q: `namespace = ${d.namespace}`, cols: f.field }}
              className="truncate font-mono text-xs text-primary hover:underline"
              title={`${f.field}: ${f.distinct} distinct values`}
            >
              {f.field.replace(/^config\./, "")} <span className="text-muted-foreground">· {f.distinct}</span>
            </Link>
            <div className="flex flex-wrap gap-1">
              {f.values.map((v) => (
                <span key={String(v.value)} className="rounded bg-muted px-1.5 py-0.5 font-mono text-[10px]" title={`${v.count} experiments`}>
                  {v.value === null ? "null" : formatValue(v.value)} <span className="text-muted-foreground">×{formatNumber(v.count)}</span>
                </span>
              ))}
              {f.distinct > f.values.length && <span className="text-[10px] text-muted-foreground">+{f.distinct - f.values.length} more</span>}
            </div>
          </div>
        ))}
      </section>
      <section className="grid gap-1 border-t px-3 py-2" data-testid="dag-failures">
        <div className="text-xs font-medium">
          Recent failures <span className="font-normal text-muted-foreground">({formatNumber(d.failed)})</span>
        </div>
        {d.failures.length === 0 && <div className="text-xs text-muted-foreground">None failed.</div>}
        {d.failures.map((f) => (
          <ExperimentLink key={f.hash} namespace={f.namespace} hash={f.hash} className="grid gap-0.5 rounded px-1 py-1 text-xs hover:bg-accent">
            <span className="flex items-center gap-2">
              <span className="font-mono text-primary">{f.hash.slice(0, 10)}</span>
              <span className="font-medium text-destructive" data-testid="dag-failure-type">{f.error_type?.replace(/^builtins\./, "") ?? "error"}</span>
              <span className="ml-auto text-[10px] text-muted-foreground">{f.ended_at?.replace("T", " ").slice(0, 16)}</span>
            </span>
            <span className="line-clamp-2 text-muted-foreground" data-testid="dag-failure-message">{f.error_message ?? "no message"}</span>
          </ExperimentLink>
        ))}
      </section>
    </>
  );
}

export function DagPage() {
  const search = route.useSearch();
  const navigate = useNavigate({ from: "/dag" });
  const source: DagSource = search.source ?? "experiments";
  const dag = useDagFrom(source);
  const [theme] = useTheme();
  const [selected, setSelected] = useState<string | null>(null);
  const shown = dag.data && (dag.data.source ?? "experiments") === source ? dag.data : null;
  const graph = useMemo(() => (shown ? buildGraph(shown, selected) : null), [shown, selected]);
  const selectedNode = shown?.nodes.find((n) => n.namespace === selected) ?? null;
  const setSource = (s: DagSource) => {
    setSelected(null);
    void navigate({ search: { source: s === "experiments" ? undefined : s } });
  };
  const noManifest = source === "code" && dagIsMissingManifest(dag.error);
  const stale = shown ? shown.nodes.reduce((t, n) => t + (n.stale ?? 0), 0) : 0;
  const definedOnly = shown ? shown.nodes.filter((n) => n.defined_only).length : 0;

  const header = (
    <div className="flex flex-wrap items-center gap-3">
      <h1 className="text-lg font-semibold">DAG</h1>
      <SourceToggle source={source} onChange={setSource} />
      {shown && (
        <span className="text-sm text-muted-foreground" data-testid="dag-summary">
          {shown.nodes.length} classes · {shown.edges.length} dependencies · {shown.subclass_edges.length} subclass relations
          {source === "code" && ` · ${definedOnly} without experiments`}
          {stale > 0 && (
            <>
              {" · "}
              <Link to="/experiments" search={{ q: "stale = true" }} className="text-amber-700 hover:underline dark:text-amber-300">
                {formatNumber(stale)} stale
              </Link>
            </>
          )}
        </span>
      )}
      <div className="ml-auto flex items-center gap-2">
        {source === "code" && shown?.manifest_written_at && (
          <span className="text-xs text-muted-foreground" title={shown.manifest_written_at}>
            code read {shown.manifest_written_at.replace("T", " ").slice(0, 19)}
          </span>
        )}
        {source === "code" && <ManifestRefresh />}
      </div>
    </div>
  );

  if (noManifest) {
    return (
      <div className="grid gap-3">
        {header}
        <Card data-testid="dag-no-manifest">
          <EmptyState title="The server does not know the code yet">
            Run <code>furu manifest</code> in the project (it imports the modules named in <code>[tool.furu]</code> of{" "}
            <code>pyproject.toml</code> and writes <code>manifest.json</code> into the store), or press{" "}
            <em>Refresh from code</em> above.
          </EmptyState>
        </Card>
      </div>
    );
  }
  if (dag.error && !shown) return <div className="grid gap-3">{header}<ErrorState error={dag.error} retry={() => void dag.refetch()} /></div>;
  if (!shown || !graph) return <div className="grid gap-3">{header}<LoadingState rows={6} label="Loading the DAG" /></div>;
  return (
    <div className="grid gap-3">
      {header}
      {shown.nodes.length === 0 ? (
        <Card>
          <EmptyState title="No classes yet">
            {source === "code"
              ? "The manifest names no furu.Furu class: check the modules of [tool.furu] in pyproject.toml."
              : "The graph shows the classes of the experiments in this store."}
          </EmptyState>
        </Card>
      ) : (
        // The class panel sits beside the graph (never over its nodes); the graph keeps the rest.
        <div className={cn("grid gap-3", selectedNode && "lg:grid-cols-[minmax(0,1fr)_380px]")}>
          <Card className="h-[calc(100vh-150px)] min-h-96 overflow-hidden" data-testid="dag" data-source={source}>
            <ReactFlow
              // A new set of classes (another source, a refreshed manifest) is fitted anew.
              key={`${source}:${shown.nodes.map((n) => n.namespace).join(",")}`}
              nodes={graph.nodes}
              edges={graph.edges}
              nodeTypes={nodeTypes}
              fitView
              minZoom={0.1}
              colorMode={theme}
              nodesDraggable={false}
              proOptions={{ hideAttribution: true }}
              onNodeClick={(_, n) => n.type === "klass" && setSelected(selected === n.id ? null : n.id)}
              onPaneClick={() => setSelected(null)}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
              <RefitOnPanel open={!!selectedNode} />
            </ReactFlow>
          </Card>
          {selectedNode && <ClassPanel node={selectedNode} onClose={() => setSelected(null)} />}
        </div>
      )}
    </div>
  );
}
