import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ExperimentDetail } from "@/api/client";
import { fakeServer, renderWithProviders } from "@/test/render";

import { CodeChangeNote } from "./CodeChangeNote";

const base = { namespace: "ml.Train", hash: "newhash0123456", stale: false, stale_reason: null, migration: null, migrations: [] };

afterEach(() => vi.unstubAllGlobals());

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

  it("undoes a migration after asking, by the alias's ref", async () => {
    const calls = fakeServer({
      "POST /api/migrations/undo": () => ({ undone: [{ alias: "ml.Train/newhash0123456", migrated_from: "ml.Train/oldhash0123456" }] }),
      "POST /api/index/refresh": () => ({}),
    });
    const migration = { migrated_from: "ml.Train/oldhash0123456", migrated_to: "ml.Train/newhash0123456", at: null, by: null, how: "default", undone: false, broken: false, record: {} };
    renderWithProviders(<CodeChangeNote e={{ ...base, migration } as unknown as ExperimentDetail} />);
    fireEvent.click(await screen.findByRole("button", { name: "Undo migration…" }));
    expect(screen.getByRole("dialog")).toHaveTextContent("ml.Train/oldhash0123456");
    fireEvent.click(screen.getByRole("button", { name: "Undo migration" }));
    await waitFor(() => expect(calls.find((c) => c.path === "/api/migrations/undo")?.body).toEqual({ ref: "ml.Train/newhash0123456" }));
  });
});
