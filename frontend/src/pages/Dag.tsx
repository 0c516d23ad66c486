/** The class-level DAG: which classes feed which, how many experiments each has, by status. */
import "@xyflow/react/dist/style.css";

import { Link } from "@tanstack/react-router";
import { Background, Controls, Handle, MiniMap, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { ListIcon } from "lucide-react";
import { useMemo, useState } from "react";

import type { Dag, DagNode } from "@/api/client";
import { useDag } from "@/api/queries";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { STATUS_COLORS } from "@/components/StatusBadge";
import { Card } from "@/components/ui/card";
import { formatNumber } from "@/lib/format";
import { connected, layout } from "@/lib/layout";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";

type ClassData = { node: DagNode; dim: boolean; active: boolean; parent: string | null };
type GroupData = { label: string };
const W = 240;
const H = 104;

function ClassNode({ data }: NodeProps<Node<ClassData>>) {
  const n = data.node;
  const counts = Object.entries(n.counts).filter(([, c]) => c > 0);
  return (
    <div
      className={cn(
        "rounded-lg border bg-card px-3 py-2 text-xs shadow-sm transition-opacity",
        data.dim && "opacity-25",
        data.active && "ring-2 ring-primary",
        !n.has_experiments && "border-dashed",
      )}
      style={{ width: W }}
      data-testid="dag-node"
      data-namespace={n.namespace}
      data-dim={data.dim || undefined}
    >
      <Handle type="target" position={Position.Left} className="!bg-muted-foreground" />
      <div className="flex items-center gap-2">
        <span className="truncate text-sm font-semibold">{n.class_name}</span>
        <span className="ml-auto font-semibold tabular-nums">{formatNumber(n.total)}</span>
      </div>
      <div className="truncate font-mono text-[10px] text-muted-foreground" title={n.namespace}>
        {n.namespace}
      </div>
      {data.parent && (
        <div className="truncate text-[10px] text-primary" data-testid="dag-subclass-of">
          subclass of {data.parent.slice(data.parent.lastIndexOf(".") + 1)}
        </div>
      )}
      <div className="mt-1.5 flex h-1.5 overflow-hidden rounded-full bg-muted">
        {counts.map(([s, c]) => (
          <div key={s} style={{ width: `${(100 * c) / Math.max(n.total, 1)}%`, background: STATUS_COLORS[s] ?? "#888" }} />
        ))}
      </div>
      <div className="mt-1 flex items-center gap-2">
        <span className="truncate text-[10px] text-muted-foreground">{counts.map(([s, c]) => `${c} ${s}`).join(" · ") || "no experiments"}</span>
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
    <div className="h-full w-full rounded-xl border border-dashed border-primary/50 bg-primary/5" data-testid="dag-group">
      <div className="px-2 pt-1 text-[10px] font-medium text-primary">{data.label}</div>
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
  const groups = subclassGroups(dag);
  const groupIds = [...new Set(groups.values())].map((root) => `group:${root}`);
  const boxes = [
    ...groupIds.map((id) => ({ id, width: 0, height: 0 })),
    ...dag.nodes.map((n) => ({ id: n.namespace, width: W, height: H, parent: groups.has(n.namespace) ? `group:${groups.get(n.namespace)}` : undefined })),
  ];
  const pos = layout(boxes, dag.edges);
  const lit = selected ? connected(selected, dag.edges) : null;
  const parentOf = new Map(dag.subclass_edges.map((e) => [e.child, e.parent]));
  const nodes: Node[] = [
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

export function DagPage() {
  const dag = useDag();
  const [theme] = useTheme();
  const [selected, setSelected] = useState<string | null>(null);
  const graph = useMemo(() => (dag.data ? buildGraph(dag.data, selected) : null), [dag.data, selected]);
  if (dag.error) return <ErrorState error={dag.error} retry={() => void dag.refetch()} />;
  if (!dag.data || !graph) return <LoadingState rows={6} label="Loading the DAG" />;
  return (
    <div className="grid gap-3">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-lg font-semibold">DAG</h1>
        <span className="text-sm text-muted-foreground">
          {dag.data.nodes.length} classes · {dag.data.edges.length} dependencies · {dag.data.subclass_edges.length} subclass relations
        </span>
        <span className="ml-auto text-xs text-muted-foreground">Click a class to highlight what it depends on and what depends on it.</span>
      </div>
      {dag.data.nodes.length === 0 ? (
        <Card>
          <EmptyState title="No classes yet">The graph shows the classes of the experiments in this store.</EmptyState>
        </Card>
      ) : (
        <Card className="h-[calc(100vh-150px)] min-h-96 overflow-hidden" data-testid="dag">
          <ReactFlow
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
            <MiniMap
              pannable
              zoomable
              bgColor="var(--color-card)"
              maskColor="color-mix(in oklab, var(--color-muted) 70%, transparent)"
              nodeColor="var(--color-muted-foreground)"
            />
          </ReactFlow>
        </Card>
      )}
    </div>
  );
}
