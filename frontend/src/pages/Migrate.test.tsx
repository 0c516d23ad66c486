import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ManifestClass } from "@/api/code";
import type { ExperimentSummary } from "@/api/client";
import { fakeServer, renderWithProviders } from "@/test/render";

import { ClassMigration } from "./Migrate";

const NS = "proj.steps.TrainModel";
const cls: ManifestClass = {
  namespace: NS,
  class_name: "TrainModel",
  bases: [],
  fields: [
    { name: "lr", type: "float", has_default: false, default: null },
    { name: "average", type: "bool", has_default: true, default: false },
  ],
  dependencies: [],
  migrations: [],
  doc: null,
  experiments: 2,
  stale: 2,
  counts: { success: 2 },
};

function stale(hash: string): ExperimentSummary {
  return {
    namespace: NS, hash, class_name: "TrainModel", result_status: "success", attempt_status: "success",
    attempt_number: 1, backend: "local", hostname: "h", user: "u", started_at: null, ended_at: null,
    updated_at: null, created_at: null, runtime_sec: 1, wall_sec: 1, cpu_user_sec: 1, cpu_system_sec: 0,
    peak_rss_bytes: null, gpu_peak_memory_bytes: null, gpu_utilization_pct: null, n_dependencies: 0,
    name: null, tags: [], version_controlled: false, size_bytes: 1, furu_dir: "/x",
    stale: true, stale_reason: "fields-changed: field average is new (default False)", display_name: null,
  };
}

function plan(body: { mode: string; hashes: string[]; values: Record<string, unknown> }) {
  const hashes = body.mode === "only" ? body.hashes : ["old1aaaaaaaa", "old2bbbbbbbb"];
  const value = body.values.average ?? false;
  return {
    namespace: NS,
    mode: body.mode,
    total: hashes.length,
    command: ["furu", "migrate", NS, "--yes"],
    raw: {},
    items: hashes.map((h) => ({
      namespace: NS, old_hash: h, new_hash: `new-${h}-${String(value)}`, status: "planned", reason: null,
      changes: [{ field: "average", kind: "added", old: null, new: value }], dependent: false,
    })),
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("the migration helper", () => {
  it("shows how each stale experiment differs, previews a value, confirms and shows the result", async () => {
    let migrated = false;
    const calls = fakeServer({
      "POST /api/experiments/search": (_u, body) => {
        // The migrated experiments stay stale; their aliases name them in `migrated_from`.
        const query = (body as { query: string }).query;
        const aliases = migrated ? [{ ...stale("new1cccccccc"), stale: false, migrated_from: `${NS}/old1aaaaaaaa` }] : [];
        const items = query.startsWith("migrated_from") ? aliases : [stale("old1aaaaaaaa"), stale("old2bbbbbbbb")];
        return { items, total: items.length, offset: 0, limit: 500 };
      },
      "POST /api/migrations/preview": (_u, body) => plan(body as never),
      "POST /api/migrations/apply": () => ({
        id: "abc123", kind: "migration", status: "running", pid: 1, started_at: "2026-01-01T00:00:00Z",
        ended_at: null, returncode: null, command: [], output_tail: "", progress: null,
      }),
      "GET /api/migrations/abc123": () => {
        migrated = true;
        return {
          id: "abc123", kind: "migration", status: "succeeded", pid: 1, started_at: "2026-01-01T00:00:00Z",
          ended_at: "2026-01-01T00:00:01Z", returncode: 0, command: [], output_tail: "", progress: null,
          result: { namespace: NS, migrations: [{ namespace: NS, old_hash: "old1aaaaaaaa", new_hash: "new1cccccccc", status: "migrated" }] },
        };
      },
      "POST /api/index/refresh": () => ({}),
    });
    renderWithProviders(<ClassMigration cls={cls} />);

    // The differences come from a dry run in "new default" mode.
    const rows = await screen.findAllByTestId("stale-row");
    expect(rows).toHaveLength(2);
    await waitFor(() => expect(screen.getByTestId("to-migrate")).toHaveAttribute("data-count", "2"));
    await waitFor(() => expect(within(rows[0]).getByTestId("stale-changes")).toHaveTextContent("average is new (false)"));

    // "a value": the new field's input starts at its default; set it and preview.
    fireEvent.click(screen.getByRole("radio", { name: "a value" }));
    const input = screen.getByRole("textbox", { name: "value of average" });
    expect(input).toHaveValue("false");
    fireEvent.change(input, { target: { value: "true" } });
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    const table = await screen.findByTestId("preview-table");
    expect(within(table).getAllByTestId("plan-row")).toHaveLength(2);
    expect(table).toHaveTextContent("new-old1aa");
    const sent = calls.filter((c) => c.path === "/api/migrations/preview").at(-1)?.body;
    expect(sent).toEqual({ namespace: NS, mode: "value", values: { average: true }, hashes: [] });

    // Changing a choice asks for a new preview before migrating.
    fireEvent.change(input, { target: { value: "false" } });
    expect(screen.getByRole("button", { name: "Migrate…" })).toBeDisabled();
    fireEvent.change(input, { target: { value: "true" } });
    expect(screen.getByRole("button", { name: "Migrate…" })).toBeEnabled();

    fireEvent.click(screen.getByRole("button", { name: "Migrate…" }));
    fireEvent.click(await screen.findByRole("button", { name: "Migrate" }));
    const progress = await screen.findByTestId("migration-progress");
    await waitFor(() => expect(progress).toHaveAttribute("data-task-status", "succeeded"));
    expect(within(progress).getByTestId("migration-result")).toHaveTextContent("new1cccccc");
    expect(calls.find((c) => c.path === "/api/migrations/apply")?.body).toEqual(sent);
    await waitFor(() => expect(screen.getByTestId("to-migrate")).toHaveAttribute("data-count", "1"));
    const done = screen.getAllByTestId("stale-row").find((r) => r.getAttribute("data-hash") === "old1aaaaaaaa");
    expect(done).toHaveAttribute("data-migrated", "true");
    expect(within(done as HTMLElement).getByTestId("stale-changes")).toHaveTextContent("migrated to new1cccccc");
    expect(within(done as HTMLElement).getByRole("checkbox")).toBeDisabled();
  });

  it("migrates only the ticked experiments, and says when none is ticked", async () => {
    const calls = fakeServer({
      "POST /api/experiments/search": () => ({ items: [stale("old1aaaaaaaa"), stale("old2bbbbbbbb")], total: 2, offset: 0, limit: 500 }),
      "POST /api/migrations/preview": (_u, body) => plan(body as never),
    });
    renderWithProviders(<ClassMigration cls={cls} />);
    await screen.findAllByTestId("stale-row");
    fireEvent.click(screen.getByRole("radio", { name: "only these" }));
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose the experiments to migrate");
    fireEvent.click(screen.getByRole("checkbox", { name: "Choose old2bbbbbb" }));
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    const table = await screen.findByTestId("preview-table");
    expect(within(table).getAllByTestId("plan-row")).toHaveLength(1);
    expect(calls.filter((c) => c.path === "/api/migrations/preview").at(-1)?.body).toMatchObject({
      mode: "only",
      hashes: ["old2bbbbbbbb"],
      values: {},
    });
  });
});
