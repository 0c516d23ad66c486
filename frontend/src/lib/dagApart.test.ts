import { describe, expect, it } from "vitest";

import { layoutApart, layoutConnectedFirst } from "./dagApart";

const box = (id: string) => ({ id, width: 240, height: 112 });

describe("layoutApart", () => {
  it("puts the classes without experiments below the graph, inside their frame", () => {
    const edges = [
      { source: "a", target: "b" },
      { source: "b", target: "new1" },
      { source: "new1", target: "new2" },
    ];
    const { pos, frame } = layoutApart([box("a"), box("b")], [box("new1"), box("new2")], edges);
    expect(frame).not.toBeNull();
    const f = frame as NonNullable<typeof frame>;
    const mainBottom = Math.max(...["a", "b"].map((id) => (pos.get(id)?.y ?? 0) + 112));
    expect(f.y).toBeGreaterThan(mainBottom);
    for (const id of ["new1", "new2"]) {
      const r = pos.get(id);
      expect(r).toBeDefined();
      expect(r!.y).toBeGreaterThan(f.y);
      expect(r!.x).toBeGreaterThanOrEqual(f.x);
      expect(r!.x + r!.width).toBeLessThanOrEqual(f.x + f.width);
      expect(r!.y + r!.height).toBeLessThanOrEqual(f.y + f.height);
    }
    // The edge between two new classes is laid out left to right within the frame.
    expect(pos.get("new1")!.x).toBeLessThan(pos.get("new2")!.x);
  });

  it("has no frame when every class has experiments, and a frame alone when none has", () => {
    expect(layoutApart([box("a")], [], []).frame).toBeNull();
    const alone = layoutApart([], [box("x")], []);
    expect(alone.frame).toMatchObject({ x: 0, y: 0 });
    expect(alone.pos.get("x")!.y).toBeGreaterThan(0);
  });
});

describe("layoutConnectedFirst", () => {
  it("lays out the connected classes first and the isolated ones below them, in rows", () => {
    const edges = [
      { source: "a", target: "b" },
      { source: "b", target: "c" },
    ];
    const lone = Array.from({ length: 9 }, (_, i) => box(`lone${i}`));
    const pos = layoutConnectedFirst([...lone.slice(0, 4), box("a"), box("b"), box("c"), ...lone.slice(4)], edges);
    const graphBottom = Math.max(...["a", "b", "c"].map((id) => pos.get(id)!.y + 112));
    const graphLeft = Math.min(...["a", "b", "c"].map((id) => pos.get(id)!.x));
    for (const b of lone) expect(pos.get(b.id)!.y).toBeGreaterThan(graphBottom);
    // A grid: at least four to a row, as wide as the graph, in the order given.
    const rows = new Set(lone.map((b) => pos.get(b.id)!.y));
    expect(rows.size).toBeGreaterThan(1);
    expect(rows.size).toBeLessThan(lone.length);
    expect(pos.get("lone0")!.x).toBe(graphLeft);
    expect(pos.get("lone1")!.x).toBeGreaterThan(pos.get("lone0")!.x);
  });

  it("keeps a class linked otherwise (a subclass, a group) in the graph", () => {
    const pos = layoutConnectedFirst([box("base"), box("sub"), box("x")], [], new Set(["base", "sub"]));
    expect(pos.get("x")!.y).toBeGreaterThan(Math.max(pos.get("base")!.y, pos.get("sub")!.y));
  });
});
