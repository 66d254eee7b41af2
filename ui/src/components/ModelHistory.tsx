// A model's promotion history (forja's /api/2.0/forja/models/history), newest first: every
// registration, stage move and alias change, who made it, and what each gate said.
import { formatTime } from "../format";
import { href } from "../router";
import type { Transition } from "../registryTypes";

// "pass metrics.auc >= 0.8 (0.85 >= 0.8)" -> one line per gate, its verdict apart.
export function GateLines({ text }: { text: string }) {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return (
    <ul class="gates">
      {lines.map((l, i) => {
        const failed = l.startsWith("FAIL ");
        const body = l.replace(/^(pass|FAIL) /, "");
        return (
          <li key={i} class={failed ? "gate fail" : "gate pass"}>
            <span class="verdict">{failed ? "FAIL" : "pass"}</span> <code>{body}</code>
          </li>
        );
      })}
    </ul>
  );
}

function describe(t: Transition): string {
  switch (t.kind) {
    case "registered":
      return "registered";
    case "stage":
      return `${t.from || "None"} → ${t.to}`;
    case "alias":
      return t.from ? `${t.to} moved here from v${t.from}` : `${t.to} set`;
    case "alias_removed":
      return `${t.from} removed`;
    default:
      return [t.kind, t.from && t.to ? `${t.from} → ${t.to}` : t.to || t.from].filter(Boolean).join(" ");
  }
}

export function ModelHistory({ name, transitions }: { name: string; transitions: Transition[] }) {
  if (transitions.length === 0) return <p class="muted">No promotions yet.</p>;
  const newest = [...transitions].sort((a, b) => b.time - a.time || b.id - a.id);
  return (
    <div class="table-wrap">
      <table class="grid history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Version</th>
            <th scope="col">Change</th>
            <th scope="col">By</th>
            <th scope="col">Gates</th>
            <th scope="col">Comment</th>
          </tr>
        </thead>
        <tbody>
          {newest.map((t) => (
            <tr key={t.id} data-kind={t.kind} data-forced={t.forced ? "true" : "false"}>
              <td>{formatTime(t.time)}</td>
              <td>
                <a href={href({ page: "model-version", name, version: t.version })}>v{t.version}</a>
              </td>
              <td class="change">
                {describe(t)}
                {t.forced && <span class="badge forced">forced</span>}
              </td>
              <td>{t.user}</td>
              <td>{t.gates ? <GateLines text={t.gates} /> : <span class="muted">none</span>}</td>
              <td class="comment">{t.comment}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
