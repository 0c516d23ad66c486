import { useMemo, useState } from "react";

import type { FieldInfo } from "@/lib/fields";
import {
  KNOWN_VALUES,
  OPERATORS,
  TOP_LEVEL_FIELDS,
  formatScalar,
  parseScalar,
  type Condition,
  type Op,
  type Scalar,
} from "@/lib/filter";
import { formatValue } from "@/lib/format";

import { FieldCombobox } from "./FieldCombobox";
import { Button } from "./ui/button";
import { Checkbox, Input, Select } from "./ui/input";

const TEXT_OPS: Op[] = ["contains", "startswith", "regex"];

function describe(f: FieldInfo): string {
  if (f.many) return `${f.kind}, many values`;
  return `${f.kind}, ${f.values.length} value${f.values.length === 1 ? "" : "s"}`;
}

/** Everything the field picker offers: the store's own fields and the class's config fields. */
export function fieldOptions(configFields: FieldInfo[], classes: string[]): Map<string, FieldInfo> {
  const out = new Map<string, FieldInfo>();
  for (const f of TOP_LEVEL_FIELDS) {
    const known = f.path === "namespace" ? classes : KNOWN_VALUES[f.path];
    out.set(f.path, { path: f.path, kind: f.kind, values: known ?? [], many: !known });
  }
  for (const f of configFields) out.set(f.path, f);
  return out;
}

function ValueBox({
  field,
  value,
  onChange,
  label,
  text,
}: {
  field: FieldInfo | undefined;
  value: string;
  onChange: (v: string) => void;
  label: string;
  text: boolean;
}) {
  const [custom, setCustom] = useState(false);
  const few = field && field.values.length > 0 && !field.many && !text;
  if (few && !custom) {
    return (
      <Select
        aria-label={label}
        value={value}
        className="w-full font-mono text-xs"
        onChange={(e) => (e.target.value === "\u0000other" ? setCustom(true) : onChange(e.target.value))}
      >
        <option value="">choose…</option>
        {field.values.map((v) => (
          <option key={formatScalar(v)} value={formatScalar(v)}>
            {formatValue(v)}
          </option>
        ))}
        <option value={"\u0000other"}>other…</option>
      </Select>
    );
  }
  const listId = `values-${label.replace(/\W/g, "")}`;
  return (
    <>
      <Input
        aria-label={label}
        value={value}
        placeholder={text ? "text" : "value"}
        className="font-mono text-xs"
        list={field?.values.length ? listId : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {field && field.values.length > 0 && (
        <datalist id={listId}>
          {field.values.map((v) => (
            <option key={formatScalar(v)} value={formatScalar(v)}>
              {formatValue(v)}
            </option>
          ))}
        </datalist>
      )}
    </>
  );
}

function initialText(v: Scalar | undefined): string {
  return v === undefined ? "" : formatScalar(v).replace(/^"(.*)"$/, "$1");
}

/** Picks a field, an operator and values: one condition of the filter builder. */
export function ConditionEditor({
  fields,
  initial,
  onSubmit,
  onCancel,
}: {
  fields: Map<string, FieldInfo>;
  initial?: Condition;
  onSubmit: (c: Condition) => void;
  onCancel: () => void;
}) {
  const [path, setPath] = useState(initial?.path ?? "");
  const [op, setOp] = useState<Op>(initial?.op ?? "eq");
  const [value, setValue] = useState(initialText(initial?.value));
  const [low, setLow] = useState(initialText(initial?.low));
  const [high, setHigh] = useState(initialText(initial?.high));
  const [picked, setPicked] = useState<string[]>((initial?.values ?? []).map(formatScalar));
  const [listText, setListText] = useState((initial?.values ?? []).map(initialText).join(", "));
  const field = fields.get(path);
  const options = useMemo(
    () => [...fields.values()].map((f) => ({ path: f.path, hint: f.path.startsWith("config.") ? describe(f) : undefined })),
    [fields],
  );
  const kind = TEXT_OPS.includes(op) ? "str" : field?.kind;
  const scalar = (t: string): Scalar => {
    const known = field?.values.find((v) => formatScalar(v) === t);
    return known !== undefined ? known : parseScalar(t.replace(/^"(.*)"$/, "$1"), kind);
  };
  const few = field && field.values.length > 0 && !field.many;

  const build = (): Condition | null => {
    if (!path.trim()) return null;
    const p = path.trim();
    if (op === "exists") return { path: p, op };
    if (op === "between") return low && high ? { path: p, op, low: scalar(low), high: scalar(high) } : null;
    if (op === "in") {
      const values = few ? picked.map(scalar) : listText.split(",").map((s) => s.trim()).filter(Boolean).map(scalar);
      return values.length ? { path: p, op, values } : null;
    }
    return value !== "" ? { path: p, op, value: scalar(value) } : null;
  };
  const condition = build();

  return (
    <form
      className="grid gap-2"
      aria-label="Filter condition"
      onSubmit={(e) => {
        e.preventDefault();
        if (condition) onSubmit(condition);
      }}
    >
      <FieldCombobox options={options} value={path} onChange={setPath} autoFocus={!initial} />
      <Select aria-label="Operator" value={op} onChange={(e) => setOp(e.target.value as Op)} className="w-full">
        {OPERATORS.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </Select>
      {op === "between" && (
        <div className="flex items-center gap-2">
          <ValueBox field={field} value={low} onChange={setLow} label="From" text={false} />
          <span className="text-muted-foreground">and</span>
          <ValueBox field={field} value={high} onChange={setHigh} label="To" text={false} />
        </div>
      )}
      {op === "in" &&
        (few ? (
          <div className="grid max-h-44 gap-1 overflow-auto rounded-md border p-2" role="group" aria-label="Values">
            {field.values.map((v) => {
              const t = formatScalar(v);
              return (
                <label key={t} className="flex items-center gap-2 font-mono text-xs">
                  <Checkbox
                    checked={picked.includes(t)}
                    onChange={(e) => setPicked(e.target.checked ? [...picked, t] : picked.filter((x) => x !== t))}
                  />
                  {formatValue(v)}
                </label>
              );
            })}
          </div>
        ) : (
          <Input
            aria-label="Values"
            value={listText}
            placeholder="a, b, c"
            className="font-mono text-xs"
            onChange={(e) => setListText(e.target.value)}
          />
        ))}
      {op !== "between" && op !== "in" && op !== "exists" && (
        <ValueBox field={field} value={value} onChange={setValue} label="Value" text={TEXT_OPS.includes(op)} />
      )}
      <div className="flex justify-end gap-2">
        <Button type="button" variant="ghost" size="sm" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" size="sm" disabled={!condition}>
          {initial ? "Update" : "Add"}
        </Button>
      </div>
    </form>
  );
}
