// Downloading an artifact. Without a token a plain link streams it to disk; with one the
// link cannot carry the Authorization header, so the file is fetched and handed over as a
// blob (the browser holds it in memory meanwhile).
import { useState } from "preact/hooks";
import { api, getToken } from "../api";

export function Download({ url, name }: { url: string; name: string }) {
  const [error, setError] = useState<string | null>(null);
  if (!getToken())
    return (
      <a class="download" href={url} download={name}>
        Download {name}
      </a>
    );
  const save = async () => {
    try {
      const { bytes } = await api.fetchArtifact(url, Number.MAX_SAFE_INTEGER);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([bytes as BlobPart]));
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) {
      setError(String(e));
    }
  };
  return (
    <>
      <button type="button" class="download" onClick={save}>
        Download {name}
      </button>
      {error && <span class="error">{error}</span>}
    </>
  );
}
