import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeServer, renderWithProviders } from "@/test/render";

import { CodePage } from "./Code";

afterEach(() => vi.unstubAllGlobals());

const experiment = (name: string, indexed: boolean) => ({
  name,
  namespace: "proj.steps.TrainModel",
  class_name: "TrainModel",
  hash: `${name}0123456789`,
  ref: `proj.steps.TrainModel/${name}0123456789`,
  indexed,
  status: indexed ? "success" : "defined, not yet run",
  result_status: indexed ? "success" : "absent",
  attempt_status: indexed ? "success" : null,
  stale: indexed ? false : null,
  config: {},
  snippet: `from proj.steps import TrainModel\n\nTrainModel(lr=${indexed ? 0.1 : 0.03})`,
});

describe("the code's experiments", () => {
  it("lists each FuruList's named experiments, run or not, with their Python", async () => {
    fakeServer({
      "GET /api/manifest": () => ({
        path: "manifest.json",
        written_at: "2026-01-01T00:00:00Z",
        modules: ["proj.steps"],
        errors: [],
        classes: [],
        lists: [{ name: "proj.experiments:SWEEP", module: "proj.experiments", experiments: [experiment("baseline", true), experiment("small_lr", false)] }],
        removed_classes: [],
        stale: 0,
      }),
    });
    renderWithProviders(<CodePage />);
    const list = await screen.findByTestId("furu-list");
    expect(list).toHaveAttribute("data-list", "proj.experiments:SWEEP");
    const rows = within(list).getAllByTestId("defined-experiment");
    expect(rows.map((r) => r.getAttribute("data-name"))).toEqual(["baseline", "small_lr"]);
    expect(within(rows[0]).getByTestId("defined-status")).toHaveTextContent("success");
    expect(within(rows[1]).getByTestId("defined-status")).toHaveTextContent("defined, not yet run");
    expect(within(list).getByText("2 experiments · 1 not yet run")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Show the Python of small_lr" }));
    expect(screen.getByTestId("defined-snippet")).toHaveTextContent("TrainModel(lr=0.03)");
    expect(screen.getByRole("button", { name: "Copy Python of small_lr" })).toBeInTheDocument();
  });

  it("says how to make the manifest when there is none", async () => {
    vi.stubGlobal(
      "fetch",
      async () =>
        new Response(JSON.stringify({ error: { code: "manifest_not_found", message: "no manifest.json: run furu manifest" } }), {
          status: 404,
          headers: { "content-type": "application/json" },
        }),
    );
    renderWithProviders(<CodePage />);
    expect(await screen.findByText("The server does not know the code yet")).toBeInTheDocument();
  });
});
