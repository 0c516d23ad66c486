/**
 * The experiments the code defines: every module-level `FuruList` of the manifest with its
 * named experiments, their status in the store ("defined, not yet run" included) and the Python
 * that reproduces each (seed 002: "show how to achieve my results").
 */
import { Link } from "@tanstack/react-router";
import { ChevronRightIcon, CodeXmlIcon } from "lucide-react";
import { useState } from "react";

import { useManifest, type ManifestExperiment, type ManifestList } from "@/api/code";
import { CopyButton } from "@/components/CopyButton";
import { ExperimentLink } from "@/components/ExperimentLink";
import { ManifestRefresh } from "@/components/ManifestRefresh";
import { StaleBadge } from "@/components/StaleBadge";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { StatusBadge } from "@/components/StatusBadge";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { dagIsMissingManifest } from "@/lib/evolution";
import { formatTime } from "@/lib/format";
import { cn } from "@/lib/utils";

function ExperimentRow({ x }: { x: ManifestExperiment }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr className="border-t" data-testid="defined-experiment" data-name={x.name} data-indexed={x.indexed}>
        <td className="px-2 py-1.5">
          <button
            type="button"
            className="flex cursor-pointer items-center gap-1 font-medium hover:underline"
            onClick={() => setOpen(!open)}
            aria-expanded={open}
            aria-label={`Show the Python of ${x.name}`}
          >
            <ChevronRightIcon className={cn("size-3.5 transition-transform", open && "rotate-90")} />
            {x.name}
          </button>
        </td>
        <td className="px-2 py-1.5" title={x.namespace}>{x.class_name}</td>
        <td className="px-2 py-1.5" data-testid="defined-status">
          {x.indexed ? (
            <span className="flex items-center gap-1">
              <StatusBadge status={x.status} />
              <StaleBadge stale={x.stale} namespace={x.namespace} />
            </span>
          ) : (
            <Badge variant="muted" title="The code defines it; the store has no result for it yet">
              defined, not yet run
            </Badge>
          )}
        </td>
        <td className="px-2 py-1.5 font-mono text-xs">
          {x.indexed ? <ExperimentLink namespace={x.namespace} hash={x.hash} /> : <span className="text-muted-foreground">{x.hash.slice(0, 10)}</span>}
        </td>
        <td className="px-2 py-1.5 text-right">
          {x.snippet && <CopyButton text={x.snippet} what={`Python of ${x.name}`} />}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={5} className="px-2 pb-2">
            <pre className="max-h-72 overflow-auto rounded-md bg-muted p-2 font-mono text-xs" data-testid="defined-snippet">
              {x.snippet ?? "(the manifest has no snippet for it)"}
            </pre>
          </td>
        </tr>
      )}
    </>
  );
}

function ListCard({ list }: { list: ManifestList }) {
  const notRun = list.experiments.filter((x) => !x.indexed).length;
  return (
    <Card data-testid="furu-list" data-list={list.name}>
      <CardHeader>
        <CardTitle className="font-mono">{list.name}</CardTitle>
        <span className="text-xs text-muted-foreground">
          {list.experiments.length} experiment{list.experiments.length === 1 ? "" : "s"}
          {notRun > 0 && ` · ${notRun} not yet run`}
        </span>
      </CardHeader>
      <CardContent className="p-0">
        {list.experiments.length === 0 ? (
          <div className="p-3 text-sm text-muted-foreground">This list names no experiment.</div>
        ) : (
          <table className="w-full text-sm">
            <thead className="bg-muted/60 text-xs text-muted-foreground">
              <tr>
                <th className="px-2 py-1.5 text-left">name</th>
                <th className="px-2 py-1.5 text-left">class</th>
                <th className="px-2 py-1.5 text-left">status</th>
                <th className="px-2 py-1.5 text-left">hash</th>
                <th className="w-12 px-2 py-1.5 text-right">copy</th>
              </tr>
            </thead>
            <tbody>
              {list.experiments.map((x) => (
                <ExperimentRow key={`${x.name}-${x.hash}`} x={x} />
              ))}
            </tbody>
          </table>
        )}
      </CardContent>
    </Card>
  );
}

export function CodePage() {
  const manifest = useManifest();
  const m = manifest.data;
  return (
    <div className="grid gap-3" data-testid="code-page">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="flex items-center gap-2 text-lg font-semibold">
          <CodeXmlIcon className="size-5" /> Experiments in the code
        </h1>
        {m && (
          <span className="text-sm text-muted-foreground">
            {m.lists.length} list{m.lists.length === 1 ? "" : "s"} · {m.classes.length} classes
            {m.written_at && <> · read {formatTime(m.written_at)}</>}
          </span>
        )}
        <div className="ml-auto flex items-center gap-2">
          <Link to="/dag" search={{ source: "code" }} className="text-xs text-primary hover:underline">
            DAG from the code
          </Link>
          <ManifestRefresh />
        </div>
      </div>
      {manifest.error ? (
        dagIsMissingManifest(manifest.error) ? (
          <Card>
            <EmptyState title="The server does not know the code yet">
              Run <code>furu manifest</code> in the project (it imports the modules of <code>[tool.furu]</code> in <code>pyproject.toml</code>), or
              press <em>Refresh from code</em>.
            </EmptyState>
          </Card>
        ) : (
          <ErrorState error={manifest.error} retry={() => void manifest.refetch()} />
        )
      ) : !m ? (
        <LoadingState rows={5} label="Loading the code's experiments" />
      ) : (
        <>
          {m.errors.length > 0 && (
            <div className="rounded-md border border-amber-400/50 bg-amber-50 p-2 text-sm dark:bg-amber-500/10" role="alert" data-testid="manifest-errors">
              <div className="font-medium">furu manifest could not read all of the code:</div>
              <ul className="list-disc pl-5 font-mono text-xs">
                {m.errors.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            </div>
          )}
          {m.lists.length === 0 ? (
            <Card>
              <EmptyState title="The code names no experiments">
                A module-level <code>furu.FuruList</code> names experiments; its names become their display names here and in the experiments
                table.
              </EmptyState>
            </Card>
          ) : (
            m.lists.map((list) => <ListCard key={list.name} list={list} />)
          )}
        </>
      )}
    </div>
  );
}
