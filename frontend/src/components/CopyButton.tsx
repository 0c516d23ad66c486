import { CheckIcon, CopyIcon } from "lucide-react";
import { useState } from "react";

import { Button } from "@/components/ui/button";

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not a secure context (plain http on another name): fall back to a hidden textarea.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** Copies `text` to the clipboard; says so for a moment. */
export function CopyButton({ text, label, what }: { text: string; label?: string; what: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      variant="outline"
      size={label ? "sm" : "icon"}
      aria-label={`Copy ${what}`}
      title={`Copy ${what}`}
      data-copy={what}
      onClick={async () => {
        await copyText(text);
        setCopied(true);
        window.setTimeout(() => setCopied(false), 1200);
      }}
    >
      {copied ? <CheckIcon className="text-emerald-600" /> : <CopyIcon />}
      {label && <span>{copied ? "Copied" : label}</span>}
    </Button>
  );
}
