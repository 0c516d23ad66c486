import { describe, expect, it } from "vitest";

import {
  addedFields,
  changeText,
  fieldValue,
  hasStaleFilter,
  aliasesOfClass,
  migratedAway,
  migrationBody,
  resultItems,
  staleKind,
  staleOfClass,
  staleText,
  toggleStaleFilter,
} from "./evolution";

describe("stale reasons", () => {
  it("reads the stable kind and the sentence", () => {
    expect(staleKind("fields-changed: field average is new")).toBe("fields-changed");
    expect(staleText("fields-changed: field average is new")).toBe("field average is new");
    expect(staleKind("dependency-stale: ml.Train/abc is stale")).toBe("dependency-stale");
    expect(staleKind("something else")).toBeNull();
    expect(staleText("something else")).toBe("something else");
    expect(staleText(null)).toMatch(/no longer produce/);
  });
});

describe("the stale quick filter", () => {
  it("adds stale = true to an empty filter and to an and-list", () => {
    expect(toggleStaleFilter("")).toBe("stale = true");
    expect(toggleStaleFilter("namespace = ml.Train")).toBe("namespace = ml.Train and stale = true");
  });

  it("wraps a filter with or/not before adding it", () => {
    expect(toggleStaleFilter("status = failed or status = crashed")).toBe(
      "(status = failed or status = crashed) and stale = true",
    );
  });

  it("removes it again wherever it stands", () => {
    expect(toggleStaleFilter("stale = true")).toBe("");
    expect(toggleStaleFilter("namespace = ml.Train and stale = true")).toBe("namespace = ml.Train");
    expect(toggleStaleFilter("stale = true and config.lr < 0.1")).toBe("config.lr < 0.1");
    expect(toggleStaleFilter("a = 1 and stale = true and b = 2")).toBe("a = 1 and b = 2");
  });

  it("knows when it is on, and not for a look-alike field", () => {
    expect(hasStaleFilter("x = 1 and stale = true")).toBe(true);
    expect(hasStaleFilter("config.stale = true")).toBe(false);
    expect(hasStaleFilter("stale = false")).toBe(false);
    expect(staleOfClass("ml.Train")).toBe("namespace = ml.Train and stale = true");
  });
});

describe("field changes", () => {
  it("reads each kind as a sentence", () => {
    expect(changeText({ field: "average", kind: "added", new: false })).toBe("average is new (false)");
    expect(changeText({ field: "lr", kind: "changed", old: 0.1, new: 0.03 })).toBe("lr: 0.1 → 0.03");
    expect(changeText({ field: "seed", kind: "removed", old: 3 })).toBe("seed was removed (was 3)");
    expect(changeText({ field: "rate", kind: "renamed", old: "lr" })).toBe("lr renamed to rate");
    expect(changeText({ field: "model", kind: "dependency", old: "0123456789ab", new: "abcdef0123" })).toBe(
      "model: its dependency 012345678… → abcdef012…",
    );
  });

  it("collects the added fields of a plan once each", () => {
    const items = [
      { changes: [{ field: "average", kind: "added" }, { field: "lr", kind: "changed" }] },
      { changes: [{ field: "average", kind: "added" }, { field: "warmup", kind: "added" }] },
    ];
    expect(addedFields(items)).toEqual(["average", "warmup"]);
  });
});

describe("migration requests", () => {
  const base = { namespace: "ml.Train", values: {}, hashes: [], types: { average: "bool", epochs: "int", lr: "float", name: "str" } };

  it("types values by the field's type and names a wrong one", () => {
    expect(fieldValue("average", "bool", "True")).toBe(true);
    expect(fieldValue("epochs", "int", " 3 ")).toBe(3);
    expect(fieldValue("lr", "float", "1e-3")).toBe(0.001);
    expect(fieldValue("name", "str", "007")).toBe("007");
    expect(fieldValue("xs", "list[int]", "[1, 2]")).toEqual([1, 2]);
    expect(() => fieldValue("epochs", "int", "2.5")).toThrow(/epochs is an int/);
    expect(() => fieldValue("average", "bool", "maybe")).toThrow(/average is a bool/);
  });

  it("sends new defaults with no values, and values only in value mode", () => {
    expect(migrationBody({ ...base, mode: "default", values: { average: "true" } })).toEqual({
      namespace: "ml.Train",
      mode: "default",
      values: {},
      hashes: [],
    });
    expect(migrationBody({ ...base, mode: "value", values: { average: "true" } }).values).toEqual({ average: true });
  });

  it("refuses a value mode without a value and an only mode without experiments", () => {
    expect(() => migrationBody({ ...base, mode: "value" })).toThrow(/at least one new field/);
    expect(() => migrationBody({ ...base, mode: "only" })).toThrow(/Choose the experiments/);
    const only = migrationBody({ ...base, mode: "only", hashes: ["a", "b"], values: { average: "", epochs: "4" } });
    expect(only).toEqual({ namespace: "ml.Train", mode: "only", values: { epochs: 4 }, hashes: ["a", "b"] });
  });
});

describe("a migration's result", () => {
  it("reads the CLI's migrations and the server's items", () => {
    const cli = { namespace: "ml.Train", migrations: [{ old_hash: "a", new_hash: "b", status: "migrated", reason: null }, { bad: 1 }] };
    expect(resultItems(cli, "ml.Train")).toEqual([{ namespace: "ml.Train", old_hash: "a", new_hash: "b", status: "migrated", reason: null }]);
    const server = { items: [{ namespace: "ml.Eval", old_hash: "c", new_hash: null, status: "skipped", reason: "exists" }] };
    expect(resultItems(server, "ml.Train")[0]).toMatchObject({ namespace: "ml.Eval", status: "skipped", reason: "exists" });
    expect(resultItems(null, "x")).toEqual([]);
    expect(resultItems("text", "x")).toEqual([]);
  });
});

describe("migrated experiments", () => {
  it("finds the aliases of a class and which old hash each came from", () => {
    expect(aliasesOfClass("ml.Train")).toBe('migrated_from startswith "ml.Train/"');
    const away = migratedAway([
      { hash: "new1", migrated_from: "ml.Train/old1" },
      { hash: "plain", migrated_from: null },
    ]);
    expect([...away]).toEqual([["old1", "new1"]]);
  });
});
