import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import {
  ChartLineIcon,
  ChevronLeftIcon,
  FileTextIcon,
  FolderTreeIcon,
  InfoIcon,
  NetworkIcon,
  ScrollTextIcon,
  ZapIcon,
} from "lucide-react";
import { lazy, Suspense, useMemo } from "react";

import { ApiError } from "@/api/client";
import { useExperiment, useLineage, useRelationships, useSnippet } from "@/api/queries";
import { CopyButton } from "@/components/CopyButton";
import { ActionsTab } from "@/components/experiment/Actions";
import { ConfigTree, stepRefs } from "@/components/experiment/ConfigTree";
import { AttemptCard, CodeCard, MetadataCard, RelationshipsCard } from "@/components/experiment/Details";
import { FilesTab } from "@/components/experiment/Files";
import { Labels } from "@/components/experiment/Labels";
import { LogsTab } from "@/components/experiment/Logs";
import { EmptyState, ErrorState, LoadingState } from "@/components/States";
import { CodeChangeNote } from "@/components/experiment/CodeChangeNote";
import { StaleBadge } from "@/components/StaleBadge";
import { ExperimentStatus, isInvalidated, StatusBadge } from "@/components/StatusBadge";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { formatBytes } from "@/lib/format";
import { lastExperimentsSearch } from "@/lib/lastSearch";

/** The reason recorded with the latest attempt (an invalidation writes one). */
function attemptReason(e: { state: unknown }): string | null {
  const attempt = ((e.state ?? {}) as { attempt?: { reason?: unknown } | null }).attempt;
  return typeof attempt?.reason === "string" ? attempt.reason : null;
}

const ChartsTab = lazy(() => import("@/components/charts/ChartsTab").then((m) => ({ default: m.ChartsTab })));
const LineageGraph = lazy(() => import("@/components/graph/LineageGraph").then((m) => ({ default: m.LineageGraph })));

const route = getRouteApi("/experiments/$namespace/$hash");
const TABS = ["overview", "files", "logs", "charts", "lineage", "actions"] as const;

export function ExperimentPage() {
  const { namespace, hash } = route.useParams();
  const search = route.useSearch();
  const navigate = useNavigate({ from: "/experiments/$namespace/$hash" });
  const tab = TABS.includes(search.tab as (typeof TABS)[number]) ? (search.tab as string) : "overview";
  const experiment = useExperiment(namespace, hash);
  const rel = useRelationships(namespace, hash);
  const lineage = useLineage(namespace, hash);
  const snippet = useSnippet(namespace, hash);
  const refs = useMemo(
    () => stepRefs(`${namespace}/${hash}`, lineage.data?.edges ?? []),
    [lineage.data, namespace, hash],
  );

  if (experiment.error) {
    const missing = experiment.error instanceof ApiError && experiment.error.code === "experiment_not_found";
    return missing ? (
      <EmptyState title="No such experiment in this store">
        <span className="font-mono">{namespace}/{hash}</span> may have been deleted.{" "}
        <Link to="/experiments" search={lastExperimentsSearch()} className="text-primary underline">Back to the experiments</Link>
      </EmptyState>
    ) : (
      <ErrorState error={experiment.error} retry={() => void experiment.refetch()} />
    );
  }
  const e = experiment.data;
  if (!e) return <LoadingState rows={8} label="Loading experiment" />;

  return (
    <div className="grid gap-4" data-testid="experiment-page">
      <div className="flex flex-wrap items-start gap-4">
        <div className="grid min-w-0 flex-1 gap-1">
          <Link to="/experiments" search={lastExperimentsSearch()} data-testid="back-to-experiments" className="flex items-center gap-1 text-xs text-muted-foreground hover:text-foreground">
            <ChevronLeftIcon className="size-3" /> Experiments
          </Link>
          <div className="flex flex-wrap items-center gap-2">
            {e.display_name ? (
              <>
                <h1 className="text-xl font-semibold" data-testid="experiment-title">{e.display_name}</h1>
                <span className="text-sm text-muted-foreground" data-testid="experiment-class">{e.class_name}</span>
              </>
            ) : (
              <h1 className="text-xl font-semibold" data-testid="experiment-class">{e.class_name}</h1>
            )}
            {isInvalidated(e.result_status, e.attempt_status) ? (
              <ExperimentStatus result={e.result_status} attempt={e.attempt_status} reason={attemptReason(e)} />
            ) : (
              <>
                <StatusBadge status={e.result_status} title="result status" />
                {e.attempt_status && e.attempt_status !== e.result_status && <StatusBadge status={e.attempt_status} title="attempt status" />}
              </>
            )}
            {e.version_controlled && <Badge variant="outline">version-controlled</Badge>}
            <StaleBadge stale={e.stale} kind={e.stale_kind} reason={e.stale_reason} namespace={e.namespace} />
          </div>
          <CodeChangeNote e={e} />
          <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted-foreground">
            <span className="font-mono">{e.namespace}</span>
            <span className="font-mono" data-testid="experiment-hash">{e.hash}</span>
            <span>{formatBytes(e.sizes.total_bytes)} in {e.sizes.file_count} files</span>
            {e.class_bases.length > 0 && <span>subclass of {e.class_bases.join(", ")}</span>}
          </div>
          <Labels e={e} />
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <CopyButton text={e.hash} what="hash" label="Hash" />
          <CopyButton text={snippet.data?.code ?? e.python_def ?? ""} what="Python snippet" label="Python" />
          <CopyButton text={e.furu_dir} what="directory path" label="Path" />
        </div>
      </div>

      <Tabs value={tab} onValueChange={(t) => void navigate({ search: (prev) => ({ ...prev, tab: t === "overview" ? undefined : t }) })}>
        <TabsList>
          <TabsTrigger value="overview"><InfoIcon /> Overview</TabsTrigger>
          <TabsTrigger value="files"><FolderTreeIcon /> Files</TabsTrigger>
          <TabsTrigger value="logs"><ScrollTextIcon /> Logs</TabsTrigger>
          <TabsTrigger value="charts"><ChartLineIcon /> Charts</TabsTrigger>
          <TabsTrigger value="lineage"><NetworkIcon /> Lineage</TabsTrigger>
          <TabsTrigger value="actions"><ZapIcon /> Actions</TabsTrigger>
        </TabsList>
        <TabsContent value="overview">
          <div className="grid gap-4 xl:grid-cols-2">
            <Card>
              <CardHeader>
                <CardTitle>Config</CardTitle>
                <FileTextIcon className="ml-auto size-4 text-muted-foreground" />
              </CardHeader>
              <CardContent className="max-h-[70vh] overflow-auto">
                <ConfigTree config={e.config} refs={refs} />
              </CardContent>
            </Card>
            <div className="grid content-start gap-4">
              <RelationshipsCard rel={rel.data} />
              <AttemptCard e={e} />
            </div>
            <CodeCard e={e} />
            <MetadataCard e={e} />
          </div>
        </TabsContent>
        <TabsContent value="files">
          <FilesTab namespace={namespace} hash={hash} file={search.file ?? null} onFile={(f) => void navigate({ search: (prev) => ({ ...prev, file: f }) })} />
        </TabsContent>
        <TabsContent value="logs">
          <LogsTab namespace={namespace} hash={hash} />
        </TabsContent>
        <TabsContent value="charts">
          <Suspense fallback={<LoadingState />}>{tab === "charts" && <ChartsTab namespace={namespace} hash={hash} />}</Suspense>
        </TabsContent>
        <TabsContent value="lineage">
          <Suspense fallback={<LoadingState />}>{tab === "lineage" && lineage.data && <LineageGraph lineage={lineage.data} />}</Suspense>
          {lineage.error && <ErrorState error={lineage.error} />}
        </TabsContent>
        <TabsContent value="actions">
          <ActionsTab e={e} />
        </TabsContent>
      </Tabs>
    </div>
  );
}
