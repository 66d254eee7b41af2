// The registry's shapes as forja server answers them: MLflow's registered models and
// versions, and forja's own history, alerts and whoami (only the fields the UI reads).
import type { KeyValue } from "./types";

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersionDetails[];
  aliases?: { alias: string; version: string }[];
  tags?: KeyValue[];
}

export interface ModelVersionDetails {
  name: string;
  version: string;
  run_id?: string;
  current_stage?: string;
  aliases?: string[];
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  source?: string;
  status?: string;
  run_link?: string;
  user_id?: string;
  tags?: KeyValue[];
  forja_package_hash?: string;
  model_id?: string;
}

// One entry of /api/2.0/forja/models/history: a registration, a stage move, an alias set or
// removed; `gates` is what the gates said, one "pass ..." or "FAIL ..." line each.
export interface Transition {
  id: number;
  name: string;
  version: string;
  kind: string;
  from: string;
  to: string;
  user: string;
  time: number;
  comment: string;
  forced: boolean;
  gates?: string;
}

export interface ModelAlert {
  fingerprint: string;
  name: string;
  status: string;
  model: string;
  version: string;
  severity: string;
  starts_at: number | string;
  ends_at?: number | string;
  annotations?: Record<string, string> | null;
}

// /api/2.0/forja/whoami: auth "off" means no token is asked for and everyone is an admin.
export interface WhoAmI {
  user: string;
  role: "read" | "write" | "admin" | "none";
  auth: "on" | "off";
}

export interface Promotion {
  name: string;
  version: string;
  target: string; // a stage (staging, production, archived, none) or @alias
  comment?: string;
  archive_existing_versions?: boolean;
  force?: boolean;
}
