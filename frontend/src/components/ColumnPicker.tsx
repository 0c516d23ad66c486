import { Columns3Icon } from "lucide-react";
import { useMemo, useState } from "react";

import { useFieldSuggestions } from "@/lib/fields";

import { BUILTIN_COLUMNS } from "./ExperimentsTable";
import { FieldCombobox } from "./FieldCombobox";
import { Button } from "./ui/button";
import { Checkbox } from "./ui/input";
import { Popover, PopoverContent, PopoverTrigger } from "./ui/popover";

/** Chooses the table's columns: built-in ones, and config fields of the chosen class. */
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
  const suggestions = useFieldSuggestions(open ? klass : null);
  const options = useMemo(
    () => (suggestions.data ?? []).map((f) => ({ path: f.path, hint: f.kind })),
    [suggestions.data],
  );
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...columns, id] : columns.filter((c) => c !== id));
  const configCols = columns.filter((c) => c.startsWith("config."));
  const addField = (path: string) => {
    const id = path.startsWith("config.") ? path : `config.${path}`;
    if (path.trim() && !columns.includes(id)) onChange([...columns, id]);
    setField("");
  };
  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button variant="outline" size="sm">
          <Columns3Icon /> Columns
        </Button>
      </PopoverTrigger>
      <PopoverContent align="end" className="w-80">
        <div className="mb-1 text-xs font-medium text-muted-foreground">Columns</div>
        <div className="grid grid-cols-2 gap-1">
          {BUILTIN_COLUMNS.map((c) => (
            <label key={c.id} className="flex items-center gap-2 text-sm">
              <Checkbox checked={columns.includes(c.id)} onChange={(e) => toggle(c.id, e.target.checked)} />
              {c.meta.label}
            </label>
          ))}
        </div>
        <div className="mt-3 mb-1 text-xs font-medium text-muted-foreground">Config fields</div>
        {configCols.map((c) => (
          <label key={c} className="flex items-center gap-2 font-mono text-xs">
            <Checkbox checked onChange={() => toggle(c, false)} />
            {c}
          </label>
        ))}
        <form
          className="mt-2 flex gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            addField(field);
          }}
        >
          <div className="flex-1">
            <FieldCombobox
              options={options}
              value={field}
              label="Config field column"
              placeholder={klass ? "config.lr" : "pick a class in the filter first"}
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
      </PopoverContent>
    </Popover>
  );
}
