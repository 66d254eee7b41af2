// One artifact shown: text as is, JSON pretty-printed, CSV as a table of its first rows,
// images, HTML in a sandboxed frame. Huge or binary files are offered for download only,
// and a preview never fetches more than PREVIEW_LIMIT bytes.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { useLoad } from "../session";
import type { FileInfo } from "../types";
import { ErrorBox } from "../components/ErrorBox";
import { Download } from "./Download";
import { CSV_ROWS, decodeText, formatBytes, imageType, kindOf, parseCsv, PREVIEW_LIMIT } from "./kind";

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text; // not JSON after all: shown as it is
  }
}

function CsvTable({ text, sep }: { text: string; sep: string }) {
  const rows = useMemo(() => parseCsv(text, CSV_ROWS + 1, sep), [text, sep]);
  const [head, ...body] = rows;
  if (!head) return <p class="muted">Empty file.</p>;
  return (
    <div class="table-wrap">
      <table class="grid csv-preview">
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {body.length >= CSV_ROWS && <p class="muted">The first {CSV_ROWS} rows.</p>}
    </div>
  );
}

function ImagePreview({ bytes, type, alt }: { bytes: Uint8Array; type: string; alt: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
    setSrc(u);
    return () => URL.revokeObjectURL(u);
  }, [bytes, type]);
  return src ? <img class="artifact-image" src={src} alt={alt} /> : null;
}

// sandbox="" (no allow-scripts, no allow-same-origin): the document runs no script, has an
// opaque origin (cannot reach this page, its storage or the API), cannot navigate the top
// page, submit forms or open windows; it inherits this page's CSP too (no other origin).
function HtmlPreview({ html }: { html: string }) {
  return <iframe class="artifact-html" sandbox="" srcdoc={html} title="HTML artifact preview" referrerpolicy="no-referrer" />;
}

function Preview({ url, file }: { url: string; file: FileInfo }) {
  const load = useLoad(() => api.fetchArtifact(url, PREVIEW_LIMIT), [url]);
  if (load.state === "loading") return <p class="muted">Loading…</p>;
  if (load.state === "error") return <ErrorBox error={load.error} />;
  const kind = kindOf(file.path);
  const { bytes, truncated } = load.data;
  const type = imageType(file.path);
  if (kind === "image" && type && !truncated) return <ImagePreview bytes={bytes} type={type} alt={file.path} />;
  const text = decodeText(bytes);
  if (text === null) return <p class="muted not-previewed">A binary file: not previewed.</p>;
  const cut = truncated ? <p class="muted">The first {formatBytes(PREVIEW_LIMIT)} only.</p> : null;
  if (kind === "csv") return <CsvTable text={text} sep={file.path.toLowerCase().endsWith(".tsv") ? "\t" : ","} />;
  if (kind === "html" && !truncated) return <HtmlPreview html={text} />;
  return (
    <>
      <pre class={kind === "json" ? "artifact-text json" : "artifact-text"}>{kind === "json" && !truncated ? prettyJson(text) : text}</pre>
      {cut}
    </>
  );
}

export function ArtifactPreview({ url, file }: { url: string; file: FileInfo }) {
  const name = baseName(file.path);
  const tooBig = (file.file_size ?? 0) > PREVIEW_LIMIT;
  const binary = kindOf(file.path) === "binary";
  return (
    <div class="artifact-preview" data-path={file.path}>
      <div class="artifact-head">
        <span class="mono">{file.path}</span> <span class="muted">{formatBytes(file.file_size)}</span> <Download url={url} name={name} />
      </div>
      {tooBig || binary ? (
        <p class="muted not-previewed">
          {tooBig ? `Too large to preview (${formatBytes(file.file_size)}).` : "A binary file: not previewed."} Download it to open it.
        </p>
      ) : (
        <Preview url={url} file={file} />
      )}
    </div>
  );
}
