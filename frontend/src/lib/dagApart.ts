/**
 * The code DAG's layout: the classes with experiments laid out as a graph, and the classes the
 * code defines without any experiment yet drawn apart, in their own frame below.
 */
import { layout, type Box } from "./layout";

export type Rect = { x: number; y: number; width: number; height: number };
type Edge = { source: string; target: string };

const GAP = 90;
const PAD = 16;
const TITLE = 26;

/**
 * Positions of `main` (a graph with its `edges`) and of `apart` (laid out among themselves)
 * below it, with the frame drawn around `apart` (null when there is none).
 */
export function layoutApart(main: Box[], apart: Box[], edges: Edge[]): { pos: Map<string, Rect>; frame: Rect | null } {
  const pos = main.length ? layout(main, edges) : new Map<string, Rect>();
  if (!apart.length) return { pos, frame: null };
  let bottom = 0;
  let left = Number.POSITIVE_INFINITY;
  for (const r of pos.values()) {
    bottom = Math.max(bottom, r.y + r.height);
    left = Math.min(left, r.x);
  }
  if (!Number.isFinite(left)) left = 0;
  const ids = new Set(apart.map((b) => b.id));
  const inner = layout(apart.map(({ id, width, height }) => ({ id, width, height })), edges.filter((e) => ids.has(e.source) && ids.has(e.target)));
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = 0;
  let maxY = 0;
  for (const r of inner.values()) {
    minX = Math.min(minX, r.x);
    minY = Math.min(minY, r.y);
    maxX = Math.max(maxX, r.x + r.width);
    maxY = Math.max(maxY, r.y + r.height);
  }
  const top = (main.length ? bottom + GAP : 0) + TITLE + PAD;
  for (const [id, r] of inner) pos.set(id, { ...r, x: left + PAD + (r.x - minX), y: top + (r.y - minY) });
  const frame = { x: left, y: top - TITLE - PAD, width: maxX - minX + 2 * PAD, height: maxY - minY + TITLE + 2 * PAD };
  return { pos, frame };
}
