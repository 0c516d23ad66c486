import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { renderWithProviders } from "@/test/render";

import { ConfigTree, stepRefs } from "./ConfigTree";

const config = {
  __class__: "ml.Evaluate",
  model: { __class__: "ml.TrainModel", dataset: { __class__: "ml.MakeDataset", seed: 3 }, lr: 0.3 },
  models: { __tuple__: [{ __class__: "ml.TrainModel", lr: 1 }] },
};

describe("stepRefs", () => {
  it("maps nested steps' config paths to their experiments through the lineage", () => {
    const refs = stepRefs("ml.Evaluate/e1", [
      { source: "ml.TrainModel/t1", target: "ml.Evaluate/e1", field: "model" },
      { source: "ml.MakeDataset/d1", target: "ml.TrainModel/t1", field: "dataset" },
      { source: "ml.TrainModel/t2", target: "ml.Evaluate/e1", field: "models[0]" },
      { source: "ml.Vocab/v1", target: "ml.Evaluate/e1", field: "_dependencies()[0]" },
    ]);
    expect(Object.fromEntries([...refs].map(([k, v]) => [k, v.hash]))).toEqual({ model: "t1", "model.dataset": "d1", "models.0": "t2" });
  });
});

describe("ConfigTree", () => {
  it("shows the config as a tree whose nested steps link to their experiments", async () => {
    const refs = stepRefs("ml.Evaluate/e1", [
      { source: "ml.TrainModel/t1", target: "ml.Evaluate/e1", field: "model" },
      { source: "ml.MakeDataset/d1", target: "ml.TrainModel/t1", field: "dataset" },
    ]);
    renderWithProviders(<ConfigTree config={config} refs={refs} />);
    const link = await screen.findByRole("link", { name: /open nested step model\.dataset/ });
    expect(link.getAttribute("href")).toBe("/experiments/ml.MakeDataset/d1");
    expect(screen.getAllByTitle("ml.TrainModel")[0]).toHaveTextContent("TrainModel");
    expect(screen.getByText("0.3")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Collapse model" }));
    expect(screen.queryByText("0.3")).not.toBeInTheDocument();
  });
});
