import { afterEach, describe, expect, it, vi } from "vitest";

import { mergePlans } from "@/components/InvalidatePlan";

import { api, getToken, registerTokenAsker, setToken, unwrap } from "./client";

const URL_ = "/api/experiments/{namespace}/{hash}/invalidate" as const;
const path = { namespace: "pkg.TrainModel", hash: "0123456789abcdef0123" };

/** A server that refuses changes without `Bearer good` and records each change it gets. */
function server(seen: { auth: string | null; body: string }[]) {
  vi.stubGlobal("fetch", async (request: Request) => {
    seen.push({ auth: request.headers.get("Authorization"), body: await request.clone().text() });
    if (request.headers.get("Authorization") !== "Bearer good") {
      const error = { code: "unauthorized", message: "this route changes the store and needs the server's token" };
      return new Response(JSON.stringify({ error }), { status: 401, headers: { "content-type": "application/json" } });
    }
    return new Response(JSON.stringify({ invalidated: ["pkg.TrainModel/0123"], skipped: [] }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  });
}

afterEach(() => {
  registerTokenAsker(null);
  setToken(null);
  vi.unstubAllGlobals();
});

describe("a change refused for the token", () => {
  it("asks for the token, keeps it and sends the same change again", async () => {
    const seen: { auth: string | null; body: string }[] = [];
    server(seen);
    const asked: string[] = [];
    registerTokenAsker(async (why) => {
      asked.push(why);
      return "good";
    });
    const done = await unwrap(api.POST(URL_, { params: { path }, body: { dependents: true } }));
    expect(done.invalidated).toEqual(["pkg.TrainModel/0123"]);
    expect(asked).toEqual(["This action needs the server's token."]);
    expect(seen.map((s) => s.auth)).toEqual([null, "Bearer good"]);
    expect(seen[1].body).toBe(seen[0].body);
    expect(getToken()).toBe("good");
  });

  it("says the token was wrong, and shows the refusal when the user cancels", async () => {
    const seen: { auth: string | null; body: string }[] = [];
    server(seen);
    setToken("stale");
    const asked: string[] = [];
    registerTokenAsker(async (why) => {
      asked.push(why);
      return null;
    });
    await expect(unwrap(api.POST(URL_, { params: { path }, body: { dependents: false } }))).rejects.toMatchObject({
      code: "unauthorized",
      status: 401,
    });
    expect(asked).toEqual(["The server refused the token this page has."]);
    expect(seen).toHaveLength(1);
  });
});

const t = (hash: string, root: boolean) => ({
  namespace: "pkg.A",
  hash,
  class_name: "A",
  result_status: "success" as const,
  attempt_status: "success" as const,
  root,
  busy: null,
});

describe("mergePlans", () => {
  it("lists each target once, the experiments asked for first", () => {
    const merged = mergePlans([
      { targets: [t("a", true), t("c", false)], dependents: 1, truncated: false },
      { targets: [t("b", true), t("c", false), t("a", false)], dependents: 2, truncated: false },
    ]);
    expect(merged.map((m) => [m.hash, m.root])).toEqual([
      ["a", true],
      ["b", true],
      ["c", false],
    ]);
  });
});
