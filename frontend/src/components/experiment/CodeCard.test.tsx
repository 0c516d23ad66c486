import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { CodeStateInfo, ExperimentDetail } from "@/api/client";
import { renderWithProviders } from "@/test/render";

import { CodeCard } from "./Details";

const stored: CodeStateInfo = {
  source: "store",
  id: "ab".repeat(32),
  commit: "c".repeat(40),
  branch: "main",
  remote: null,
  dirty: true,
  changed_files: 2,
  diff: "diff --git a/x.py b/x.py\n-1\n+2\n",
  diff_bytes: 30,
  diff_truncated: false,
  untracked: [{ path: "scratch.py", size: 12, mode: "file" }],
  left_out: [{ path: "big.bin", what: "diff", bytes: 5000, why: "raise FURU_MAX_GIT_PATCH_BYTES" }],
  left_out_count: 1,
  problem: null,
  checkout_command: "furu checkout ml.Train/0123abcd ../Train-0123abcd",
};

const detail = (code_state: CodeStateInfo | null) => ({ code_state }) as unknown as ExperimentDetail;

describe("CodeCard", () => {
  it("offers the furu checkout command and shows what was recorded", async () => {
    renderWithProviders(<CodeCard e={detail(stored)} />);
    expect(await screen.findByTestId("checkout-command")).toHaveTextContent("furu checkout ml.Train/0123abcd ../Train-0123abcd");
    expect(screen.getByRole("button", { name: "Copy checkout command" })).toBeInTheDocument();
    expect(screen.getByText("2 changed file(s), 30 B of diff, 1 untracked file(s)")).toBeInTheDocument();
    expect(screen.getByText("1 file(s) left out by a size limit")).toBeInTheDocument();
    expect(screen.getByTestId("code-diff")).toHaveTextContent("diff --git a/x.py b/x.py");
  });

  it("says when only the commit, or nothing, was recorded", async () => {
    const { unmount } = renderWithProviders(<CodeCard e={detail({ ...stored, source: "commit", id: null, dirty: null, diff: null, untracked: [], left_out: [], left_out_count: 0 })} />);
    expect(await screen.findByText("not recorded (only the commit)")).toBeInTheDocument();
    unmount();
    renderWithProviders(<CodeCard e={detail(null)} />);
    expect(await screen.findByText(/made outside a git repository/)).toBeInTheDocument();
  });
});
