import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { ExperimentDetail } from "@/api/client";
import { renderWithProviders } from "@/test/render";

import { AttemptCard } from "./Details";

function detail(overrides: Partial<ExperimentDetail>): ExperimentDetail {
  return {
    namespace: "ml.TrainModel",
    hash: "abc",
    class_name: "TrainModel",
    result_status: "success",
    attempt_status: "success",
    attempt_number: 2,
    backend: "local",
    hostname: "h",
    user: "u",
    started_at: null,
    ended_at: null,
    updated_at: null,
    created_at: null,
    runtime_sec: 3,
    wall_sec: 2.5,
    cpu_user_sec: 2.25,
    cpu_system_sec: 0.125,
    peak_rss_bytes: 212 * 1024 * 1024,
    gpu_peak_memory_bytes: null,
    gpu_utilization_pct: null,
    n_dependencies: 0,
    name: null,
    tags: [],
    version_controlled: false,
    size_bytes: 0,
    furu_dir: "/x",
    config: null,
    python_def: null,
    state: { attempt: { pid: 1, status: "success" } },
    metadata: null,
    error: null,
    sizes: { total_bytes: 0, file_count: 0, log_bytes: 0, truncated: false },
    class_bases: [],
    config_schema: [],
    problems: [],
    truncated: false,
    ...overrides,
  };
}

describe("the attempt's resources", () => {
  it("shows wall, CPU and peak memory, and says when GPU was not measured", async () => {
    renderWithProviders(<AttemptCard e={detail({})} />);
    const box = await screen.findByTestId("resources");
    expect(box).toHaveTextContent("wall time2.5 s");
    expect(box).toHaveTextContent("CPU user2.3 s");
    expect(box).toHaveTextContent("CPU system125 ms");
    expect(box).toHaveTextContent("peak memory212 MB");
    expect(box).toHaveTextContent("not measured (no nvidia-ml-py)");
  });

  it("shows GPU memory and utilisation where they were measured", async () => {
    renderWithProviders(<AttemptCard e={detail({ gpu_peak_memory_bytes: 3 * 1024 ** 3, gpu_utilization_pct: 87.4 })} />);
    const box = await screen.findByTestId("resources");
    expect(box).toHaveTextContent("GPU memory3.0 GB");
    expect(box).toHaveTextContent("GPU utilisation87%");
  });

  it("says so when an attempt recorded none", async () => {
    renderWithProviders(<AttemptCard e={detail({ wall_sec: null, cpu_user_sec: null, cpu_system_sec: null, peak_rss_bytes: null })} />);
    expect((await screen.findByTestId("resources"))).toHaveTextContent("No resources recorded");
  });
});
