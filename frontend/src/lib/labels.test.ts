import { describe, expect, it } from "vitest";

import { flattenConfig } from "./config";
import { differ, fieldLabel, labelsByGroup, runColors, runLabels, RUN_PALETTE, sameValue, shortNames, varyingFields } from "./labels";

const flat = (config: unknown) => new Map(flattenConfig(config).map((l) => [l.path, l.value]));
const evaluate = (lr: number, l2 = 0) => ({
  __class__: "ml_pipeline.steps:Evaluate",
  model: { __class__: "ml_pipeline.steps:TrainModel", lr, l2, epochs: 30, dataset: { __class__: "ml_pipeline.steps:MakeDataset", n: 400, seed: 0 } },
});

describe("sameValue", () => {
  it("reads numbers by value: an integer and its float, float noise", () => {
    expect(sameValue(1, 1.0)).toBe(true);
    expect(sameValue(0.1 + 0.2, 0.3)).toBe(true);
    expect(sameValue(0.3, 0.30001)).toBe(false);
    expect(sameValue(Number.NaN, Number.NaN)).toBe(true);
    expect(sameValue({ __float__: "inf" }, Infinity)).toBe(true);
  });
  it("compares objects regardless of key order and lists element by element", () => {
    expect(sameValue({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2.0] }, a: 1 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ __tuple__: [1, 2] }, [1, 2])).toBe(true);
  });
  it("keeps types apart", () => {
    expect(sameValue("1", 1)).toBe(false);
    expect(sameValue(null, undefined)).toBe(false);
  });
  it("differ: absent against present differs, equal values do not", () => {
    expect(differ([1, 1.0, 1])).toBe(false);
    expect(differ([1, undefined])).toBe(true);
    expect(differ([{ x: 1, y: 2 }, { y: 2, x: 1 }])).toBe(false);
  });
});

describe("automatic labels", () => {
  it("name the fields that differ, with short names", () => {
    const runs = [
      { id: "ns/aaaa1111", fields: flat(evaluate(0.3)) },
      { id: "ns/bbbb2222", fields: flat(evaluate(0.3, 0.01)) },
      { id: "ns/cccc3333", fields: flat(evaluate(0.01)) },
    ];
    expect(varyingFields(runs)).toEqual(["model.lr", "model.l2"]);
    const labels = runLabels(runs);
    expect(labels.get("ns/aaaa1111")?.text).toBe("lr=0.3, l2=0");
    expect(labels.get("ns/bbbb2222")?.text).toBe("lr=0.3, l2=0.01");
    expect(labels.get("ns/cccc3333")?.automatic).toBe(true);
  });
  it("keep a name from the code over the automatic label", () => {
    const runs = [
      { id: "ns/a", name: "baseline", fields: { "config.lr": 0.3 } },
      { id: "ns/b", name: null, fields: { "config.lr": 0.01 } },
    ];
    const labels = runLabels(runs);
    expect(labels.get("ns/a")).toMatchObject({ text: "baseline", automatic: false });
    expect(labels.get("ns/b")).toMatchObject({ text: "lr=0.01", automatic: true });
  });
  it("fall back to the hash when nothing differs, and ignore class leaves", () => {
    const runs = [
      { id: "ns/0123456789ab", fields: { __class__: "a.A", lr: 1 } },
      { id: "ns/ffff456789ab", fields: { __class__: "a.B", lr: 1 } },
    ];
    expect(runLabels(runs).get("ns/0123456789ab")?.text).toBe("01234567");
  });
  it("make short names longer only where they would clash", () => {
    expect([...shortNames(["model.lr", "opt.lr", "config.epochs"]).values()]).toEqual(["model.lr", "opt.lr", "epochs"]);
  });
  it("hold at most three fields, numbers formatted for people", () => {
    const fields = { a: 0.0006, b: 300000000000, c: 12345, d: "x" };
    expect(fieldLabel(fields, ["a", "b", "c", "d"])).toBe("a=6e-4, b=3e11, c=12,345");
  });
});

describe("runColors", () => {
  it("gives each run its own colour, by its place on the page", () => {
    const colors = runColors(["a", "b", "a", "c"]);
    expect([...colors.values()]).toEqual(RUN_PALETTE.slice(0, 3));
    expect(colors.get("a")).toBe(RUN_PALETTE[0]);
  });
});

describe("labelsByGroup", () => {
  it("tells runs apart within their class; a run alone in its class keeps only its name", () => {
    const labels = labelsByGroup([
      { id: "d/1", group: "MakeDataset", fields: { "config.n": 600 } },
      { id: "t/1", group: "TrainModel", fields: { "config.lr": 0.3, "config.n": 1 } },
      { id: "t/2", group: "TrainModel", fields: { "config.lr": 0.01, "config.n": 1 } },
      { id: "e/1", group: "Evaluate", name: "baseline", fields: {} },
    ]);
    expect(labels.has("d/1")).toBe(false);
    expect(labels.get("t/1")?.text).toBe("lr=0.3");
    expect(labels.get("t/2")?.text).toBe("lr=0.01");
    expect(labels.get("e/1")?.text).toBe("baseline");
  });
});
