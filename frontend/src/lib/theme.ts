/** Light and dark themes: a class on <html>, remembered in localStorage (see index.html). */
import { useCallback, useSyncExternalStore } from "react";

const KEY = "furu-theme";
export type Theme = "light" | "dark";

function current(): Theme {
  return document.documentElement.classList.contains("dark") ? "dark" : "light";
}

const listeners = new Set<() => void>();

export function setTheme(theme: Theme): void {
  // Switch without transitions, or every button fades from the old colours for a moment.
  const freeze = document.createElement("style");
  freeze.textContent = "*, *::before, *::after { transition: none !important; }";
  document.head.appendChild(freeze);
  document.documentElement.classList.toggle("dark", theme === "dark");
  void window.getComputedStyle(document.body).opacity; // apply the change before transitions return
  window.setTimeout(() => freeze.remove(), 0);
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    /* not persisted */
  }
  for (const l of listeners) l();
}

export function useTheme(): [Theme, () => void] {
  const theme = useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    current,
    () => "light" as Theme,
  );
  const toggle = useCallback(() => setTheme(current() === "dark" ? "light" : "dark"), []);
  return [theme, toggle];
}
