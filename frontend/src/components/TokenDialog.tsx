import { KeyRoundIcon } from "lucide-react";
import { useState } from "react";

import { getToken, setToken } from "@/api/client";

import { Button } from "./ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogTitle, DialogTrigger } from "./ui/dialog";
import { Input } from "./ui/input";

/** Where a user pastes the server's token when the dashboard was opened without `?token=`. */
export function TokenDialog() {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(getToken() ?? "");
  const has = !!getToken();
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="icon" aria-label="Server token" title={has ? "Token set" : "No token: actions are disabled"}>
          <KeyRoundIcon className={has ? "" : "text-amber-500"} />
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogTitle>Server token</DialogTitle>
        <DialogDescription>
          Deleting, invalidating, tagging and rerunning need the token that <code>furu-dashboard serve</code> prints
          in its URL (<code>?token=…</code>). Opening that URL sets it; or paste it here.
        </DialogDescription>
        <Input value={value} onChange={(e) => setValue(e.target.value)} placeholder="token" aria-label="token" />
        <DialogFooter>
          <Button
            onClick={() => {
              setToken(value.trim() || null);
              setOpen(false);
            }}
          >
            Save
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
