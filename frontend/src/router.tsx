/**
 * The dashboard's routes. Search params are plain strings in the URL (`?q=config.lr < 0.1`),
 * so filters, sort and columns can be shared as links. Heavy pages load on demand.
 */
import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
} from "@tanstack/react-router";

import type { Order, SortKey } from "@/api/client";
import { Layout, NotFound } from "@/components/Layout";
import { ExperimentPage } from "@/pages/Experiment";
import { ExperimentsPage } from "@/pages/Experiments";
import { OverviewPage } from "@/pages/Overview";

type Raw = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** `sort`: a `SortKey` or a field (`result.accuracy`); `sel`: the selected rows' refs. */
export type ExperimentsSearch = { q?: string; sort?: SortKey | string; order?: Order; cols?: string; sel?: string };
export type ExperimentSearch = { tab?: string; file?: string };
export type CompareSearch = { ids?: string };
export type MigrateSearch = { ns?: string };

const rootRoute = createRootRoute({ component: Layout, notFoundComponent: NotFound });

const overviewRoute = createRoute({ getParentRoute: () => rootRoute, path: "/", component: OverviewPage });

const experimentsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/experiments",
  validateSearch: (s: Raw): ExperimentsSearch => ({
    q: str(s.q),
    sort: str(s.sort),
    order: s.order === "asc" || s.order === "desc" ? s.order : undefined,
    cols: str(s.cols),
    sel: str(s.sel),
  }),
  component: ExperimentsPage,
});

const experimentRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/experiments/$namespace/$hash",
  validateSearch: (s: Raw): ExperimentSearch => ({ tab: str(s.tab), file: str(s.file) }),
  component: ExperimentPage,
});

const compareRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/compare",
  validateSearch: (s: Raw): CompareSearch => ({ ids: str(s.ids) }),
  component: lazyRouteComponent(() => import("@/pages/Compare"), "ComparePage"),
});

const dagRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dag",
  validateSearch: (s: Raw): DagSearch => ({ source: s.source === "code" || s.source === "experiments" ? s.source : undefined }),
  component: lazyRouteComponent(() => import("@/pages/Dag"), "DagPage"),
});

export type DagSearch = { source?: "code" | "experiments" };

const codeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/code",
  component: lazyRouteComponent(() => import("@/pages/Code"), "CodePage"),
});

const migrateRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/migrate",
  validateSearch: (s: Raw): MigrateSearch => ({ ns: str(s.ns) }),
  component: lazyRouteComponent(() => import("@/pages/Migrate"), "MigratePage"),
});

const routeTree = rootRoute.addChildren([
  overviewRoute,
  experimentsRoute,
  experimentRoute,
  compareRoute,
  dagRoute,
  codeRoute,
  migrateRoute,
]);

function parseSearch(search: string): Raw {
  const out: Raw = {};
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

function stringifySearch(search: Raw): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(search)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const text = params.toString().replace(/\+/g, "%20");
  return text ? `?${text}` : "";
}

export function makeRouter() {
  return createRouter({ routeTree, parseSearch, stringifySearch, defaultPreload: "intent" });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof makeRouter>;
  }
}
