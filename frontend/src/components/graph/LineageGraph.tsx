/** One experiment's lineage: its ancestors (left) and descendants (right), by status. */
import "@xyflow/react/dist/style.css";

import { useNavigate } from "@tanstack/react-router";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { useMemo } from "react";

import type { Lineage } from "@/api/client";
import { labelsByGroup } from "@/lib/labels";
import { layout } from "@/lib/layout";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";

import { EmptyState } from "../States";
import { StatusBadge } from "../StatusBadge";
import { Card } from "../ui/card";

/** `label`: the class; `name`: its name in the code (a FuruList) or its own name, else an
 * automatic label from the config fields that differ among the nodes of its class. */
type Data = { label: string; name: string | null; automatic: boolean; title: string | undefined; hash: string; status: string; root: boolean };

function ExperimentNode({ data }: NodeProps<Node<Data>>) {
  return (
    <div className={cn("w-52 rounded-md border bg-card px-2.5 py-1.5 text-xs shadow-sm", data.root && "ring-2 ring-primary")} data-testid="lineage-node" data-name={data.name ?? undefined} data-automatic={data.automatic || undefined}>
      <Handle type="target" position={Position.Left} className="!bg-muted-foreground" />
      <div className="flex items-center justify-between gap-2">
        <span className="truncate font-medium">{data.label}</span>
        <StatusBadge status={data.status} />
      </div>
      <div className="flex items-center gap-2">
        {data.name && <span className={cn("truncate", data.automatic ? "font-mono text-muted-foreground" : "font-medium text-primary")} title={data.title}>{data.name}</span>}
        <span className="ml-auto shrink-0 font-mono text-muted-foreground">{data.hash.slice(0, data.name ? 8 : 12)}</span>
      </div>
      <Handle type="source" position={Position.Right} className="!bg-muted-foreground" />
    </div>
  );
}

const nodeTypes = { experiment: ExperimentNode };

export function LineageGraph({ lineage }: { lineage: Lineage }) {
  const navigate = useNavigate();
  const [theme] = useTheme();
  const { nodes, edges } = useMemo(() => {
    const ids = lineage.nodes.map((n) => `${n.namespace}/${n.hash}`);
    const labels = labelsByGroup(lineage.nodes.map((n, i) => ({ id: ids[i], group: n.namespace, name: n.display_name, fields: n.values ?? {} })));
    const pos = layout(ids.map((id) => ({ id, width: 208, height: 52 })), lineage.edges);
    const flowNodes: Node<Data>[] = lineage.nodes.map((n, i) => ({
      id: ids[i],
      type: "experiment",
      position: pos.get(ids[i]) ?? { x: 0, y: 0 },
      data: { label: n.class_name, name: labels.get(ids[i])?.text ?? null, automatic: !!labels.get(ids[i])?.automatic, title: labels.get(ids[i])?.title, hash: n.hash, status: n.attempt_status === "running" ? "running" : n.result_status, root: n.depth === 0 },
    }));
    const flowEdges: Edge[] = lineage.edges.map((e, i) => ({
      id: `e${i}`,
      source: e.source,
      target: e.target,
      label: e.field,
      labelStyle: { fontSize: 10, fill: "var(--color-muted-foreground)" },
      labelBgStyle: { fill: "var(--color-card)" },
    }));
    return { nodes: flowNodes, edges: flowEdges };
  }, [lineage]);
  if (lineage.nodes.length <= 1) {
    return (
      <Card>
        <EmptyState title="No dependencies">Nothing feeds this experiment and nothing depends on it.</EmptyState>
      </Card>
    );
  }
  return (
    <Card className="h-[65vh] overflow-hidden" data-testid="lineage-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        colorMode={theme}
        nodesDraggable={false}
        proOptions={{ hideAttribution: true }}
        onNodeClick={(_, n) => {
          const i = n.id.lastIndexOf("/");
          void navigate({ to: "/experiments/$namespace/$hash", params: { namespace: n.id.slice(0, i), hash: n.id.slice(i + 1) } });
        }}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {lineage.truncated && <div className="p-2 text-xs text-muted-foreground">The lineage was cut short.</div>}
    </Card>
  );
}
