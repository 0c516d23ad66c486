import { describe, expect, it } from "vitest";

import { formatAgo, formatBytes, formatCell, formatDuration, formatMetric, formatValue } from "./format";

describe("format", () => {
  it("formats sizes, durations, ages and values", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GB");
    expect(formatDuration(0.05)).toBe("50 ms");
    expect(formatDuration(75)).toBe("1m 15s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3h 2m");
    const now = Date.parse("2024-05-01T12:00:00Z");
    expect(formatAgo("2024-05-01T11:58:00Z", now)).toBe("2 min ago");
    expect(formatAgo(null, now)).toBe("–");
    expect(formatValue(1e-5)).toBe("1.000e-5");
    expect(formatValue(0.30000000000000004)).toBe("0.3");
    expect(formatValue(null)).toBe("null");
    expect(formatValue([1, 2])).toBe("[1,2]");
  });

  it("formats metrics for people", () => {
    expect(formatMetric(6e-4)).toBe("6e-4");
    expect(formatMetric(0.000123456)).toBe("1.23e-4");
    expect(formatMetric(3e11)).toBe("3e11");
    expect(formatMetric(12345)).toBe("12,345");
    expect(formatMetric(123456789)).toBe("123,456,789");
    expect(formatMetric(1234.5678)).toBe("1,234.6");
    expect(formatMetric(0.93125)).toBe("0.9313");
    expect(formatMetric(0.5)).toBe("0.5");
    expect(formatMetric(-2.5e-7)).toBe("-2.5e-7");
    expect(formatMetric(0)).toBe("0");
    expect(formatCell(6e-4)).toEqual({ text: "6e-4", title: "0.0006" });
    expect(formatCell("adam")).toEqual({ text: "adam", title: "adam" });
    expect(formatCell(true).text).toBe("true");
    expect(formatCell(undefined).text).toBe("–");
  });
});
