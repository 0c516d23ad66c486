import { useEffect, useId, useMemo, useRef, useState } from "react";

import { cn } from "@/lib/utils";

import { Input } from "./ui/input";

export type FieldOption = { path: string; hint?: string };

/**
 * A text box that suggests field paths as you type (arrow keys and Enter pick one); a path
 * that is not suggested can still be typed in full.
 */
export function FieldCombobox({
  options,
  value,
  onChange,
  placeholder = "field, e.g. config.lr",
  autoFocus,
  label = "Field",
}: {
  options: FieldOption[];
  value: string;
  onChange: (path: string) => void;
  placeholder?: string;
  autoFocus?: boolean;
  label?: string;
}) {
  const [text, setText] = useState(value);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const listRef = useRef<HTMLUListElement>(null);
  useEffect(() => setText(value), [value]);

  const matches = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const found = needle ? options.filter((o) => o.path.toLowerCase().includes(needle)) : options;
    return found.slice(0, 60);
  }, [options, text]);

  useEffect(() => {
    listRef.current?.children[active]?.scrollIntoView({ block: "nearest" });
  }, [active]);

  const choose = (path: string) => {
    setText(path);
    setOpen(false);
    onChange(path);
  };

  return (
    <div className="relative">
      <Input
        role="combobox"
        aria-label={label}
        aria-expanded={open}
        aria-controls={listId}
        autoFocus={autoFocus}
        value={text}
        placeholder={placeholder}
        className="font-mono text-xs"
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        onChange={(e) => {
          setText(e.target.value);
          setActive(0);
          setOpen(true);
          onChange(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(a + 1, matches.length - 1));
          } else if (e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === "Enter" && open && matches[active]) {
            e.preventDefault();
            choose(matches[active].path);
          } else if (e.key === "Escape" && open) {
            e.stopPropagation();
            setOpen(false);
          }
        }}
      />
      {open && matches.length > 0 && (
        <ul
          id={listId}
          ref={listRef}
          role="listbox"
          className="absolute z-50 mt-1 max-h-64 w-full overflow-auto rounded-md border bg-popover p-1 shadow-md"
        >
          {matches.map((o, i) => (
            <li
              key={o.path}
              role="option"
              aria-selected={i === active}
              className={cn(
                "flex cursor-pointer items-center justify-between gap-2 rounded-sm px-2 py-1 font-mono text-xs",
                i === active && "bg-accent text-accent-foreground",
              )}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(o.path);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span className="truncate">{o.path}</span>
              {o.hint && <span className="shrink-0 font-sans text-muted-foreground">{o.hint}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
