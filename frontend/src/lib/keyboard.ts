/**
 * Keyboard shortcuts. Global ones (`?` help, `/` search, `g o`/`g e`/`g d`/`g c` to go to a
 * page, `t` theme, `r` auto-refresh) live in the layout; lists register j/k/Enter/x with
 * `useListKeys`. Keys typed into a text field are left alone.
 */
import { useEffect, useRef } from "react";

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
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
