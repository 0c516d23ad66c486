/**
 * The typed HTTP client of the furu-server API (types generated from its openapi.json).
 *
 * Routes that change the store need the server's token. `furu-dashboard serve` prints the URL
 * with `?token=...`: the dashboard keeps it (localStorage) and removes it from the address bar.
 */
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

type S = components["schemas"];
export type ExperimentSummary = S["ExperimentSummary"];
export type ExperimentDetail = S["ExperimentDetail"];
export type CodeStateInfo = S["CodeStateInfo"];
export type ExperimentList = S["ExperimentList"];
export type ResultStatus = S["ResultStatus"];
export type AttemptStatus = S["AttemptStatus"];
export type SortKey = S["SortKey"];
export type Order = S["Order"];
export type Stats = S["Stats"];
export type NamespaceInfo = S["NamespaceInfo"];
export type Dag = S["Dag"];
export type DagNode = S["DagNode"];
export type DagClass = S["DagClass"];
export type InvalidatePlan = S["InvalidatePlan"];
export type Lineage = S["Lineage"];
export type Relationships = S["Relationships"];
export type Related = S["Related"];
export type ArtifactTree = S["ArtifactTree"];
export type ArtifactEntry = S["ArtifactEntry"];
export type Preview = S["Preview"];
export type Truncation = S["Truncation"];
export type LogChunk = S["LogChunk"];
export type Snippet = S["Snippet"];
export type Run = S["Run"];
export type Diff = S["Diff"];
export type ErrorBody = S["ErrorBody"];

const TOKEN_KEY = "furu-token";

/** An error answered by the server (its envelope), or a network failure (`code` "network"). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly detail: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives only in this page */
  }
}

/** Takes `?token=` from the address bar into storage (once, at start). */
export function adoptTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (!token) return;
  setToken(token);
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

/**
 * Who asks the user for the token when a change is refused for the lack of it (the
 * `TokenDialog` registers itself); resolves to the token typed, or null when they cancel.
 */
type TokenAsker = (why: string) => Promise<string | null>;
let asker: TokenAsker | null = null;

export function registerTokenAsker(ask: TokenAsker | null): void {
  asker = ask;
}

/** The body of each change sent, kept until its answer: a refused one is sent again. */
const sent = new Map<string, Request>();

/** Whether the server refused a change for the lack of (or a wrong) token. */
async function refusedForToken(response: Response): Promise<string | null> {
  if (response.status !== 401 && response.status !== 403) return null;
  try {
    const body = (await response.clone().json()) as { error?: { code?: string; message?: string } };
    return body.error?.code === "unauthorized" ? (body.error.message ?? "unauthorized") : null;
  } catch {
    return null;
  }
}

const auth: Middleware = {
  onRequest({ request, id }) {
    if (request.method === "GET") return request;
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    sent.set(id, request.clone());
    return request;
  },
  /** A change refused for the token: ask for it (the token dialog), then send it again once. */
  async onResponse({ response, id }) {
    const original = sent.get(id);
    sent.delete(id);
    if (!original || !asker) return response;
    const why = await refusedForToken(response);
    if (why === null) return response;
    const token = await asker(getToken() ? "The server refused the token this page has." : "This action needs the server's token.");
    if (!token) return response;
    setToken(token);
    const again = new Request(original, { headers: new Headers(original.headers) });
    again.headers.set("Authorization", `Bearer ${token}`);
    return globalThis.fetch(again);
  },
  onError({ id }) {
    sent.delete(id);
  },
};

// `fetch` is looked up at each call (not captured once), so tests can stand in for the server.
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  fetch: (request) => globalThis.fetch(request),
});
api.use(auth);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a response, or an `ApiError` carrying the server's error envelope. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(
      `cannot reach the furu server (${err instanceof Error ? err.message : String(err)})`,
      "network",
      0,
    );
  }
  if (result.response.ok && result.data !== undefined) return result.data;
  const body = (result.error ?? {}) as { error?: ErrorBody };
  const err = body.error;
  throw new ApiError(
    err?.message ?? `the server answered ${result.response.status}`,
    err?.code ?? "http_error",
    result.response.status,
    (err?.detail as Record<string, unknown> | null | undefined) ?? null,
  );
}

/** `namespace/hash`: how the API and the dashboard's URLs name one experiment. */
export function refOf(e: { namespace: string; hash: string }): string {
  return `${e.namespace}/${e.hash}`;
}

export function parseRef(ref: string): { namespace: string; hash: string } {
  const i = ref.lastIndexOf("/");
  return { namespace: ref.slice(0, i), hash: ref.slice(i + 1) };
}

/** The URL of a raw file in an experiment's directory (for images and downloads). */
export function fileUrl(namespace: string, hash: string, path: string): string {
  const rel = path.split("/").map(encodeURIComponent).join("/");
  return `/api/experiments/${encodeURIComponent(namespace)}/${encodeURIComponent(hash)}/files/${rel}`;
}
