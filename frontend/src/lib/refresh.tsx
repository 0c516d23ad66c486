/** The auto-refresh toggle: while on, pages poll the server every few seconds. */
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";

const KEY = "furu-autorefresh";
export const REFRESH_MS = 3000;

type RefreshState = { enabled: boolean; setEnabled: (on: boolean) => void };
const RefreshContext = createContext<RefreshState>({ enabled: false, setEnabled: () => {} });

function initial(): boolean {
  try {
    return localStorage.getItem(KEY) !== "off";
  } catch {
    return true;
  }
}

export function RefreshProvider({ children }: { children: ReactNode }) {
  const [enabled, setState] = useState(initial);
  const value = useMemo(
    () => ({
      enabled,
      setEnabled: (on: boolean) => {
        setState(on);
        try {
          localStorage.setItem(KEY, on ? "on" : "off");
        } catch {
          /* not persisted */
        }
      },
    }),
    [enabled],
  );
  return <RefreshContext.Provider value={value}>{children}</RefreshContext.Provider>;
}

export function useAutoRefresh(): RefreshState {
  return useContext(RefreshContext);
}

/** `refetchInterval` for a query: the refresh period while auto-refresh is on, else off. */
export function useRefetchInterval(ms: number = REFRESH_MS): number | false {
  return useAutoRefresh().enabled ? ms : false;
}
