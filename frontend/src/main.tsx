import "./index.css";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { adoptTokenFromUrl } from "@/api/client";
import { TooltipProvider } from "@/components/ui/tooltip";
import { RefreshProvider } from "@/lib/refresh";

import { makeRouter } from "./router";

adoptTokenFromUrl();

const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 2_000, refetchOnWindowFocus: false, retry: 1 } },
});
const router = makeRouter();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RefreshProvider>
          <TooltipProvider delayDuration={300}>
            <RouterProvider router={router} />
          </TooltipProvider>
        </RefreshProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
