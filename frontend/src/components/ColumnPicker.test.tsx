import { fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeServer, renderWithProviders } from "@/test/render";

import { ColumnPicker } from "./ColumnPicker";

const FIELDS = {
  class_name: "TrainModel",
  truncated: false,
  generation: 3,
  fields: [
    { name: "config.lr", source: "config", kind: "num", experiments: 12, downstream_class: null },
    { name: "result.loss", source: "result", kind: "num", experiments: 10, downstream_class: null },
    { name: "downstream.Evaluate.result.accuracy", source: "downstream", kind: "num", experiments: 8, downstream_class: "Evaluate" },
  ],
};

afterEach(() => vi.unstubAllGlobals());

describe("ColumnPicker", () => {
  it("adds a downstream field right after Class, from the index's fields of the class", async () => {
    const calls = fakeServer({ "GET /api/fields": () => FIELDS });
    const onChange = vi.fn();
    renderWithProviders(<ColumnPicker columns={["status", "class", "hash"]} onChange={onChange} klass="TrainModel" />);
    fireEvent.click(await screen.findByTestId("column-picker"));
    const box = await screen.findByRole("combobox", { name: "Field column" });
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "accur" } });
    fireEvent.mouseDown(await screen.findByText("downstream.Evaluate.result.accuracy"));
    expect(onChange).toHaveBeenCalledWith(["status", "class", "downstream.Evaluate.result.accuracy", "hash"]);
    expect(calls.some((c) => c.path === "/api/fields")).toBe(true);
  });

  it("moves a column left and right with buttons (keyboard reachable)", async () => {
    fakeServer({ "GET /api/fields": () => FIELDS });
    const onChange = vi.fn();
    renderWithProviders(<ColumnPicker columns={["status", "class", "config.lr", "hash"]} onChange={onChange} klass={null} />);
    fireEvent.click(await screen.findByTestId("column-picker"));
    fireEvent.click(await screen.findByRole("button", { name: "Move config.lr left" }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "config.lr", "class", "hash"]);
    fireEvent.click(screen.getByRole("button", { name: "Move config.lr right" }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "class", "hash", "config.lr"]);
    expect(screen.getByRole("button", { name: "Move Status left" })).toBeDisabled();
    fireEvent.click(screen.getByRole("button", { name: "Remove config.lr" }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "class", "hash"]);
  });
});
