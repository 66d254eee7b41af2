// What an artifact's preview is, from its name and (once fetched) its bytes. Anything over
// PREVIEW_LIMIT, or binary, is offered for download only.
export const PREVIEW_LIMIT = 4 * 1024 * 1024;
export const CSV_ROWS = 100;
export const CSV_COLUMNS = 200; // a hostile or very wide file stays a table one can render

export type Kind = "text" | "json" | "csv" | "image" | "html" | "binary";

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  svg: "image/svg+xml",
};

function extension(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

export function imageType(path: string): string | undefined {
  return IMAGE_TYPES[extension(path)];
}

// By name; "text" is a guess the bytes may overrule (see decodeText).
export function kindOf(path: string): Kind {
  const ext = extension(path);
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv") return "csv";
  if (ext === "html" || ext === "htm") return "html";
  if (IMAGE_TYPES[ext]) return "image";
  if (["pkl", "pickle", "pt", "pth", "onnx", "bin", "npy", "npz", "parquet", "h5", "gz", "zip", "tar", "whl", "so", "joblib", "safetensors"].includes(ext))
    return "binary";
  return "text";
}

// UTF-8 text, or null for bytes that are not (a NUL, or invalid UTF-8: binary).
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.subarray(0, 8192).includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // A preview cut mid-character is still text: retry without the last 3 bytes' worth.
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 3)));
    } catch {
      return null;
    }
  }
}

// RFC 4180 CSV (quotes, doubled quotes, newlines inside quotes): the first `limit` rows,
// each cut to CSV_COLUMNS cells.
export function parseCsv(text: string, limit: number, sep = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < limit; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === sep) {
      if (row.length < CSV_COLUMNS) row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (row.length < CSV_COLUMNS) row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if ((cell !== "" || row.length) && rows.length < limit) rows.push(row.length < CSV_COLUMNS ? [...row, cell] : row);
  return rows;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
