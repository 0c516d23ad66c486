import { ChevronLeftIcon, ChevronRightIcon, Columns3Icon, XIcon } from "lucide-react";
import { useMemo, useState } from "react";

import { useFields } from "@/api/queries";
import { fieldLabel, insertColumn, isFieldColumn, moveColumn } from "@/lib/columns";

import { BUILTIN_COLUMNS } from "./ExperimentsTable";
import { FieldCombobox } from "./FieldCombobox";
import { Button } from "./ui/button";
import { Checkbox } from "./ui/input";
import { Popover, PopoverContent, PopoverTrigger } from "./ui/popover";

/** The label of a shown column in the picker's order list. */
function labelOf(id: string): string {
  return isFieldColumn(id) ? id : (BUILTIN_COLUMNS.find((c) => c.id === id)?.meta.label ?? id);
}

/**
 * Chooses the table's columns: built-in ones, and config, result and downstream result fields
 * (searched among what the index holds, `GET /api/fields`, of the filter's class when it names
 * one). New fields go right after Class; the order list moves any column left or right.
 */
export function ColumnPicker({
  columns,
  onChange,
  klass,
}: {
  columns: string[];
  onChange: (cols: string[]) => void;
  klass: string | null;
}) {
  const [open, setOpen] = useState(false);
  const [field, setField] = useState("");
  const fields = useFields(klass, open);
  const options = useMemo(
    () =>
      (fields.data?.fields ?? [])
        .filter((f) => !f.name.includes("__"))
        .map((f) => ({ path: f.name, hint: `${f.kind} · ${f.experiments.toLocaleString("en-US")}` })),
    [fields.data],
  );
  const toggle = (id: string, on: boolean) => onChange(on ? insertColumn(columns, id) : columns.filter((c) => c !== id));
  const addField = (path: string) => {
    const name = path.trim();
    if (!name) return;
    onChange(insertColumn(columns, isFieldColumn(name) ? name : `config.${name}`));
    setField("");
  };
  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button variant="outline" size="sm" data-testid="column-picker">
          <Columns3Icon /> Columns
        </Button>
      </PopoverTrigger>
      <PopoverContent
        align="end"
        className="max-h-[80vh] w-96 overflow-auto"
        // Focus the panel, not the field box: its suggestions would cover the order list.
        onOpenAutoFocus={(e) => {
          e.preventDefault();
          (e.currentTarget as HTMLElement | null)?.focus();
        }}
      >
        <div className="mb-1 text-xs font-medium text-muted-foreground">Add a config or result field</div>
        <form
          className="flex gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            addField(field);
          }}
        >
          <div className="flex-1">
            <FieldCombobox
              options={options}
              value={field}
              label="Field column"
              placeholder={klass ? "result.accuracy, config.lr, downstream.…" : "config.lr, result.…, downstream.…"}
              onChange={(p) => {
                setField(p);
                if (options.some((o) => o.path === p)) addField(p);
              }}
            />
          </div>
          <Button type="submit" size="sm" variant="secondary">
            Add
          </Button>
        </form>
        <p className="mt-1 text-xs text-muted-foreground">
          {klass ? `Fields of ${klass}` : "Fields of every class (name a class in the filter to narrow them)"}; downstream fields
          are the results of the classes that depend on a row.
        </p>
        <div className="mt-3 mb-1 text-xs font-medium text-muted-foreground">Shown, in order</div>
        <ol className="grid gap-0.5" aria-label="Column order">
          {columns.map((id, i) => (
            <li key={id} className="flex items-center gap-1 text-sm" data-testid="column-order-item" data-column={id}>
              <span className={isFieldColumn(id) ? "min-w-0 flex-1 truncate font-mono text-xs" : "min-w-0 flex-1 truncate"} title={id}>
                {isFieldColumn(id) ? fieldLabel(id) : labelOf(id)}
              </span>
              <Button
                size="icon"
                variant="ghost"
                className="size-6"
                disabled={i === 0}
                aria-label={`Move ${labelOf(id)} left`}
                onClick={() => onChange(moveColumn(columns, id, -1))}
              >
                <ChevronLeftIcon />
              </Button>
              <Button
                size="icon"
                variant="ghost"
                className="size-6"
                disabled={i === columns.length - 1}
                aria-label={`Move ${labelOf(id)} right`}
                onClick={() => onChange(moveColumn(columns, id, 1))}
              >
                <ChevronRightIcon />
              </Button>
              <Button size="icon" variant="ghost" className="size-6" aria-label={`Remove ${labelOf(id)}`} onClick={() => toggle(id, false)}>
                <XIcon />
              </Button>
            </li>
          ))}
        </ol>
        <div className="mt-3 mb-1 text-xs font-medium text-muted-foreground">Built-in columns</div>
        <div className="grid grid-cols-2 gap-1">
          {BUILTIN_COLUMNS.map((c) => (
            <label key={c.id} className="flex items-center gap-2 text-sm">
              <Checkbox checked={columns.includes(c.id)} onChange={(e) => toggle(c.id, e.target.checked)} />
              {c.meta.label}
            </label>
          ))}
        </div>
      </PopoverContent>
    </Popover>
  );
}
