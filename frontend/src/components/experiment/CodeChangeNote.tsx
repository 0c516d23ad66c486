import { Link, useNavigate } from "@tanstack/react-router";
import { ArrowRightIcon, HistoryIcon, Link2Icon, TriangleAlertIcon, Undo2Icon } from "lucide-react";
import { useState } from "react";

import { useUndoMigration } from "@/api/code";
import { parseRef, type ExperimentDetail } from "@/api/client";
import { staleKind, staleText } from "@/lib/evolution";
import { formatAgo, formatTime } from "@/lib/format";

import { ConfirmDialog } from "../ConfirmDialog";
import { ExperimentLink } from "../ExperimentLink";
import { Button } from "../ui/button";

function RefLink({ refText }: { refText: string }) {
  const { namespace, hash } = parseRef(refText);
  return (
    <ExperimentLink namespace={namespace} hash={hash} className="font-mono text-primary hover:underline">
      {hash.slice(0, 10)}
    </ExperimentLink>
  );
}

/**
 * What a code change did to this experiment: why it is stale (with the way to the migration
 * helper), the experiment it was migrated from (its files are links into it), and the
 * migrations made from it.
 */
export function CodeChangeNote({ e }: { e: ExperimentDetail }) {
  const from = e.migration ?? null;
  const undo = useUndoMigration();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState(false);
  const to = (e.migrations ?? []).filter((m) => m.migrated_to !== `${e.namespace}/${e.hash}`);
  if (!e.stale && !from && to.length === 0) return null;
  return (
    <div className="grid gap-1 text-xs" data-testid="code-change">
      {e.stale && (
        <div className="flex flex-wrap items-center gap-1.5 text-amber-700 dark:text-amber-300" data-testid="stale-reason">
          <HistoryIcon className="size-3.5" />
          <span>
            Stale{(e.stale_kind ?? staleKind(e.stale_reason)) ? ` (${e.stale_kind ?? staleKind(e.stale_reason)})` : ""}: {staleText(e.stale_reason)}.
          </span>
          <Link to="/migrate" search={{ ns: e.namespace }} className="text-primary hover:underline">
            Migrate…
          </Link>
        </div>
      )}
      {from && (
        <div className="flex flex-wrap items-center gap-1.5 text-muted-foreground" data-testid="migrated-from">
          <Link2Icon className="size-3.5" />
          <span>migrated from</span>
          <RefLink refText={from.migrated_from} />
          {from.at && <span title={formatTime(from.at)}>{formatAgo(from.at)}</span>}
          {from.by && <span>by {from.by}</span>}
          {from.how && <span>({from.how})</span>}
          <span>· its files are links into that directory</span>
          <Button variant="outline" size="xs" onClick={() => setConfirm(true)}>
            <Undo2Icon /> Undo migration…
          </Button>
          {from.broken && (
            <span className="flex items-center gap-1 text-destructive">
              <TriangleAlertIcon className="size-3.5" /> broken: the old directory is gone, recompute it
            </span>
          )}
        </div>
      )}
      {to.map((m, i) => (
        <div key={`${m.migrated_to}-${i}`} className="flex flex-wrap items-center gap-1.5 text-muted-foreground" data-testid="migrated-to">
          <ArrowRightIcon className="size-3.5" />
          <span>{m.undone ? "migration undone:" : "migrated to"}</span>
          <RefLink refText={m.migrated_to} />
          {m.at && <span title={formatTime(m.at)}>{formatAgo(m.at)}</span>}
          {m.by && <span>by {m.by}</span>}
        </div>
      ))}
      {from && (
        <ConfirmDialog
          open={confirm}
          onOpenChange={setConfirm}
          title="Undo this migration?"
          confirm="Undo migration"
          onConfirm={async () => {
            await undo.mutateAsync(`${e.namespace}/${e.hash}`);
            const old = parseRef(from.migrated_from);
            await navigate({ to: "/experiments/$namespace/$hash", params: old });
          }}
        >
          <p>
            This directory (the alias, whose files are links) is removed; the result it reused stays in{" "}
            <span className="font-mono">{from.migrated_from}</span>, which records the undo. The current code then computes this config again
            unless you migrate it anew.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
