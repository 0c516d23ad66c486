import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { ConditionEditor, fieldOptions } from "./ConditionEditor";

const fields = fieldOptions(
  [
    { path: "config.optimizer", kind: "str", values: ["adam", "sgd"], many: false },
    { path: "config.lr", kind: "num", values: [0.01, 0.1], many: true },
  ],
  ["ml.TrainModel"],
);

describe("ConditionEditor", () => {
  it("suggests the class's config fields as you type", () => {
    render(<ConditionEditor fields={fields} onSubmit={() => {}} onCancel={() => {}} />);
    const box = screen.getByRole("combobox", { name: "Field" });
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "optim" } });
    const options = within(screen.getByRole("listbox")).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["config.optimizerstr, 2 values"]);
  });

  it("offers few values as a dropdown and builds the condition", () => {
    const onSubmit = vi.fn();
    render(<ConditionEditor fields={fields} onSubmit={onSubmit} onCancel={() => {}} />);
    const box = screen.getByRole("combobox", { name: "Field" });
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "config.optimizer" } });
    fireEvent.keyDown(box, { key: "Enter" });
    fireEvent.change(screen.getByRole("combobox", { name: "Operator" }), { target: { value: "ne" } });
    const value = screen.getByRole("combobox", { name: "Value" });
    expect([...value.querySelectorAll("option")].map((o) => o.textContent)).toEqual(["choose…", "adam", "sgd", "other…"]);
    fireEvent.change(value, { target: { value: "sgd" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(onSubmit).toHaveBeenCalledWith({ path: "config.optimizer", op: "ne", value: "sgd" });
  });

  it("types numbers for between, and picks several values for in", () => {
    const onSubmit = vi.fn();
    const { unmount } = render(
      <ConditionEditor fields={fields} initial={{ path: "config.lr", op: "between", low: 0.01, high: 0.5 }} onSubmit={onSubmit} onCancel={() => {}} />,
    );
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "1e-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Update" }));
    expect(onSubmit).toHaveBeenLastCalledWith({ path: "config.lr", op: "between", low: 0.01, high: 0.1 });
    unmount();
    render(<ConditionEditor fields={fields} initial={{ path: "status", op: "in", values: [] }} onSubmit={onSubmit} onCancel={() => {}} />);
    fireEvent.click(screen.getByRole("checkbox", { name: "failed" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "incomplete" }));
    fireEvent.click(screen.getByRole("button", { name: "Update" }));
    expect(onSubmit).toHaveBeenLastCalledWith({ path: "status", op: "in", values: ["failed", "incomplete"] });
  });
});
