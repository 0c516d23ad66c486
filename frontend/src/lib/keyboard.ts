/**
 * Keyboard shortcuts. Global ones (`?` help, `/` search, `g o`/`g e`/`g d`/`g c` to go to a
 * page, `t` theme, `r` auto-refresh) live in the layout; lists register j/k/Enter/x with
 * `useListKeys`. Keys typed into a text field are left alone.
 */
import { useEffect, useRef } from "react";

const NOT_TEXT = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]);

/** Whether keys pressed on `target` are text being typed (a checkbox's are not: `c` and `x`
 * still work while a row's checkbox has focus). */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el?.tagName) return false;
  const tag = el.tagName;
  if (tag === "INPUT") return !NOT_TEXT.has((el as HTMLInputElement).type);
  return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable === true;
}

/** Whether Enter (or Space) on `target` already does something: follow a link, press a button
 * or a sort header, tick a checkbox. Page shortcuts leave those keys to it. */
export function activates(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el?.closest) return false;
  return !!el.closest("a[href], button, input, select, textarea, summary, [role=button], [role=link], [role=tab], [role=menuitem], [role=option]");
}

export type KeyMap = Record<string, (event: KeyboardEvent) => void>;

/** Calls `map[key]` for keys pressed outside text fields (and without Ctrl/Meta/Alt). */
export function useKeys(map: KeyMap, enabled = true): void {
  const ref = useRef(map);
  useEffect(() => {
    ref.current = map;
  });
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target)) return;
      if ((event.key === "Enter" || event.key === " ") && activates(event.target)) return;
      if (document.querySelector("[role=dialog]")) return;
      const handler = ref.current[event.key];
      if (handler) {
        event.preventDefault();
        handler(event);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enabled]);
}

export const SHORTCUTS: { keys: string; what: string }[] = [
  { keys: "?", what: "show this help" },
  { keys: "/", what: "focus the filter (experiments page)" },
  { keys: "j / k", what: "next / previous row" },
  { keys: "Enter", what: "open the highlighted experiment" },
  { keys: "x", what: "select / unselect the highlighted row" },
  { keys: "c", what: "compare the selected experiments" },
  { keys: "g o / g e / g d / g c", what: "go to overview / experiments / DAG / compare" },
  { keys: "g l / g m", what: "go to the code's experiments / the migration helper" },
  { keys: "t", what: "switch light / dark theme" },
  { keys: "r", what: "turn auto-refresh on / off" },
  { keys: "Esc", what: "close a dialog, leave a text field" },
];
