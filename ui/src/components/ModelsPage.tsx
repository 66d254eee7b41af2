// #/models: the registered models, by name, with the newest version in each stage, the
// aliases and when each last changed; a search box narrows them by name (the server's
// `name ILIKE '%text%'`), kept in the URL as ?q=.
import { useEffect, useState } from "preact/hooks";
import { api, quoted } from "../api";
import { formatTime } from "../format";
import { href, navigate } from "../router";
import type { RegisteredModel } from "../registryTypes";
import { useLoad } from "../session";
import { ErrorBox } from "./ErrorBox";

const STAGE_ORDER = ["Production", "Staging", "None", "Archived"];

function LatestVersions({ m }: { m: RegisteredModel }) {
  const latest = [...(m.latest_versions ?? [])].sort(
    (a, b) => STAGE_ORDER.indexOf(a.current_stage ?? "None") - STAGE_ORDER.indexOf(b.current_stage ?? "None"),
  );
  return (
    <>
      {latest.map((v, i) => (
        <span key={v.version}>
          {i > 0 && " · "}
          <span class="stage-name">{v.current_stage || "None"}</span>{" "}
          <a href={href({ page: "model-version", name: m.name, version: v.version })}>v{v.version}</a>
        </span>
      ))}
    </>
  );
}

export function ModelsPage({ search }: { search: string }) {
  const [text, setText] = useState(search);
  const filter = search ? "name ILIKE " + quoted("%" + search + "%") : "";
  const load = useLoad(() => api.searchModels(filter), [filter]);
  // Pages after the first (1000 models each), fetched by "Load more" with the server's token.
  const [more, setMore] = useState<{ models: RegisteredModel[]; token?: string; error?: string }>({ models: [] });
  useEffect(() => setMore({ models: [] }), [filter, load]);
  const nextToken = more.token ?? (load.state === "ok" && more.models.length === 0 ? load.data.next_page_token : undefined);
  const loadMore = () => {
    if (!nextToken) return;
    api.searchModels(filter, nextToken).then(
      (a) => setMore((m) => ({ models: [...m.models, ...(a.registered_models ?? [])], token: a.next_page_token ?? "" })),
      (e: unknown) => setMore((m) => ({ ...m, error: e instanceof Error ? e.message : String(e) })),
    );
  };
  const submit = (e: Event) => {
    e.preventDefault();
    navigate({ page: "models", search: text.trim() });
  };
  const models = load.state === "ok" ? [...(load.data.registered_models ?? []), ...more.models] : [];
  return (
    <section>
      <h1>Models</h1>
      <form class="filter models-search" role="search" onSubmit={submit}>
        <input
          type="search"
          aria-label="Search models by name"
          placeholder="Model name"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && models.length > 0 && (
        <div class="table-wrap">
          <table class="grid models">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest versions</th>
                <th scope="col">Aliases</th>
                <th scope="col">Last updated</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.name}>
                  <td class="model-name">
                    <a href={href({ page: "model", name: m.name })}>{m.name}</a>
                  </td>
                  <td class="latest">
                    <LatestVersions m={m} />
                  </td>
                  <td class="aliases">
                    {(m.aliases ?? []).map((a, i) => (
                      <span key={a.alias}>
                        {i > 0 && " "}
                        <a class="alias" href={href({ page: "model-version", name: m.name, version: a.version })}>
                          @{a.alias} → v{a.version}
                        </a>
                      </span>
                    ))}
                  </td>
                  <td>{formatTime(m.last_updated_timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {load.state === "ok" && nextToken && (
        <button type="button" class="more" onClick={loadMore}>
          Load more
        </button>
      )}
      {more.error && (
        <p class="error" role="alert">
          {more.error}
        </p>
      )}
      {load.state === "ok" && models.length === 0 && (
        <p class="muted">{search ? `No model's name contains "${search}".` : "No registered models yet."}</p>
      )}
    </section>
  );
}
