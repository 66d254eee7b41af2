// A run's artifacts: a tree (folders listed when opened, through artifacts/list) beside the
// preview of the chosen file.
import { useState } from "preact/hooks";
import { api, artifactUrl } from "../api";
import { useLoad } from "../session";
import type { FileInfo } from "../types";
import { ErrorBox } from "../components/ErrorBox";
import { ArtifactPreview } from "./ArtifactPreview";
import { formatBytes } from "./kind";

interface TreeProps {
  runId: string;
  path: string;
  selected: string | null;
  onSelect: (f: FileInfo) => void;
}

function Folder({ runId, path, selected, onSelect }: TreeProps) {
  const load = useLoad(() => api.listArtifacts(runId, path), [runId, path]);
  if (load.state === "loading") return <p class="muted">Loading…</p>;
  if (load.state === "error") return <ErrorBox error={load.error} />;
  const files = load.data.files ?? [];
  if (files.length === 0 && path === "") return <p class="muted">No artifacts.</p>;
  return (
    <ul class="artifact-tree">
      {files.map((f) => (
        <Entry key={f.path} runId={runId} file={f} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function Entry({ runId, file, selected, onSelect }: { runId: string; file: FileInfo; selected: string | null; onSelect: (f: FileInfo) => void }) {
  const [open, setOpen] = useState(false);
  const name = file.path.slice(file.path.lastIndexOf("/") + 1);
  if (file.is_dir)
    return (
      <li>
        <button type="button" class="link folder" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "▾" : "▸"} {name}/
        </button>
        {open && <Folder runId={runId} path={file.path} selected={selected} onSelect={onSelect} />}
      </li>
    );
  return (
    <li>
      <button type="button" class={selected === file.path ? "link file selected" : "link file"} onClick={() => onSelect(file)}>
        {name}
      </button>{" "}
      <span class="muted">{formatBytes(file.file_size)}</span>
    </li>
  );
}

export function ArtifactBrowser({ runId, rootUri }: { runId: string; rootUri: string }) {
  const [file, setFile] = useState<FileInfo | null>(null);
  const url = file ? artifactUrl(rootUri, file.path) : null;
  return (
    <div class="artifacts">
      <nav class="artifact-nav" aria-label="Artifacts">
        <Folder runId={runId} path="" selected={file?.path ?? null} onSelect={setFile} />
      </nav>
      <div class="artifact-main">
        {!file && <p class="muted">Choose a file to preview it.</p>}
        {file && url && <ArtifactPreview key={file.path} url={url} file={file} />}
        {file && !url && <p class="muted">This run's artifacts are stored at {rootUri}, outside forja server: open them there.</p>}
      </div>
    </div>
  );
}
