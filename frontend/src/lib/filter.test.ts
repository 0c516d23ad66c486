import { describe, expect, it } from "vitest";

import { chosenClass, conditionToText, conditionsToText, formatScalar, parseScalar, treeToConditions } from "./filter";

describe("formatScalar", () => {
  it("leaves plain words bare and quotes the rest", () => {
    expect(formatScalar("success")).toBe("success");
    expect(formatScalar("my_project.train.Step")).toBe("my_project.train.Step");
    expect(formatScalar("best run")).toBe('"best run"');
    expect(formatScalar("and")).toBe('"and"');
    expect(formatScalar("10")).toBe('"10"');
    expect(formatScalar(0.001)).toBe("0.001");
    expect(formatScalar(true)).toBe("true");
    expect(formatScalar(null)).toBe("null");
  });
});

describe("parseScalar", () => {
  it("reads numbers, booleans and null unless the field holds text", () => {
    expect(parseScalar("1e-3")).toBe(0.001);
    expect(parseScalar("true")).toBe(true);
    expect(parseScalar("null")).toBe(null);
    expect(parseScalar("adam")).toBe("adam");
    expect(parseScalar("10", "str")).toBe("10");
  });
});

describe("conditionToText", () => {
  it("writes every operator in the text form", () => {
    expect(conditionToText({ path: "config.lr", op: "lt", value: 0.1 })).toBe("config.lr < 0.1");
    expect(conditionToText({ path: "config.lr", op: "ne", value: 0.1 })).toBe("config.lr != 0.1");
    expect(conditionToText({ path: "runtime", op: "between", low: 10, high: 60 })).toBe("runtime between 10 and 60");
    expect(conditionToText({ path: "config.seed", op: "in", values: [1, 2] })).toBe("config.seed in (1, 2)");
    expect(conditionToText({ path: "name", op: "regex", value: "^sweep-[0-9]+$" })).toBe('name matches "^sweep-[0-9]+$"');
    expect(conditionToText({ path: "tags", op: "contains", value: "best" })).toBe("tags contains best");
    expect(conditionToText({ path: "meta.git_commit", op: "exists" })).toBe("meta.git_commit exists");
    expect(
      conditionsToText([
        { path: "status", op: "eq", value: "success" },
        { path: "config.lr", op: "ge", value: 0.5 },
      ]),
    ).toBe("status = success and config.lr >= 0.5");
  });
});

describe("treeToConditions", () => {
  it("reads an and of conditions back, and refuses what the builder cannot show", () => {
    const tree = {
      op: "and",
      args: [
        { op: "eq", path: "namespace", value: "a.B" },
        { op: "between", path: "runtime", low: 1, high: 2 },
        { op: "in", path: "config.seed", values: [1, 2] },
      ],
    };
    expect(treeToConditions(tree)).toEqual([
      { path: "namespace", op: "eq", value: "a.B" },
      { path: "runtime", op: "between", low: 1, high: 2 },
      { path: "config.seed", op: "in", values: [1, 2] },
    ]);
    expect(treeToConditions({ op: "lt", path: "config.lr", value: 1 })).toEqual([{ path: "config.lr", op: "lt", value: 1 }]);
    expect(treeToConditions({ op: "or", args: [] })).toBeNull();
    expect(treeToConditions({ op: "and", args: [{ op: "not", arg: {} }] })).toBeNull();
    expect(treeToConditions(null)).toEqual([]);
  });

  it("finds the class a filter is about", () => {
    expect(chosenClass([{ path: "namespace", op: "eq", value: "a.B" }])).toBe("a.B");
    expect(chosenClass([{ path: "namespace", op: "startswith", value: "a" }])).toBeNull();
  });
});
