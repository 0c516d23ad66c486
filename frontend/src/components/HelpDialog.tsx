import { SHORTCUTS } from "@/lib/keyboard";

import { Dialog, DialogContent, DialogDescription, DialogTitle } from "./ui/dialog";

export function HelpDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent aria-describedby="help-desc">
        <DialogTitle>Keyboard shortcuts</DialogTitle>
        <DialogDescription id="help-desc">Keys work anywhere outside a text field.</DialogDescription>
        <table className="text-sm">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.keys} className="border-b last:border-0">
                <td className="py-1.5 pr-4">
                  {s.keys.split(" ").map((k, i) =>
                    k === "/" && s.keys.includes(" / ") ? (
                      <span key={i} className="px-1 text-muted-foreground">/</span>
                    ) : (
                      <kbd key={i} className="mr-1 rounded border bg-muted px-1.5 py-0.5 font-mono text-xs">{k}</kbd>
                    ),
                  )}
                </td>
                <td className="py-1.5 text-muted-foreground">{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </DialogContent>
    </Dialog>
  );
}
