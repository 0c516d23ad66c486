import { FilterIcon, PlusIcon, SearchIcon, XIcon } from "lucide-react";
import { forwardRef, useEffect, useMemo, useState } from "react";

import { ApiError } from "@/api/client";
import { useNamespaces, useParsedFilter } from "@/api/queries";
import { useFieldSuggestions } from "@/lib/fields";
import {
  chosenClass,
  conditionToText,
  conditionsToText,
  OPERATORS,
  treeToConditions,
  type Condition,
} from "@/lib/filter";
import { formatValue } from "@/lib/format";
import { cn } from "@/lib/utils";

import { ConditionEditor, fieldOptions } from "./ConditionEditor";
import { Button } from "./ui/button";
import { Input, Select } from "./ui/input";
import { Popover, PopoverContent, PopoverTrigger } from "./ui/popover";


function chipText(c: Condition): string {
  const op = OPERATORS.find((o) => o.op === c.op)?.label ?? c.op;
  if (c.op === "exists") return `${c.path} exists`;
  if (c.op === "between") return `${c.path} between ${formatValue(c.low)} and ${formatValue(c.high)}`;
  if (c.op === "in") return `${c.path} in ${(c.values ?? []).map(formatValue).join(", ")}`;
  return `${c.path} ${op} ${formatValue(c.value)}`;
}

function Caret({ error }: { error: ApiError }) {
  const pos = typeof error.detail?.position === "number" ? error.detail.position : null;
  const text = typeof error.detail?.text === "string" ? error.detail.text : null;
  return (
    <div className="mt-1 rounded-md border border-destructive/40 bg-destructive/5 px-2 py-1 text-xs" role="alert" data-testid="filter-error">
      <div className="text-destructive">{error.message.split("\n")[0]}</div>
      {pos !== null && text !== null && (
        <pre className="mt-1 font-mono text-[11px] leading-tight">
          {text}
          {"\n"}
          {" ".repeat(pos)}^
        </pre>
      )}
    </div>
  );
}

/**
 * The filter builder (chips: field, operator, values) and the same filter as text. The URL
 * holds the text (`q`); the chips are the server's parse of it when it is an `and` of
 * conditions, and otherwise the text is edited directly.
 */
export const FilterBar = forwardRef<HTMLInputElement, { q: string; onChange: (q: string) => void }>(
  function FilterBar({ q, onChange }, searchRef) {
    const [draft, setDraft] = useState(q);
    const [adding, setAdding] = useState(false);
    const [editing, setEditing] = useState<number | null>(null);
    useEffect(() => setDraft(q), [q]);
    const parsed = useParsedFilter(q);
    const conditions: Condition[] | null =
      q.trim() === "" ? [] : parsed.isError ? null : parsed.data ? treeToConditions(parsed.data.filter) : [];

    const namespaces = useNamespaces();
    const klass = chosenClass(conditions);
    const suggestions = useFieldSuggestions(klass);
    const fields = useMemo(
      () => fieldOptions(suggestions.data ?? [], (namespaces.data ?? []).map((n) => n.namespace)),
      [suggestions.data, namespaces.data],
    );

    const setConditions = (next: Condition[]) => onChange(conditionsToText(next));
    const addCondition = (c: Condition) => {
      if (conditions) setConditions([...conditions, c]);
      else onChange(q.trim() ? `(${q}) and ${conditionToText(c)}` : conditionToText(c));
      setAdding(false);
    };
    const setClass = (ns: string) => {
      const rest = (conditions ?? []).filter((c) => !(["namespace", "class", "class_name"].includes(c.path) && c.op === "eq"));
      setConditions(ns ? [{ path: "namespace", op: "eq", value: ns }, ...rest] : rest);
    };
    const syntaxError = parsed.error instanceof ApiError ? parsed.error : null;

    return (
      <div className="grid gap-2" data-testid="filter-bar">
        <div className="flex flex-wrap items-center gap-2">
          <Select
            aria-label="Class"
            value={klass ?? ""}
            disabled={conditions === null}
            onChange={(e) => setClass(e.target.value)}
            className="max-w-72"
          >
            <option value="">All classes</option>
            {(namespaces.data ?? []).map((n) => (
              <option key={n.namespace} value={n.namespace}>
                {n.class_name} ({n.total.toLocaleString("en-US")}) — {n.namespace}
              </option>
            ))}
          </Select>
          {conditions?.map((c, i) =>
            klass && c.path === "namespace" && c.op === "eq" ? null : (
              <Popover key={`${i}-${conditionToText(c)}`} open={editing === i} onOpenChange={(o) => setEditing(o ? i : null)}>
                <span className="inline-flex h-8 items-center rounded-md border bg-secondary text-xs" data-testid="filter-chip">
                  <PopoverTrigger asChild>
                    <button type="button" className="cursor-pointer px-2 font-mono" title="Edit this condition">
                      {chipText(c)}
                    </button>
                  </PopoverTrigger>
                  <button
                    type="button"
                    className="cursor-pointer border-l px-1.5 text-muted-foreground hover:text-foreground"
                    aria-label={`Remove ${chipText(c)}`}
                    onClick={() => setConditions(conditions.filter((_, j) => j !== i))}
                  >
                    <XIcon className="size-3.5" />
                  </button>
                </span>
                <PopoverContent className="w-96">
                  <ConditionEditor
                    fields={fields}
                    initial={c}
                    onCancel={() => setEditing(null)}
                    onSubmit={(next) => {
                      setConditions(conditions.map((old, j) => (j === i ? next : old)));
                      setEditing(null);
                    }}
                  />
                </PopoverContent>
              </Popover>
            ),
          )}
          <Popover open={adding} onOpenChange={setAdding}>
            <PopoverTrigger asChild>
              <Button variant="outline" size="sm">
                <PlusIcon /> Add filter
              </Button>
            </PopoverTrigger>
            <PopoverContent className="w-96">
              <div className="mb-2 text-xs text-muted-foreground">
                {klass ? (
                  <>Fields of <span className="font-mono">{klass}</span></>
                ) : (
                  "Pick a class first for its config fields"
                )}
                {suggestions.isFetching && " (loading fields…)"}
              </div>
              <ConditionEditor fields={fields} onSubmit={addCondition} onCancel={() => setAdding(false)} />
            </PopoverContent>
          </Popover>
          {q && (
            <Button variant="ghost" size="sm" onClick={() => onChange("")}>
              Clear
            </Button>
          )}
          {conditions === null && !syntaxError && (
            <span className="text-xs text-muted-foreground">This filter uses or/not: edit it as text below.</span>
          )}
        </div>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onChange(draft.trim());
          }}
          className="flex items-center gap-2"
        >
          <div className="relative flex-1">
            <SearchIcon className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" />
            <Input
              ref={searchRef}
              aria-label="Filter text"
              data-testid="filter-text"
              className={cn("pl-8 font-mono text-xs", syntaxError && "border-destructive")}
              placeholder='filter, e.g. config.lr < 0.1 and status = success   (press / to focus)'
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") (e.target as HTMLInputElement).blur();
              }}
            />
          </div>
          <Button type="submit" variant="secondary" size="sm" disabled={draft.trim() === q.trim()}>
            <FilterIcon /> Apply
          </Button>
        </form>
        {syntaxError && <Caret error={syntaxError} />}
      </div>
    );
  },
);
