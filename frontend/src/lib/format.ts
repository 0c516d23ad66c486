/** Formatting of sizes, times and durations for tables and cards. */

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null) return "–";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${Math.round(seconds % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "3 min ago"; `now` is injectable for tests. */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "–";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const s = Math.max(0, (now - then) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return new Date(then).toISOString().slice(0, 10);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function formatPercent(pct: number | null | undefined): string {
  return pct == null ? "–" : `${Math.round(pct)}%`;
}

export function formatNumber(n: number | null | undefined): string {
  return n == null ? "–" : n.toLocaleString("en-US");
}

/** A config or table value as short text. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(+value.toPrecision(6));
  }
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function trimmed(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

// Made once: `toLocaleString` builds a formatter per call, which a scrolling table feels.
const INTEGER = new Intl.NumberFormat("en-US");
const ONE_DECIMAL = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/**
 * A number as people read it in a table: `6e-4`, `3e11`, `12,345`, `0.9312`, `1,234.5`
 * (the full value goes in a title tooltip). Very small and very large magnitudes take an
 * exponent with at most three significant digits; the rest at most four significant digits,
 * with thousands separators.
 */
export function formatMetric(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "∞" : "-∞";
  if (n === 0) return "0";
  const abs = Math.abs(n);
  if (abs >= 1e9 || abs < 1e-3) {
    const [mantissa, exponent] = n.toExponential(2).split("e");
    return `${trimmed(mantissa ?? "")}e${Number(exponent)}`;
  }
  if (Number.isInteger(n)) return INTEGER.format(n);
  if (abs >= 1000) return ONE_DECIMAL.format(n);
  return trimmed(n.toPrecision(4));
}

/** A config or result cell: numbers via `formatMetric`, texts as they are, booleans as words. */
export function formatCell(value: unknown): { text: string; title: string } {
  if (value === undefined) return { text: "–", title: "no value" };
  if (typeof value === "number") return { text: formatMetric(value), title: String(value) };
  const text = formatValue(value);
  return { text, title: text };
}
