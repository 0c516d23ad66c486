import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeServer, renderWithProviders } from "@/test/render";

import { FilterBar } from "./FilterBar";

afterEach(() => vi.unstubAllGlobals());

const tree = {
  op: "and",
  args: [
    { op: "eq", path: "namespace", value: "ml.TrainModel" },
    { op: "lt", path: "config.lr", value: 0.1 },
  ],
};

function server() {
  return fakeServer({
    "POST /api/filters/parse": (_, body) =>
      (body as { query: string }).query.includes("((")
        ? undefined
        : { filter: tree, text: "namespace = ml.TrainModel and config.lr < 0.1" },
    "GET /api/namespaces": () => [{ namespace: "ml.TrainModel", class_name: "TrainModel", total: 7, counts: {}, size_bytes: 0 }],
    "POST /api/experiments/search": () => ({ items: [], total: 0, offset: 0, limit: 24, sort: "updated", order: "desc", index: {} }),
  });
}

describe("FilterBar", () => {
  it("shows the filter as a class and chips, and removes a chip", async () => {
    server();
    const onChange = vi.fn();
    renderWithProviders(<FilterBar q="namespace = ml.TrainModel and config.lr < 0.1" onChange={onChange} />);
    const chip = await screen.findByRole("button", { name: "Remove config.lr < 0.1" });
    await waitFor(() => expect(screen.getByRole("combobox", { name: "Class" })).toHaveValue("ml.TrainModel"));
    fireEvent.click(chip);
    expect(onChange).toHaveBeenCalledWith("namespace = ml.TrainModel");
  });

  it("applies the text box's filter", async () => {
    server();
    const onChange = vi.fn();
    renderWithProviders(<FilterBar q="" onChange={onChange} />);
    const box = await screen.findByRole("textbox", { name: "Filter text" });
    fireEvent.change(box, { target: { value: "status = failed" } });
    fireEvent.submit(box.closest("form") as HTMLFormElement);
    expect(onChange).toHaveBeenCalledWith("status = failed");
  });

  it("replaces the class condition when another class is picked", async () => {
    server();
    const onChange = vi.fn();
    renderWithProviders(<FilterBar q="namespace = ml.TrainModel and config.lr < 0.1" onChange={onChange} />);
    await screen.findByRole("button", { name: "Remove config.lr < 0.1" });
    fireEvent.change(screen.getByRole("combobox", { name: "Class" }), { target: { value: "" } });
    expect(onChange).toHaveBeenCalledWith("config.lr < 0.1");
  });
});
