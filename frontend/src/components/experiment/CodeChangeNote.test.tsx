import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { ExperimentDetail } from "@/api/client";
import { renderWithProviders } from "@/test/render";

import { CodeChangeNote } from "./CodeChangeNote";

const base = { namespace: "ml.Train", hash: "newhash0123456", stale: false, stale_reason: null, migration: null, migrations: [] };

describe("CodeChangeNote", () => {
  it("says nothing for an experiment the code still makes", () => {
    const { container } = renderWithProviders(<CodeChangeNote e={base as unknown as ExperimentDetail} />);
    expect(container.querySelector("[data-testid=code-change]")).toBeNull();
  });

  it("links an alias to the experiment it was migrated from, and gives a stale one's reason", async () => {
    const e = {
      ...base,
      stale: true,
      stale_reason: "dependency-stale: its model ml.Model/abc is stale",
      migration: {
        migrated_from: "ml.Train/oldhash0123456",
        migrated_to: "ml.Train/newhash0123456",
        at: "2026-01-01T00:00:00Z",
        by: "alice",
        how: "default",
        undone: false,
        broken: true,
        record: {},
      },
    };
    renderWithProviders(<CodeChangeNote e={e as unknown as ExperimentDetail} />);
    const from = await screen.findByTestId("migrated-from");
    expect(from).toHaveTextContent(/migrated from\s*oldhash012/);
    expect(from).toHaveTextContent("by alice");
    expect(from).toHaveTextContent("broken: the old directory is gone");
    expect(screen.getByRole("link", { name: "oldhash012" })).toHaveAttribute("href", "/experiments/ml.Train/oldhash0123456");
    expect(screen.getByTestId("stale-reason")).toHaveTextContent("Stale (dependency-stale): its model ml.Model/abc is stale.");
  });
});
