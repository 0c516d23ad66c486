import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { IndexingNotice } from "./States";

const INFO = {
  generation: 0,
  experiments: 18000,
  built: false,
  refreshing: true,
  last_refresh_at: null,
  last_refresh_kind: null,
  last_refresh_seconds: null,
  problems: 0,
  problem_examples: [],
  build_total: 100000,
};

describe("IndexingNotice", () => {
  it("says how far the first build is, never that the store is empty", () => {
    render(<IndexingNotice info={INFO} empty />);
    expect(screen.getByTestId("indexing")).toHaveTextContent("Indexing 18,000 of 100,000 experiments…");
    expect(screen.queryByText(/no experiments yet/)).toBeNull();
  });

  it("says what it knows before the walk ends", () => {
    render(<IndexingNotice info={{ ...INFO, experiments: 0, build_total: null }} />);
    expect(screen.getByTestId("indexing")).toHaveTextContent("Indexing 0 experiments…");
  });
});
