/** "Rerun these" / "Run what is missing" for the selected rows: planned as soon as it opens,
 * launched as one batch, followed in place. */
import { RocketIcon } from "lucide-react";

import { useLaunchBatch, usePlanBatch } from "@/api/sweeps";

import { BatchProgress, PlanView } from "./BatchPanel";
import { ErrorState } from "./States";
import { Button } from "./ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogTitle } from "./ui/dialog";

export type BatchMode = "rerun" | "missing";

const TEXT: Record<BatchMode, { title: string; what: string }> = {
  rerun: { title: "Rerun these", what: "Each selected experiment is computed again, even when cached." },
  missing: {
    title: "Run what is missing",
    what: "The selected experiments that are not cached (missing, failed, invalidated) are computed, after the dependencies they miss.",
  },
};

/** Mounted while open (`mode` chosen): plans at once, launches on request. */
export function BatchDialog({ mode, refs, onClose }: { mode: BatchMode; refs: string[]; onClose: () => void }) {
  const plan = usePlanBatch({ experiments: refs, mode, executor: "local" });
  const launch = useLaunchBatch();
  const planned = plan.data;
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent className="max-w-2xl" data-testid="batch-dialog">
        <DialogTitle>
          {TEXT[mode].title} ({refs.length} selected)
        </DialogTitle>
        <DialogDescription>{TEXT[mode].what} It runs in the project's environment on the server's machine.</DialogDescription>
        {plan.isPending && <div className="text-sm text-muted-foreground">Planning in the project's environment…</div>}
        {plan.error && <ErrorState error={plan.error} />}
        {planned && <PlanView plan={planned} />}
        {launch.error && <ErrorState error={launch.error} />}
        {launch.data && planned && <BatchProgress taskId={launch.data.id} items={[...planned.items, ...planned.dependencies]} />}
        <DialogFooter>
          <Button variant="outline" onClick={onClose}>
            Close
          </Button>
          <Button
            disabled={!planned || launch.isPending || launch.data !== undefined || planned.to_create + planned.dependencies.length === 0}
            onClick={() => launch.mutate({ experiments: refs, mode, executor: "local" })}
          >
            <RocketIcon /> Launch {planned ? `(${planned.to_create + planned.dependencies.length} to create)` : ""}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
