import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import {
  CircleHelpIcon,
  CodeXmlIcon,
  FlaskConicalIcon,
  GitCompareArrowsIcon,
  HistoryIcon,
  LayoutDashboardIcon,
  MoonIcon,
  NetworkIcon,
  RefreshCwIcon,
  SunIcon,
} from "lucide-react";
import { useRef, useState } from "react";

import { useServerUp } from "@/api/queries";
import { useKeys } from "@/lib/keyboard";
import { useAutoRefresh } from "@/lib/refresh";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";

import { HelpDialog } from "./HelpDialog";
import { EmptyState } from "./States";
import { TokenDialog } from "./TokenDialog";
import { Button } from "./ui/button";

const NAV = [
  { to: "/", label: "Overview", icon: LayoutDashboardIcon, key: "o" },
  { to: "/experiments", label: "Experiments", icon: FlaskConicalIcon, key: "e" },
  { to: "/dag", label: "DAG", icon: NetworkIcon, key: "d" },
  { to: "/compare", label: "Compare", icon: GitCompareArrowsIcon, key: "c" },
  { to: "/code", label: "Code", icon: CodeXmlIcon, key: "l" },
  { to: "/migrate", label: "Migrate", icon: HistoryIcon, key: "m" },
] as const;

export function Layout() {
  const [theme, toggleTheme] = useTheme();
  const refresh = useAutoRefresh();
  const server = useServerUp();
  const live = refresh.enabled && server.up;
  const [help, setHelp] = useState(false);
  const navigate = useNavigate();
  const pendingG = useRef(0);

  useKeys({
    "?": () => setHelp(true),
    t: () => toggleTheme(),
    r: () => refresh.setEnabled(!refresh.enabled),
    g: () => {
      pendingG.current = Date.now();
    },
    ...Object.fromEntries(
      NAV.map((n) => [
        n.key,
        (e: KeyboardEvent) => {
          if (Date.now() - pendingG.current < 1200) {
            pendingG.current = 0;
            void navigate({ to: n.to });
          } else if (n.key === "c") {
            window.dispatchEvent(new CustomEvent("furu:compare"));
          } else {
            e.stopPropagation();
          }
        },
      ]),
    ),
  });

  return (
    <div className="flex min-h-screen flex-col">
      <header className="sticky top-0 z-40 border-b bg-card/95 backdrop-blur">
        <div className="mx-auto flex h-12 max-w-[1600px] items-center gap-1 px-4">
          <Link to="/" className="mr-4 flex items-center gap-2 font-semibold">
            <img src="/favicon.svg" alt="" className="size-6" />
            furu
          </Link>
          <nav className="flex items-center gap-0.5" aria-label="Main">
            {NAV.map((n) => (
              <Link
                key={n.to}
                to={n.to}
                activeOptions={{ exact: n.to === "/", includeSearch: false }}
                className="flex h-8 items-center gap-1.5 rounded-md px-2.5 text-sm text-muted-foreground hover:bg-accent hover:text-accent-foreground data-[status=active]:bg-accent data-[status=active]:text-foreground data-[status=active]:font-medium"
              >
                <n.icon className="size-4" />
                {n.label}
              </Link>
            ))}
          </nav>
          <div className="ml-auto flex items-center gap-1">
            <Button
              variant="ghost"
              size="sm"
              onClick={() => refresh.setEnabled(!refresh.enabled)}
              aria-pressed={refresh.enabled}
              aria-label="Auto-refresh"
              title={server.up ? "Auto-refresh (r)" : "The server does not answer: nothing is refreshed until it is back"}
              data-testid="live-indicator"
              data-state={!server.up ? "offline" : refresh.enabled ? "live" : "paused"}
            >
              <RefreshCwIcon className={cn(live && "animate-[spin_3s_linear_infinite] text-primary", !server.up && "text-destructive")} />
              <span className="hidden sm:inline">{!server.up ? "Offline" : refresh.enabled ? "Live" : "Paused"}</span>
            </Button>
            <TokenDialog />
            <Button variant="ghost" size="icon" onClick={toggleTheme} aria-label="Toggle theme" title="Theme (t)">
              {theme === "dark" ? <SunIcon /> : <MoonIcon />}
            </Button>
            <Button variant="ghost" size="icon" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Help (?)">
              <CircleHelpIcon />
            </Button>
          </div>
        </div>
      </header>
      <main className="mx-auto w-full max-w-[1600px] flex-1 px-4 py-4">
        <Outlet />
      </main>
      <HelpDialog open={help} onOpenChange={setHelp} />
    </div>
  );
}

export function NotFound() {
  return (
    <EmptyState title="No such page">
      <Link to="/" className="text-primary underline">
        Back to the overview
      </Link>
    </EmptyState>
  );
}
