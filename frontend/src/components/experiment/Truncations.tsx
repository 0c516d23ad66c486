import type { Truncation } from "@/api/client";

/** Where the server cut a response to stay within its limits (docs/server.md, "Limits"). */
export function Truncations({ items, what }: { items: Truncation[] | undefined; what: string }) {
  if (!items || items.length === 0) return null;
  return (
    <div className="mt-2 text-xs text-muted-foreground" data-testid="truncations">
      {what} was cut to stay within the server's limits:
      <ul className="list-disc pl-5">
        {items.map((t, i) => (
          <li key={`${t.path}-${i}`}>
            <span className="font-mono">{t.path}</span>: {t.kept.toLocaleString("en-US")} of {t.size.toLocaleString("en-US")} {t.unit} shown
          </li>
        ))}
      </ul>
    </div>
  );
}
