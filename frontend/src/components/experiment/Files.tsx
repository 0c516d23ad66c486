import { ChevronDownIcon, ChevronRightIcon, DownloadIcon, FileIcon, FolderIcon } from "lucide-react";
import { useMemo, useState } from "react";

import { fileUrl, type ArtifactEntry } from "@/api/client";
import { useArtifacts, usePreview } from "@/api/queries";
import { formatBytes, formatValue } from "@/lib/format";
import { cn } from "@/lib/utils";

import { EmptyState, ErrorState, LoadingState } from "../States";
import { Button } from "../ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "../ui/card";
import { Truncations } from "./Truncations";

type TreeNode = { name: string; path: string; entry?: ArtifactEntry; children: TreeNode[]; size: number };

export function buildTree(entries: ArtifactEntry[]): TreeNode {
  const root: TreeNode = { name: "", path: "", children: [], size: 0 };
  const byPath = new Map<string, TreeNode>([["", root]]);
  const ensure = (path: string): TreeNode => {
    const found = byPath.get(path);
    if (found) return found;
    const i = path.lastIndexOf("/");
    const parent = ensure(i < 0 ? "" : path.slice(0, i));
    const node: TreeNode = { name: path.slice(i + 1), path, children: [], size: 0 };
    parent.children.push(node);
    byPath.set(path, node);
    return node;
  };
  for (const e of entries) {
    const node = ensure(e.path);
    node.entry = e;
    if (e.type === "file") {
      node.size = e.size;
      let p = e.path;
      while (p.includes("/")) {
        p = p.slice(0, p.lastIndexOf("/"));
        (byPath.get(p) as TreeNode).size += e.size;
      }
      root.size += e.size;
    }
  }
  const sort = (n: TreeNode) => {
    n.children.sort((a, b) => Number(b.children.length > 0) - Number(a.children.length > 0) || a.name.localeCompare(b.name));
    n.children.forEach(sort);
  };
  sort(root);
  return root;
}

function TreeRow({ node, depth, selected, onSelect }: { node: TreeNode; depth: number; selected: string | null; onSelect: (p: string) => void }) {
  const isDir = node.entry?.type === "dir" || node.children.length > 0;
  const [open, setOpen] = useState(!node.name.startsWith("."));
  return (
    <>
      <button
        type="button"
        className={cn(
          "flex w-full cursor-pointer items-center gap-1.5 rounded px-1.5 py-1 text-left text-sm hover:bg-muted",
          selected === node.path && "bg-accent text-accent-foreground",
        )}
        style={{ paddingLeft: depth * 14 + 6 }}
        onClick={() => (isDir ? setOpen(!open) : onSelect(node.path))}
        data-file={isDir ? undefined : node.path}
        aria-expanded={isDir ? open : undefined}
      >
        {isDir ? (
          <>
            {open ? <ChevronDownIcon className="size-3.5" /> : <ChevronRightIcon className="size-3.5" />}
            <FolderIcon className="size-4 text-amber-500" />
          </>
        ) : (
          <FileIcon className="ml-5 size-4 text-muted-foreground" />
        )}
        <span className="min-w-0 flex-1 truncate font-mono text-xs">{node.name}</span>
        <span className="shrink-0 text-xs tabular-nums text-muted-foreground">{formatBytes(node.size)}</span>
      </button>
      {isDir && open && node.children.map((c) => <TreeRow key={c.path} node={c} depth={depth + 1} selected={selected} onSelect={onSelect} />)}
    </>
  );
}

const PAGE_ROWS = 50;

/** A page of a file: a table with column types, JSON, text, or an image. */
export function FileViewer({ namespace, hash, path }: { namespace: string; hash: string; path: string }) {
  const [offset, setOffset] = useState(0);
  const preview = usePreview(namespace, hash, path, offset, PAGE_ROWS);
  const url = fileUrl(namespace, hash, path);
  if (preview.error) return <ErrorState error={preview.error} />;
  const p = preview.data;
  if (!p || p.path !== path) return <LoadingState rows={6} label="Loading file" />;
  return (
    <div className="grid gap-2" data-testid="file-viewer" data-kind={p.kind}>
      <div className="flex items-center gap-2 text-sm">
        <span className="font-mono font-medium">{p.path}</span>
        <span className="text-xs text-muted-foreground">
          {formatBytes(p.size)} · {p.mime}
        </span>
        <Button asChild size="xs" variant="outline" className="ml-auto">
          <a href={url} download>
            <DownloadIcon /> raw
          </a>
        </Button>
      </div>
      {p.kind === "table" && p.columns && p.rows && (
        <>
          <div className="max-h-[60vh] overflow-auto rounded-md border">
            <table className="w-full text-xs" data-testid="preview-table">
              <thead className="sticky top-0 bg-muted">
                <tr>
                  <th className="px-2 py-1 text-right font-normal text-muted-foreground">#</th>
                  {p.columns.map((c) => (
                    <th key={c.name} className="px-2 py-1 text-left font-medium">
                      {c.name} <span className="font-mono font-normal text-muted-foreground">{c.type}</span>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {p.rows.map((row, i) => (
                  <tr key={p.offset + i} className="border-t">
                    <td className="px-2 py-0.5 text-right text-muted-foreground tabular-nums">{p.offset + i}</td>
                    {row.map((v, j) => (
                      <td key={j} className="max-w-80 truncate px-2 py-0.5 font-mono">
                        {formatValue(v)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="flex items-center gap-2 text-xs text-muted-foreground">
            rows {p.total_rows === 0 ? 0 : p.offset + 1}–{p.offset + p.rows.length}
            {p.total_rows != null && ` of ${p.total_rows.toLocaleString("en-US")}`}
            <Button size="xs" variant="outline" className="ml-auto" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_ROWS))}>
              Previous
            </Button>
            <Button size="xs" variant="outline" disabled={p.total_rows != null ? offset + PAGE_ROWS >= p.total_rows : p.rows.length < PAGE_ROWS} onClick={() => setOffset(offset + PAGE_ROWS)}>
              Next
            </Button>
          </div>
        </>
      )}
      {p.kind === "json" && <pre className="max-h-[60vh] overflow-auto rounded-md bg-muted p-2 font-mono text-xs">{JSON.stringify(p.value, null, 2)}</pre>}
      {p.kind === "text" && <pre className="max-h-[60vh] overflow-auto rounded-md bg-muted p-2 font-mono text-xs whitespace-pre-wrap">{p.text}</pre>}
      {p.kind === "image" && <img src={url} alt={p.path} className="max-h-[60vh] max-w-full rounded-md border bg-[repeating-conic-gradient(#8882_0_25%,transparent_0_50%)] bg-[length:16px_16px] object-contain" />}
      {p.kind === "binary" && <div className="text-sm text-muted-foreground">A binary file: download it to look inside.</div>}
      {p.truncated && p.kind !== "table" && !p.truncations?.length && <div className="text-xs text-muted-foreground">Showing the start of the file.</div>}
      <Truncations items={p.truncations} what="This preview" />
    </div>
  );
}

export function FilesTab({ namespace, hash, file, onFile }: { namespace: string; hash: string; file: string | null; onFile: (p: string) => void }) {
  const artifacts = useArtifacts(namespace, hash);
  const tree = useMemo(() => (artifacts.data ? buildTree(artifacts.data.entries) : null), [artifacts.data]);
  if (artifacts.error) return <ErrorState error={artifacts.error} retry={() => void artifacts.refetch()} />;
  if (!tree || !artifacts.data) return <LoadingState rows={6} label="Loading files" />;
  return (
    <div className="grid gap-4 lg:grid-cols-[minmax(18rem,24rem)_1fr]">
      <Card>
        <CardHeader>
          <CardTitle>Files</CardTitle>
          <span className="ml-auto text-xs text-muted-foreground">
            {artifacts.data.file_count} files · {formatBytes(artifacts.data.total_bytes)}
          </span>
        </CardHeader>
        <CardContent className="max-h-[70vh] overflow-auto p-2" data-testid="file-tree">
          {tree.children.map((n) => (
            <TreeRow key={n.path} node={n} depth={0} selected={file} onSelect={onFile} />
          ))}
          {artifacts.data.truncated && <div className="p-2 text-xs text-muted-foreground">The listing was cut short (too many files).</div>}
        </CardContent>
      </Card>
      <Card>
        <CardContent>
          {file ? <FileViewer key={file} namespace={namespace} hash={hash} path={file} /> : <EmptyState title="Pick a file to view it">JSON, JSON lines, CSV and parquet show as tables; text and images as themselves.</EmptyState>}
        </CardContent>
      </Card>
    </div>
  );
}
