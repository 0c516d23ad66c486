import { describe, expect, it } from "vitest";

import golden from "../../../packages/furu-core/tests/fixtures/tagged_json_golden.json";
import { compareConfigs, flattenConfig, isStep, shortClass, untag, valueAt } from "./config";

/** Non-finite numbers as the golden file writes them (JSON has none). */
function comparable(value: unknown): unknown {
  if (typeof value !== "number" || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
}

describe("the tagged-JSON golden cases shared with furu-core and furu-server", () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const leaves = flattenConfig(c.config).map((l) => [l.path, comparable(l.value)]);
      expect(leaves).toEqual(c.leaves);
    });
  }
});

const config = {
  __class__: "ml.Evaluate",
  model: {
    __class__: "ml.TrainModel",
    dataset: { __class__: "ml.MakeDataset", seed: 0 },
    lr: 0.3,
    layers: { __tuple__: [16, 32] },
    path: { __path__: "/data/x" },
  },
  split: "test",
};

describe("flattenConfig", () => {
  it("gives every leaf with the index's paths, tags read through", () => {
    const leaves = Object.fromEntries(flattenConfig(config).map((l) => [l.path, l.value]));
    expect(leaves).toMatchObject({
      __class__: "ml.Evaluate",
      "model.__class__": "ml.TrainModel",
      "model.dataset.seed": 0,
      "model.lr": 0.3,
      "model.layers.0": 16,
      "model.layers.1": 32,
      "model.path": "/data/x",
      split: "test",
    });
  });

  it("reads values at paths", () => {
    expect(valueAt(config, "model.lr")).toBe(0.3);
    expect(valueAt(config, "model.layers.1")).toBe(32);
    expect(valueAt(config, "model.nothing")).toBeUndefined();
    expect(untag({ __tuple__: [1] })).toEqual([1]);
    expect(isStep(config.model)).toBe(true);
    expect(shortClass("a.b.Class")).toBe("Class");
    expect(shortClass("a.b:Outer.Inner")).toBe("Inner");
  });
});

describe("compareConfigs", () => {
  it("lines up paths and marks those that differ", () => {
    const rows = compareConfigs([{ lr: 0.1, seed: 1 }, { lr: 0.2, seed: 1, extra: true }]);
    expect(rows).toEqual([
      { path: "lr", values: [0.1, 0.2], differs: true },
      { path: "seed", values: [1, 1], differs: false },
      { path: "extra", values: [undefined, true], differs: true },
    ]);
  });
});
