import { KeyRoundIcon } from "lucide-react";
import { useEffect, useRef, useState } from "react";

import { getToken, registerTokenAsker, setToken } from "@/api/client";

import { Button } from "./ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogTitle, DialogTrigger } from "./ui/dialog";
import { Input } from "./ui/input";

/**
 * Where a user pastes the server's token when the dashboard was opened without `?token=`.
 *
 * It opens by itself when the server refuses a change for the lack of the token (the API
 * client asks it, see `registerTokenAsker`): saving sends the change again with the token,
 * cancelling leaves the refusal to show where the action was started.
 */
export function TokenDialog() {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(getToken() ?? "");
  const [why, setWhy] = useState<string | null>(null);
  const pending = useRef<((token: string | null) => void) | null>(null);
  const has = !!getToken();

  useEffect(() => {
    registerTokenAsker(
      (reason) =>
        new Promise((resolve) => {
          pending.current?.(null);
          pending.current = resolve;
          setWhy(reason);
          setValue("");
          setOpen(true);
        }),
    );
    return () => registerTokenAsker(null);
  }, []);

  const finish = (token: string | null) => {
    pending.current?.(token);
    pending.current = null;
    setWhy(null);
    setOpen(false);
  };
  const save = () => {
    const token = value.trim() || null;
    setToken(token);
    finish(token);
  };

  return (
    <Dialog open={open} onOpenChange={(o) => (o ? setOpen(true) : finish(null))}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="icon" aria-label="Server token" title={has ? "Token set" : "No token: actions will ask for it"}>
          <KeyRoundIcon className={has ? "" : "text-amber-500"} />
        </Button>
      </DialogTrigger>
      <DialogContent data-testid="token-dialog" data-prompt={why ? "" : undefined}>
        <DialogTitle>Server token</DialogTitle>
        <DialogDescription>
          {why && (
            <span className="mb-2 block font-medium text-foreground" role="alert">
              {why} Paste it to go on.
            </span>
          )}
          Deleting, invalidating, tagging and rerunning need the token that <code>furu-dashboard serve</code> prints
          in its URL (<code>?token=…</code>). Opening that URL sets it; or paste it here.
        </DialogDescription>
        <form
          className="grid gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <Input value={value} onChange={(e) => setValue(e.target.value)} placeholder="token" aria-label="token" autoFocus />
          <DialogFooter>
            {why && (
              <Button type="button" variant="outline" onClick={() => finish(null)}>
                Cancel
              </Button>
            )}
            <Button type="submit">{why ? "Save and retry" : "Save"}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
