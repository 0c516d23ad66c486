import { describe, expect, it } from "vitest";

import { dropColumn, fieldColumns, fieldLabel, insertColumn, isFieldColumn, moveColumn, sortOf } from "./columns";

describe("columns", () => {
  it("places new field columns right after Class, in the order they were added", () => {
    const base = ["status", "class", "name", "hash"];
    const one = insertColumn(base, "config.lr");
    expect(one).toEqual(["status", "class", "config.lr", "name", "hash"]);
    const two = insertColumn(one, "downstream.Evaluate.result.accuracy");
    expect(two).toEqual(["status", "class", "config.lr", "downstream.Evaluate.result.accuracy", "name", "hash"]);
    expect(insertColumn(two, "config.lr")).toBe(two);
    expect(insertColumn(["status"], "result.loss")).toEqual(["status", "result.loss"]);
    expect(insertColumn(base, "size")).toEqual([...base, "size"]);
  });

  it("moves and drops columns", () => {
    const cols = ["a", "b", "c", "d"];
    expect(moveColumn(cols, "c", -1)).toEqual(["a", "c", "b", "d"]);
    expect(moveColumn(cols, "c", 1)).toEqual(["a", "b", "d", "c"]);
    expect(moveColumn(cols, "a", -1)).toBe(cols);
    expect(moveColumn(cols, "zz", 1)).toBe(cols);
    expect(dropColumn(cols, "d", "b")).toEqual(["a", "d", "b", "c"]);
    expect(dropColumn(cols, "a", "c")).toEqual(["b", "c", "a", "d"]);
  });

  it("tells fields from built-in columns and sorts", () => {
    expect(isFieldColumn("config.lr")).toBe(true);
    expect(isFieldColumn("downstream.Evaluate.result.accuracy")).toBe(true);
    expect(isFieldColumn("class")).toBe(false);
    expect(fieldColumns(["status", "result.a", "config.b"])).toEqual(["result.a", "config.b"]);
    expect(sortOf("result.accuracy")).toEqual({ sort: "updated", sortField: "result.accuracy" });
    expect(sortOf("size")).toEqual({ sort: "size", sortField: null });
    expect(sortOf(undefined)).toEqual({ sort: "updated", sortField: null });
    expect(fieldLabel("downstream.Evaluate.result.accuracy")).toBe("Evaluate ▸ accuracy");
    expect(fieldLabel("config.optim.lr")).toBe("optim.lr");
  });
});
