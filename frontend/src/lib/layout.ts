/** Graph layout with dagre: node positions (top-left corners, as React Flow wants them). */
import dagre from "@dagrejs/dagre";

export type Box = { id: string; width: number; height: number; parent?: string };

export function layout(
  nodes: Box[],
  edges: { source: string; target: string }[],
  direction: "LR" | "TB" = "LR",
): Map<string, { x: number; y: number; width: number; height: number }> {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: 28, ranksep: 70, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const n of nodes) if (n.parent) g.setParent(n.id, n.parent);
  edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, String(i));
  });
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number; width: number; height: number }>();
  for (const id of g.nodes()) {
    const n = g.node(id);
    if (n) out.set(id, { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height });
  }
  return out;
}

/** `start` with its ancestors and descendants (every node reachable along edges, either way). */
export function connected(start: string, edges: { source: string; target: string }[]): Set<string> {
  const out = new Set<string>([start]);
  for (const down of [true, false]) {
    const seen = new Set<string>([start]);
    const stack = [start];
    while (stack.length) {
      const id = stack.pop() as string;
      for (const e of edges) {
        const next = down ? (e.source === id ? e.target : null) : e.target === id ? e.source : null;
        if (next && !seen.has(next)) {
          seen.add(next);
          out.add(next);
          stack.push(next);
        }
      }
    }
  }
  return out;
}
