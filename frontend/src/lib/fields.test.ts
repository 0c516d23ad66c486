import { describe, expect, it } from "vitest";

import { collectFields, FEW_VALUES, withCatalog } from "./fields";
import { pagesFor, PAGE } from "./paging";

describe("collectFields", () => {
  it("lists config paths with their kinds and distinct values", () => {
    const configs = Array.from({ length: 20 }, (_, i) => ({ lr: i / 10, optimizer: i % 2 ? "adam" : "sgd", flag: true }));
    const fields = collectFields(configs);
    const byPath = Object.fromEntries(fields.map((f) => [f.path, f]));
    expect(byPath["config.optimizer"]).toEqual({ path: "config.optimizer", kind: "str", values: ["adam", "sgd"], many: false });
    expect(byPath["config.flag"].kind).toBe("bool");
    expect(byPath["config.lr"].many).toBe(true);
    expect(byPath["config.lr"].values).toHaveLength(FEW_VALUES);
    expect(byPath["config.lr"].values[0]).toBe(0);
  });
});

describe("pagesFor", () => {
  it("asks for the pages on screen, and the first one", () => {
    expect(pagesFor(0, 30, 1000)).toEqual([0]);
    expect(pagesFor(PAGE * 5 + 90, PAGE * 6 + 10, 100_000)).toEqual([0, 5, 6]);
    expect(pagesFor(0, 30, null)).toEqual([0]);
    expect(pagesFor(500, 600, 120)).toEqual([0, 1]);
  });
});

describe("withCatalog", () => {
  it("adds the index's result and downstream fields to the sampled config fields", () => {
    const sampled = collectFields([{ lr: 0.1 }]);
    const merged = withCatalog(sampled, [
      { name: "config.lr", kind: "num" },
      { name: "config.__class__", kind: "str" },
      { name: "result.accuracy", kind: "num" },
      { name: "downstream.Evaluate.result.accuracy", kind: "num" },
    ]);
    expect(merged.map((f) => f.path)).toEqual(["config.lr", "result.accuracy", "downstream.Evaluate.result.accuracy"]);
    expect(merged[0]?.values).toEqual([0.1]);
    expect(merged[1]).toEqual({ path: "result.accuracy", kind: "num", values: [], many: true });
  });
});
