import { useEffect, useState } from "preact/hooks";
import type { ApiError } from "../api";

// MLflow's search grammar, sent as typed: the server parses it and its message (with the
// character position) is shown under the box when it cannot.
export function FilterBox({ value, error, onSubmit }: { value: string; error: ApiError | null; onSubmit: (f: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <form
      class="filter"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(text.trim());
      }}
    >
      <input
        type="search"
        name="filter"
        aria-label="Filter runs"
        placeholder={"metrics.rmse < 0.5 and params.model = 'xgb'"}
        spellcheck={false}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Search</button>
      {error && (
        <p class="error filter-error" role="alert">
          {error.message}
        </p>
      )}
    </form>
  );
}
