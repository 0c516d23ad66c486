/**
 * The DAG's layout: the classes connected to others (by a dependency or a subclass relation)
 * laid out first, as a graph; the isolated ones after them, in a grid; and (in code mode) the
 * classes the code defines without any experiment yet drawn apart, in their own frame below.
 */
import { layout, type Box } from "./layout";

export type Rect = { x: number; y: number; width: number; height: number };
type Edge = { source: string; target: string };

const GAP = 90;
const PAD = 16;
const TITLE = 26;

const GRID_GAP = 24;

/**
 * Positions of `boxes`: those linked to another (an edge, a parent group, or named in
 * `linked`) by dagre, then the isolated ones in rows below them, as wide as the graph (at
 * least four to a row), so a store of many unrelated classes does not stretch into one
 * endless column beside the few that form the pipeline.
 */
export function layoutConnectedFirst(boxes: Box[], edges: Edge[], linked: Set<string> = new Set()): Map<string, Rect> {
  const touched = new Set([...linked, ...edges.flatMap((e) => [e.source, e.target])]);
  const parents = new Set(boxes.flatMap((b) => (b.parent ? [b.parent] : [])));
  const isolated = boxes.filter((b) => !b.parent && !parents.has(b.id) && !touched.has(b.id));
  const lone = new Set(isolated.map((b) => b.id));
  const graph = boxes.filter((b) => !lone.has(b.id));
  const pos = graph.length ? layout(graph, edges) : new Map<string, Rect>();
  if (!isolated.length) return pos;
  let bottom = 0;
  let left = graph.length ? Number.POSITIVE_INFINITY : 16;
  let right = 0;
  for (const r of pos.values()) {
    bottom = Math.max(bottom, r.y + r.height);
    left = Math.min(left, r.x);
    right = Math.max(right, r.x + r.width);
  }
  const cell = Math.max(...isolated.map((b) => b.width)) + GRID_GAP;
  const row = Math.max(...isolated.map((b) => b.height)) + GRID_GAP;
  const columns = Math.max(4, Math.floor((right - left + GRID_GAP) / cell));
  const top = graph.length ? bottom + GAP : 16;
  isolated.forEach((b, i) => {
    pos.set(b.id, { x: left + (i % columns) * cell, y: top + Math.floor(i / columns) * row, width: b.width, height: b.height });
  });
  return pos;
}

/**
 * Positions of `main` (connected ones first, see `layoutConnectedFirst`) and of `apart`
 * (laid out among themselves) below it, with the frame drawn around `apart` (null when there
 * is none).
 */
export function layoutApart(
  main: Box[],
  apart: Box[],
  edges: Edge[],
  linked: Set<string> = new Set(),
): { pos: Map<string, Rect>; frame: Rect | null } {
  const pos = main.length ? layoutConnectedFirst(main, edges, linked) : new Map<string, Rect>();
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
