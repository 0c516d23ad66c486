import { describe, expect, it } from "vitest";

import { combinations, parseSweepValues, sweepType } from "./sweep";

describe("parseSweepValues", () => {
  it("reads lists typed by the field", () => {
    expect(parseSweepValues("lr", "float", "0.1, 0.3,1e-3")).toEqual({ values: [0.1, 0.3, 0.001] });
    expect(parseSweepValues("opt", "str", 'adam, "sgd"')).toEqual({ values: ["adam", "sgd"] });
    expect(parseSweepValues("avg", "bool", "true,false")).toEqual({ values: [true, false] });
    expect(parseSweepValues("n", "int", "1, 1, 2")).toEqual({ values: [1, 2] });
    expect(parseSweepValues("n", "int", "  ")).toEqual({ values: [] });
  });
  it("reads ranges, the stop included", () => {
    expect(parseSweepValues("n", "int", "1:3")).toEqual({ values: [1, 2, 3] });
    expect(parseSweepValues("lr", "float", "0:1:0.25")).toEqual({ values: [0, 0.25, 0.5, 0.75, 1] });
    expect(parseSweepValues("lr", "float", "0.1:0.3:0.1")).toEqual({ values: [0.1, 0.2, 0.3] });
  });
  it("names the field and the value it refuses", () => {
    expect(parseSweepValues("lr", "float", "0.1, fast")).toEqual({ error: 'lr: "fast" is not a number' });
    expect(parseSweepValues("n", "int", "1.5")).toEqual({ error: "n: 1.5 is not a whole number (the field is an int)" });
    expect(parseSweepValues("avg", "bool", "yes")).toEqual({ error: 'avg: "yes" is not true or false' });
    expect(parseSweepValues("n", "int", "1:3:0")).toEqual({ error: "n: a range's step must be above 0" });
    expect(parseSweepValues("n", "int", "0:5000")).toEqual({ error: "n: the range has 5001 values, more than 1000" });
  });
});

describe("combinations", () => {
  it("multiplies the axes", () => {
    expect(combinations({ lr: [1, 2], width: [1, 2, 3] })).toBe(6);
    expect(combinations({})).toBe(0);
  });
  it("knows the types it can sweep", () => {
    expect(sweepType("float")).toBe("float");
    expect(sweepType("tuple[int, ...]")).toBeNull();
  });
});

describe("createdSoFar", () => {
  it("reads the progress lines, then the outcome", async () => {
    const { createdSoFar } = await import("@/components/BatchPanel");
    const log = "furu-batch: 0/2 to create\nfuru-batch: 0/2 started Fit 01307a3cd\nfuru-batch: 1/2 created Fit 01307a3cd\n";
    expect([...createdSoFar(log, [])]).toEqual(["01307a3cd"]);
    expect(createdSoFar(log, ["m.Fit/ffff"]).has("ffff")).toBe(true);
  });
});
