import { CheckIcon, PencilIcon, PlusIcon, XIcon } from "lucide-react";
import { useEffect, useState } from "react";

import type { ExperimentDetail } from "@/api/client";
import { useSetName, useSetTags } from "@/api/queries";

import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Input } from "../ui/input";

/** The experiment's name and tags, editable in place (stored in `.furu/tags.json`). */
export function Labels({ e }: { e: ExperimentDetail }) {
  const ref = { namespace: e.namespace, hash: e.hash };
  const setName = useSetName();
  const setTags = useSetTags();
  const [editing, setEditing] = useState(false);
  const [name, setNameText] = useState(e.name ?? "");
  const [tag, setTag] = useState("");
  // Edits apply at once here, and are saved in order (quick successive edits are not lost).
  const [tags, setLocalTags] = useState(e.tags);
  const serverTags = e.tags.join("\u0000");
  useEffect(() => setLocalTags(serverTags ? serverTags.split("\u0000") : []), [serverTags]);
  const saveTags = (next: string[]) => {
    setLocalTags(next);
    setTags.mutate({ ref, tags: next });
  };
  const error = setName.error ?? setTags.error;
  return (
    <div className="grid gap-2">
      <div className="flex items-center gap-2">
        {editing ? (
          <form
            className="flex items-center gap-1"
            onSubmit={(ev) => {
              ev.preventDefault();
              setName.mutate({ ref, name: name.trim() || null }, { onSuccess: () => setEditing(false) });
            }}
          >
            <Input aria-label="Name" autoFocus value={name} onChange={(ev) => setNameText(ev.target.value)} className="h-8 w-64" placeholder="a name for this experiment" />
            <Button size="icon" type="submit" aria-label="Save name">
              <CheckIcon />
            </Button>
            <Button size="icon" variant="ghost" type="button" aria-label="Cancel" onClick={() => setEditing(false)}>
              <XIcon />
            </Button>
          </form>
        ) : (
          <>
            <span className={e.name ? "text-base font-medium" : "text-muted-foreground italic"} data-testid="experiment-name">
              {e.name ?? "unnamed"}
            </span>
            <Button
              size="xs"
              variant="ghost"
              aria-label="Rename"
              onClick={() => {
                setNameText(e.name ?? "");
                setEditing(true);
              }}
            >
              <PencilIcon className="size-3.5" />
            </Button>
          </>
        )}
      </div>
      <div className="flex flex-wrap items-center gap-1.5" data-testid="tags">
        {tags.map((t) => (
          <Badge key={t} variant="secondary" className="gap-0.5 pr-0.5">
            {t}
            <button
              type="button"
              className="cursor-pointer rounded px-0.5 hover:bg-muted"
              aria-label={`Remove tag ${t}`}
              onClick={() => saveTags(tags.filter((x) => x !== t))}
            >
              <XIcon className="size-3" />
            </button>
          </Badge>
        ))}
        <form
          className="flex items-center gap-1"
          onSubmit={(ev) => {
            ev.preventDefault();
            const t = tag.trim();
            if (t && !tags.includes(t)) saveTags([...tags, t]);
            setTag("");
          }}
        >
          <Input aria-label="New tag" value={tag} onChange={(ev) => setTag(ev.target.value)} placeholder="add tag" className="h-6 w-24 px-1.5 text-xs" />
          <Button size="xs" variant="ghost" type="submit" aria-label="Add tag">
            <PlusIcon className="size-3.5" />
          </Button>
        </form>
      </div>
      {error && <div className="text-xs text-destructive" role="alert">{error.message}</div>}
    </div>
  );
}
