/** Rendering helpers for component tests: a QueryClient, a router, and a fake server. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import {
  createMemoryHistory,
  createRootRoute,
  createRoute,
  createRouter,
  Outlet,
  RouterProvider,
} from "@tanstack/react-router";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";

/** Renders `ui` inside a QueryClient and a router (so `<Link>` works), at `/`. */
export function renderWithProviders(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const root = createRootRoute({ component: () => <Outlet /> });
  const index = createRoute({ getParentRoute: () => root, path: "/", component: () => <>{ui}</> });
  const any = createRoute({ getParentRoute: () => root, path: "$", component: () => <>{ui}</> });
  const router = createRouter({
    routeTree: root.addChildren([index, any]),
    history: createMemoryHistory({ initialEntries: ["/"] }),
  });
  return render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

type Handler = (url: URL, body: unknown) => unknown;

/** Stands in for the server: `routes` maps "METHOD /path" to a JSON answer. */
export function fakeServer(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  vi.stubGlobal("fetch", async (request: Request) => {
    const url = new URL(request.url, "http://localhost");
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? JSON.parse(text) : null;
    calls.push({ method: request.method, path: url.pathname, body });
    const handler = routes[`${request.method} ${url.pathname}`];
    if (!handler) {
      return new Response(JSON.stringify({ error: { code: "route_not_found", message: url.pathname } }), {
        status: 404,
        headers: { "content-type": "application/json" },
      });
    }
    return new Response(JSON.stringify(handler(url, body)), { status: 200, headers: { "content-type": "application/json" } });
  });
  return calls;
}
