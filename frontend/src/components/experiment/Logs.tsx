import { ArrowDownToLineIcon } from "lucide-react";
import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "@/api/client";

import { ErrorState } from "../States";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Checkbox } from "../ui/input";

const TAIL_BYTES = 256 * 1024;
const POLL_MS = 700;

/** The step's `furu.log`: its last 256 KB, then new text as it is written while it runs. */
export function LogsTab({ namespace, hash }: { namespace: string; hash: string }) {
  const [text, setText] = useState("");
  const [running, setRunning] = useState(false);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [truncated, setTruncated] = useState(false);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stopped = false;
    let offset = -1;
    let timer = 0;
    const path = { namespace, hash };
    const poll = async () => {
      try {
        const chunk = await unwrap(
          api.GET("/api/experiments/{namespace}/{hash}/logs", {
            params: { path, query: offset < 0 ? { tail: TAIL_BYTES } : { offset } },
          }),
        );
        if (stopped) return;
        if (offset < 0) {
          setText(chunk.text);
          setTruncated(chunk.offset > 0);
        } else if (chunk.text) setText((t) => t + chunk.text);
        offset = chunk.next_offset;
        setRunning(chunk.running);
        setLoaded(true);
        setError(null);
        const again = !chunk.eof ? 0 : chunk.running ? POLL_MS : POLL_MS * 4;
        timer = window.setTimeout(poll, again);
      } catch (err) {
        if (stopped) return;
        setError(err);
        timer = window.setTimeout(poll, POLL_MS * 4);
      }
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [namespace, hash]);

  useEffect(() => {
    if (follow && pre.current && text) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  return (
    <div className="grid gap-2">
      <div className="flex items-center gap-3 text-sm">
        <span className="font-mono text-xs text-muted-foreground">.furu/furu.log</span>
        {running ? (
          <Badge variant="running" data-testid="log-live">
            <span className="size-1.5 animate-pulse rounded-full bg-current" /> live
          </Badge>
        ) : (
          loaded && <Badge variant="muted">not running</Badge>
        )}
        <label className="ml-auto flex items-center gap-1.5 text-xs">
          <Checkbox checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
        </label>
        <Button size="xs" variant="outline" onClick={() => pre.current && (pre.current.scrollTop = pre.current.scrollHeight)}>
          <ArrowDownToLineIcon /> end
        </Button>
      </div>
      {error != null && <ErrorState error={error} />}
      {truncated && <div className="text-xs text-muted-foreground">Showing the last {TAIL_BYTES / 1024} KB.</div>}
      <pre
        ref={pre}
        data-testid="log-text"
        className="h-[65vh] overflow-auto rounded-md border bg-zinc-950 p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-100"
        onScroll={(e) => {
          const el = e.currentTarget;
          const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          if (atEnd !== follow) setFollow(atEnd);
        }}
      >
        {loaded ? text || "(the log is empty)" : "Loading…"}
      </pre>
    </div>
  );
}
