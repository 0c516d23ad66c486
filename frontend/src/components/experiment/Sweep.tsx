/** A sweep from this experiment: typed values (lists or ranges) for several fields, the plan
 * first ("6 to create, 0 cached, 0 running elsewhere"), then a batch in the project's
 * environment (local, or SLURM through furu-slurm when the environment has it). */
import { CalendarRangeIcon, ListChecksIcon, RocketIcon } from "lucide-react";
import { useEffect, useMemo, useState } from "react";

import type { ExperimentDetail } from "@/api/client";
import { type SweepPlan, type SweepRequest, useLaunchSweep, usePlanSweep } from "@/api/sweeps";
import { formatValue } from "@/lib/format";
import { combinations, type FieldType, parseSweepValues, sweepType } from "@/lib/sweep";

import { BatchProgress, PlanView } from "../BatchPanel";
import { ErrorState } from "../States";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "../ui/card";
import { Input, Select } from "../ui/input";

type Field = { name: string; type: FieldType; current: unknown };

/** The fields a sweep can set: the recorded schema's int, float, str and bool fields. */
export function sweepFields(e: ExperimentDetail): Field[] {
  const config = (e.config ?? {}) as Record<string, unknown>;
  return (e.config_schema ?? []).flatMap((f) => {
    const type = sweepType((f as { type?: unknown }).type);
    const name = (f as { name?: unknown }).name;
    return type && typeof name === "string" ? [{ name, type, current: config[name] }] : [];
  });
}

const HINT: Record<FieldType, string> = { int: "1, 2, 4 or 1:8", float: "0.1, 0.3 or 0:1:0.25", str: "adam, sgd", bool: "true, false" };

export function SweepCard({ e }: { e: ExperimentDetail }) {
  const fields = useMemo(() => sweepFields(e), [e]);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [executor, setExecutor] = useState<"local" | "slurm">("local");
  const planM = usePlanSweep();
  const launch = useLaunchSweep();
  const [planned, setPlanned] = useState<{ plan: SweepPlan; key: string } | null>(null);

  const parsed = fields.map((f) => ({ f, r: parseSweepValues(f.name, f.type, texts[f.name] ?? "") }));
  const errors = parsed.flatMap(({ r }) => ("error" in r ? [r.error] : []));
  const axes = Object.fromEntries(parsed.flatMap(({ f, r }) => ("values" in r && r.values.length > 0 ? [[f.name, r.values]] : [])));
  const count = combinations(axes);
  const body: SweepRequest = { namespace: e.namespace, hash: e.hash, axes, executor };
  const key = JSON.stringify(body);
  const plan = planned?.key === key ? planned.plan : null;
  useEffect(() => {
    // "Sweep <Class>…" on the experiments page lands here (#sweep).
    if (window.location.hash === "#sweep") document.getElementById("sweep")?.scrollIntoView({ block: "start" });
  }, []);

  return (
    <Card data-testid="sweep" id="sweep">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <CalendarRangeIcon className="size-4" /> Sweep from this one
        </CardTitle>
      </CardHeader>
      <CardContent className="grid gap-3 lg:grid-cols-2">
        <div className="grid content-start gap-1.5">
          {fields.length === 0 && <div className="text-sm text-muted-foreground">No int, float, str or bool field to sweep in the recorded schema.</div>}
          {fields.map((f) => (
            <label key={f.name} className="grid grid-cols-[minmax(0,9rem)_3rem_minmax(0,1fr)] items-center gap-2 text-sm">
              <span className="truncate font-mono text-xs" title={`${f.name} (now ${formatValue(f.current)})`}>
                {f.name}
              </span>
              <Badge variant="muted" className="justify-center font-mono">
                {f.type}
              </Badge>
              <Input
                aria-label={`sweep values of ${f.name}`}
                className="h-7 font-mono text-xs"
                placeholder={`${formatValue(f.current)}  (e.g. ${HINT[f.type]})`}
                value={texts[f.name] ?? ""}
                onChange={(ev) => setTexts({ ...texts, [f.name]: ev.target.value })}
              />
            </label>
          ))}
          <p className="text-xs text-muted-foreground">
            A list (<code>0.1, 0.3</code>) or a range (<code>1:8</code>, <code>0:1:0.25</code>, stop included) per field; empty fields keep
            this experiment's value. Every combination is one experiment.
          </p>
        </div>
        <div className="grid content-start gap-2">
          {errors.length > 0 && (
            <div role="alert" className="text-sm text-destructive" data-testid="sweep-error">
              {errors[0]}
            </div>
          )}
          <div className="flex flex-wrap items-center gap-2">
            <span className="text-sm" data-testid="sweep-count">
              {count === 0 ? "Give values for at least one field." : `${count} configuration${count === 1 ? "" : "s"}`}
            </span>
            <Select aria-label="executor" className="h-8 w-auto text-xs" value={executor} onChange={(ev) => setExecutor(ev.target.value as "local" | "slurm")}>
              <option value="local">this machine (local executor)</option>
              <option value="slurm" disabled={plan !== null && !plan.slurm.available}>
                SLURM (furu-slurm)
              </option>
            </Select>
            <Button
              size="sm"
              variant="outline"
              disabled={count === 0 || errors.length > 0 || planM.isPending}
              onClick={() => planM.mutate(body, { onSuccess: (p) => setPlanned({ plan: p, key }) })}
            >
              <ListChecksIcon /> {planM.isPending ? "Planning…" : "Plan"}
            </Button>
            <Button
              size="sm"
              disabled={plan === null || launch.isPending || plan.to_create + plan.running === 0 || JSON.stringify(launch.variables) === key}
              title={JSON.stringify(launch.variables) === key ? "Launched: change the values to sweep again" : undefined}
              onClick={() => launch.mutate(body)}
            >
              <RocketIcon /> Launch {plan ? `(${plan.to_create} to create)` : ""}
            </Button>
          </div>
          {plan && !plan.slurm.available && <div className="text-xs text-muted-foreground">SLURM: {plan.slurm.reason}</div>}
          {planM.error && <ErrorState error={planM.error} />}
          {launch.error && <ErrorState error={launch.error} />}
          {plan && <PlanView plan={plan} />}
          {launch.data && plan && <BatchProgress taskId={launch.data.id} items={plan.items} />}
        </div>
      </CardContent>
    </Card>
  );
}
