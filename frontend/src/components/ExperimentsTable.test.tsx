import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { ExperimentSummary } from "@/api/client";
import { renderWithProviders } from "@/test/render";

import { ExperimentsTable, type TableProps } from "./ExperimentsTable";

function summary(i: number): ExperimentSummary {
  return {
    namespace: "ml.TrainModel",
    hash: `hash${String(i).padStart(6, "0")}`,
    class_name: "TrainModel",
    result_status: i % 10 === 0 ? "failed" : "success",
    attempt_status: i % 10 === 0 ? "failed" : "success",
    attempt_number: 1,
    backend: "local",
    hostname: "h",
    user: "u",
    started_at: null,
    ended_at: null,
    updated_at: null,
    created_at: null,
    runtime_sec: i,
    wall_sec: i / 2,
    cpu_user_sec: i / 4,
    cpu_system_sec: 0.01,
    peak_rss_bytes: 200 * 1024 * 1024 + i,
    gpu_peak_memory_bytes: null,
    gpu_utilization_pct: null,
    n_dependencies: 1,
    name: null,
    tags: [],
    version_controlled: false,
    size_bytes: 1024,
    furu_dir: "/x",
  };
}

function staleRowAt(i: number): ExperimentSummary | undefined {
  if (i >= 3) return undefined;
  return {
    ...summary(i),
    stale: i === 1,
    stale_reason: i === 1 ? "fields-changed: field average is new (default False)" : null,
    display_name: i === 2 ? "baseline" : null,
  };
}

function props(overrides: Partial<TableProps> = {}): TableProps {
  return {
    total: 100_000,
    rowAt: (i) => (i < 100 ? summary(i) : undefined),
    columns: ["status", "class", "hash", "runtime"],
    sort: "updated",
    order: "desc",
    onSort: vi.fn(),
    onRange: vi.fn(),
    selected: new Map(),
    onToggle: vi.fn(),
    onToggleAll: vi.fn(),
    focus: -1,
    onFocus: vi.fn(),
    onOpen: vi.fn(),
    ...overrides,
  };
}

describe("ExperimentsTable", () => {
  it("renders only the rows on screen of 100,000", () => {
    renderWithProviders(<ExperimentsTable {...props()} />);
    return screen.findByText("hash000000").then(() => {
      const rows = screen.getAllByRole("row");
      expect(rows.length).toBeGreaterThan(10);
      expect(rows.length).toBeLessThan(80);
      expect(screen.getByRole("grid")).toHaveAttribute("aria-rowcount", "100000");
    });
  });

  it("sorts by a column's key and toggles the order", async () => {
    const onSort = vi.fn();
    renderWithProviders(<ExperimentsTable {...props({ onSort, sort: "runtime", order: "desc" })} />);
    fireEvent.click(await screen.findByRole("button", { name: "Sort by runtime" }));
    expect(onSort).toHaveBeenCalledWith("runtime", "asc");
    fireEvent.click(screen.getByRole("button", { name: "Sort by status" }));
    expect(onSort).toHaveBeenLastCalledWith("status", "desc");
  });

  it("shows what each attempt used, sortable by peak memory", async () => {
    const onSort = vi.fn();
    renderWithProviders(<ExperimentsTable {...props({ onSort, columns: ["hash", "peak_rss", "cpu_user", "gpu_memory"] })} />);
    await screen.findByText("hash000003");
    expect(screen.getAllByText("200 MB").length).toBeGreaterThan(5);
    expect(screen.getByText("750 ms")).toBeInTheDocument(); // cpu_user of row 3
    fireEvent.click(screen.getByRole("button", { name: "Sort by peak memory" }));
    expect(onSort).toHaveBeenCalledWith("peak_rss", "desc");
    fireEvent.click(screen.getByRole("button", { name: "Sort by cpu user" }));
    expect(onSort).toHaveBeenLastCalledWith("cpu_user", "desc");
  });

  it("opens a row on click and selects it with its checkbox", async () => {
    const onOpen = vi.fn();
    const onToggle = vi.fn();
    renderWithProviders(<ExperimentsTable {...props({ onOpen, onToggle })} />);
    fireEvent.click(await screen.findByText("hash000003"));
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ hash: "hash000003" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Select TrainModel hash000004" }));
    expect(onToggle).toHaveBeenCalledWith(expect.objectContaining({ hash: "hash000004" }));
  });

  it("marks stale rows with their reason and shows the name the code gives", async () => {
    renderWithProviders(<ExperimentsTable {...props({ total: 3, rowAt: staleRowAt, columns: ["status", "name", "hash"] })} />);
    const badge = await screen.findByTestId("stale-badge");
    expect(badge.closest("[role=row]")).toHaveAttribute("data-ref", "ml.TrainModel/hash000001");
    expect(badge).toHaveAttribute("title", expect.stringContaining("field average is new"));
    expect(badge).toHaveAttribute("data-stale-kind", "fields-changed");
    expect(screen.getByText("baseline").closest("[role=row]")).toHaveAttribute("data-ref", "ml.TrainModel/hash000002");
  });

  it("shows config and result columns from the rows' values, formatted, sortable and movable", async () => {
    const onSort = vi.fn();
    const onMove = vi.fn();
    const field = "downstream.Evaluate.result.accuracy";
    const rowAt = (i: number) =>
      i < 5 ? { ...summary(i), values: { "config.lr": 6e-4, "result.tokens": 3e11 + i, [field]: i === 0 ? 0.93125 : 12345 } } : undefined;
    renderWithProviders(
      <ExperimentsTable {...props({ total: 5, rowAt, onSort, onMove, sort: "config.lr", order: "desc", columns: ["class", "config.lr", field, "result.tokens", "hash"] })} />,
    );
    await screen.findByText("hash000000");
    const lr = screen.getAllByText("6e-4")[0];
    expect(lr).toHaveAttribute("title", "0.0006");
    expect(screen.getAllByText("3e11").length).toBe(5);
    expect(screen.getByText("0.9313")).toHaveAttribute("title", "0.93125");
    expect(screen.getAllByText("12,345").length).toBe(4);
    const headers = screen.getAllByRole("columnheader").map((h) => h.getAttribute("data-column"));
    expect(headers).toEqual([null, "class", "config.lr", field, "result.tokens", "hash"]);
    expect(screen.getByRole("columnheader", { name: /lr/ })).toHaveAttribute("aria-sort", "descending");
    fireEvent.click(screen.getByRole("button", { name: "Sort by config.lr" }));
    expect(onSort).toHaveBeenCalledWith("config.lr", "asc");
    fireEvent.click(screen.getByRole("button", { name: `Sort by ${field}` }));
    expect(onSort).toHaveBeenLastCalledWith(field, "desc");
    expect(screen.getByText("Evaluate ▸ accuracy")).toBeInTheDocument();
    const from = screen.getAllByRole("columnheader")[4] as HTMLElement;
    const to = screen.getAllByRole("columnheader")[2] as HTMLElement;
    const data = new Map<string, string>();
    const dataTransfer = { setData: (k: string, v: string) => data.set(k, v), getData: (k: string) => data.get(k) ?? "", effectAllowed: "" };
    fireEvent.dragStart(from, { dataTransfer });
    fireEvent.dragOver(to, { dataTransfer });
    fireEvent.drop(to, { dataTransfer });
    expect(onMove).toHaveBeenCalledWith("result.tokens", "config.lr");
  });

  it("shows a dash for a row without the field", async () => {
    renderWithProviders(<ExperimentsTable {...props({ total: 1, rowAt: (i) => (i === 0 ? summary(0) : undefined), columns: ["hash", "result.accuracy"] })} />);
    await screen.findByText("hash000000");
    expect(screen.getByTitle("no value")).toHaveTextContent("–");
  });

  it("labels unnamed rows by the config columns that differ among them; names win", async () => {
    const lrs = [0.3, 0.3, 0.01];
    const rowAt = (i: number): ExperimentSummary | undefined =>
      i < 3 ? { ...summary(i), display_name: i === 0 ? "baseline" : null, values: { "config.lr": lrs[i], "config.l2": i === 1 ? 0.01 : 0, "config.epochs": 30 } } : undefined;
    renderWithProviders(<ExperimentsTable {...props({ total: 3, rowAt, columns: ["class", "name", "config.lr", "config.l2", "config.epochs"] })} />);
    expect(await screen.findByText("baseline")).toBeInTheDocument();
    expect(screen.getByText("lr=0.3, l2=0.01")).toHaveAttribute("data-automatic");
    expect(screen.getByText("lr=0.01, l2=0")).toHaveAttribute("data-automatic");
  });
});
