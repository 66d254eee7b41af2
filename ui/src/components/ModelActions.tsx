// What a write or admin token may do to a version: promote it to a stage (through forja's
// promote, so the gates of forja.yaml apply) and set or remove its aliases. The caller's
// role decides which controls exist at all; the server decides every call anyway.
import { useState } from "preact/hooks";
import { ApiError, api } from "../api";
import type { ModelVersionDetails } from "../registryTypes";
import type { Role } from "../whoami";
import { ErrorBox } from "./ErrorBox";

// One gate's outcome as the promote route's 409 carries it in `gates` (registry/gates.h GateOutcome).
export interface GateOutcome {
  gate: string;
  origin: string;
  passed: boolean;
  left: string;
  op: string;
  right: string;
  reason: string;
}

function isGateOutcome(g: unknown): g is GateOutcome {
  if (typeof g !== "object" || g === null) return false;
  const o = g as Record<string, unknown>;
  return typeof o.gate === "string" && typeof o.passed === "boolean";
}

// The gates of a refusal by the registry's gates (a 409 with `gates`), or null for any other error.
export function refusedGates(e: ApiError): GateOutcome[] | null {
  const gates = e.details.gates;
  if (e.status !== 409 || !Array.isArray(gates) || !gates.every(isGateOutcome)) return null;
  return gates;
}

// "metrics.auc >= 0.8 (0.75 >= 0.8)", or with the reason when there was nothing to compare.
export function gateLine(g: GateOutcome): string {
  const values = g.left !== "" || g.right !== "" ? `${g.left} ${g.op} ${g.right}` : "";
  const why = [values, g.reason].filter((x) => x !== "").join("; ");
  return why ? `${g.gate} (${why})` : g.gate;
}

function Refusal({ error }: { error: ApiError }) {
  const gates = refusedGates(error);
  if (!gates) return <ErrorBox error={error} />;
  const failed = gates.filter((g) => !g.passed);
  const passed = gates.filter((g) => g.passed);
  return (
    <div class="refusal" role="alert">
      <p class="error">Refused: {failed.length === 1 ? "a gate failed" : `${failed.length} gates failed`}.</p>
      <ul class="gates">
        {[...failed, ...passed].map((g) => (
          <li key={g.gate + g.origin} class={g.passed ? "gate pass" : "gate fail"}>
            <span class="verdict">{g.passed ? "pass" : "FAIL"}</span> <code>{gateLine(g)}</code>
            {g.origin && <span class="origin"> {g.origin}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

type Outcome = { kind: "idle" } | { kind: "busy" } | { kind: "done"; text: string } | { kind: "error"; error: ApiError };

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e));
}

function useAction(onChanged: () => void) {
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });
  const run = async (fn: () => Promise<string>) => {
    setOutcome({ kind: "busy" });
    try {
      const text = await fn();
      setOutcome({ kind: "done", text });
      onChanged();
    } catch (e) {
      setOutcome({ kind: "error", error: asApiError(e) });
    }
  };
  return { outcome, run };
}

function OutcomeLine({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === "done")
    return (
      <p class="ok" role="status">
        {outcome.text}
      </p>
    );
  if (outcome.kind === "error") return <Refusal error={outcome.error} />;
  return null;
}

const STAGES = ["Staging", "Production", "Archived", "None"];

export function PromoteForm({ v, role, onChanged }: { v: ModelVersionDetails; role: Role; onChanged: () => void }) {
  const [target, setTarget] = useState(v.current_stage === "Staging" ? "Production" : "Staging");
  const [comment, setComment] = useState("");
  const [archive, setArchive] = useState(false);
  const [force, setForce] = useState(false);
  const { outcome, run } = useAction(onChanged);
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const moved = await api.promote({
        name: v.name,
        version: v.version,
        target: target.toLowerCase(),
        comment: comment || undefined,
        archive_existing_versions: archive,
        force: role.isAdmin && force,
      });
      return `Version ${moved.version} is now in ${moved.current_stage}${role.isAdmin && force ? " (forced)" : ""}.`;
    });
  };
  return (
    <form class="action promote" onSubmit={submit}>
      <h3>Promote</h3>
      <div class="row">
        <label>
          To stage{" "}
          <select name="target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
            {STAGES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Comment{" "}
          <input name="comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class="row">
        <label>
          <input type="checkbox" name="archive" checked={archive} onChange={(e) => setArchive((e.target as HTMLInputElement).checked)} />{" "}
          Archive the versions now in that stage
        </label>
        {role.isAdmin && (
          <label class="force">
            <input type="checkbox" name="force" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} />{" "}
            Force past failing gates (admin; recorded in the history)
          </label>
        )}
      </div>
      <button type="submit" disabled={outcome.kind === "busy"}>
        Promote
      </button>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

export function AliasForm({ v, onChanged }: { v: ModelVersionDetails; onChanged: () => void }) {
  const [alias, setAlias] = useState("");
  const { outcome, run } = useAction(onChanged);
  const submit = (e: Event) => {
    e.preventDefault();
    const a = alias.trim().replace(/^@/, "");
    if (!a) return;
    void run(async () => {
      await api.setAlias(v.name, a, v.version);
      setAlias("");
      return `@${a} now points at version ${v.version}.`;
    });
  };
  const remove = (a: string) =>
    void run(async () => {
      await api.deleteAlias(v.name, a);
      return `@${a} removed.`;
    });
  return (
    <form class="action aliases" onSubmit={submit}>
      <h3>Aliases</h3>
      {(v.aliases ?? []).length > 0 && (
        <ul class="alias-list">
          {(v.aliases ?? []).map((a) => (
            <li key={a}>
              <code>@{a}</code>{" "}
              <button type="button" class="link" aria-label={`Remove alias @${a}`} onClick={() => remove(a)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <label>
          Alias{" "}
          <input name="alias" placeholder="champion" value={alias} onInput={(e) => setAlias((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={outcome.kind === "busy"}>
          Set alias
        </button>
      </div>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}
