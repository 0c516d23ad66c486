/**
 * Field suggestions for the filter builder: the config fields of the chosen class, with the
 * distinct values they take (drawn from the configs of a sample of that class's most recent
 * experiments), and every config, result and downstream result field the index holds
 * (`GET /api/fields`), so `result.accuracy` is offered too.
 */
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/api/client";
import { experimentQuery, searchExperiments } from "@/api/queries";

import { flattenConfig } from "./config";
import { formatScalar, type Scalar } from "./filter";

export const SAMPLE_SIZE = 24;
export const FEW_VALUES = 12;

export type FieldInfo = {
  path: string;
  kind: "num" | "str" | "bool" | "null" | "mixed";
  values: Scalar[];
  /** More distinct values than FEW_VALUES were seen: type a value instead of picking one. */
  many: boolean;
};

function kindOf(v: Scalar): FieldInfo["kind"] {
  if (v === null) return "null";
  if (typeof v === "number") return "num";
  if (typeof v === "boolean") return "bool";
  return "str";
}

/** Field paths (`config.<path>`) of the given configs, with their distinct scalar values. */
export function collectFields(configs: unknown[]): FieldInfo[] {
  const byPath = new Map<string, Map<string, Scalar>>();
  for (const config of configs) {
    for (const { path, value } of flattenConfig(config)) {
      if (!path || (value !== null && typeof value === "object")) continue;
      const values = byPath.get(path) ?? new Map<string, Scalar>();
      byPath.set(path, values);
      values.set(formatScalar(value as Scalar), value as Scalar);
    }
  }
  const out: FieldInfo[] = [];
  for (const [path, values] of byPath) {
    const list = [...values.values()];
    const kinds = new Set(list.filter((v) => v !== null).map(kindOf));
    const kind = kinds.size === 1 ? [...kinds][0] : kinds.size === 0 ? "null" : "mixed";
    list.sort((a, b) =>
      typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b)),
    );
    out.push({ path: `config.${path}`, kind, values: list.slice(0, FEW_VALUES), many: list.length > FEW_VALUES });
  }
  return out.toSorted((a, b) => a.path.localeCompare(b.path));
}

async function sampleConfigs(client: QueryClient, namespace: string | null): Promise<unknown[]> {
  const query = namespace ? `namespace = ${formatScalar(namespace)}` : "";
  const page = await searchExperiments({ query, sort: "updated", order: "desc", limit: SAMPLE_SIZE, offset: 0 });
  const details = await Promise.all(
    page.items.map((e) => client.fetchQuery(experimentQuery(e.namespace, e.hash)).catch(() => null)),
  );
  return details.filter((d) => d?.config).map((d) => d?.config);
}

/** `sampled` with the index's other fields added (their values are typed, not picked). */
export function withCatalog(sampled: FieldInfo[], catalog: { name: string; kind: string }[]): FieldInfo[] {
  const known = new Set(sampled.map((f) => f.path));
  const more = catalog
    .filter((f) => !known.has(f.name) && !f.name.includes("__"))
    .map((f): FieldInfo => ({ path: f.name, kind: f.kind as FieldInfo["kind"], values: [], many: true }));
  return [...sampled, ...more];
}

export function useFieldSuggestions(namespace: string | null) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["furu", "fields", namespace],
    queryFn: async () => {
      const [sampled, catalog] = await Promise.all([
        sampleConfigs(client, namespace).then(collectFields),
        unwrap(api.GET("/api/fields", { params: { query: namespace ? { class: namespace } : {} } })).catch(() => null),
      ]);
      return withCatalog(sampled, catalog?.fields ?? []);
    },
    staleTime: 60_000,
  });
}
