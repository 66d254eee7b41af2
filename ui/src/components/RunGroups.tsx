// The runs grouped by a param's value (/api/2.0/forja/runs/groups): each value's run count
// and each shown metric's mean, min and max, computed by the server over every matching run.
// "Show runs" opens the group as a filter on that value.
import { api, quoted, type RunWindowQuery } from "../api";
import { formatCount, formatMetric } from "../format";
import { useLoad } from "../session";
import type { MetricStats } from "../types";
import { ErrorBox } from "./ErrorBox";

function Stats({ s }: { s: MetricStats | undefined }) {
  if (!s) return <td class="num" />;
  return (
    <td class="num" title={`${s.count} runs: min ${formatMetric(s.min)}, mean ${formatMetric(s.mean)}, max ${formatMetric(s.max)}`}>
      <span class="mean">{formatMetric(s.mean)}</span>{" "}
      <span class="range">
        ({formatMetric(s.min)}–{formatMetric(s.max)})
      </span>
    </td>
  );
}

export function RunGroupsTable({ search, groupBy, onOpen }: { search: RunWindowQuery; groupBy: string; onOpen: (clause: string) => void }) {
  const groups = useLoad(() => api.runsGroups({ ...search, groupBy }), [JSON.stringify(search), groupBy]);
  if (groups.state === "loading") return <p class="muted">Grouping…</p>;
  if (groups.state === "error") return <ErrorBox error={groups.error} />;
  const metrics = groups.data.columns.filter((c) => c.startsWith("metrics.")).map((c) => c.slice(8));
  const key = groupBy.replace(/`/g, "");
  return (
    <div class="table-wrap">
      <table class="grid run-groups">
        <caption class="visually-hidden">Runs grouped by params.{groupBy}</caption>
        <thead>
          <tr>
            <th scope="col">params.{groupBy}</th>
            <th scope="col">Runs</th>
            {metrics.map((m) => (
              <th scope="col" key={m} title="mean (min–max)">
                {m}
              </th>
            ))}
            <th scope="col">
              <span class="visually-hidden">Open</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.data.groups.map((g) => (
            <tr key={g.missing ? "\u0000" : g.value} class="group">
              <td class={g.missing ? "group-value muted" : "group-value"}>{g.missing ? "(not set)" : g.value}</td>
              <td class="num group-count">{formatCount(g.count)}</td>
              {metrics.map((m) => (
                <Stats key={m} s={g.metrics[m]} />
              ))}
              <td>
                {!g.missing && (
                  <button type="button" onClick={() => onOpen(`params.\`${key}\` = ${quoted(g.value ?? "")}`)}>
                    Show runs<span class="visually-hidden"> with {groupBy} = {g.value}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {groups.data.truncated && <p class="muted">Only the largest groups are shown.</p>}
    </div>
  );
}
