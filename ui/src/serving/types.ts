// GET /api/2.0/forja/serving/instances and GET /api/2.0/forja/runs/logs, as forja server
// answers them (api/serving_routes.cc, api/pipeline_routes.cc; docs/monitoring.md "Serving reports").

export interface LatencyQuantiles {
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
}

export interface DriftColumn {
  name: string;
  kind?: string;
  method?: string;
  score?: number | null;
  threshold?: number | null;
  verdict?: string;
  drifted?: boolean;
  current_n?: number;
}

export interface DriftReport {
  rows?: number;
  drift?: boolean;
  share?: number | null;
  tested?: number;
  drifted?: number;
  omitted?: number;
  columns?: DriftColumn[];
}

export interface QualityReport {
  task?: string;
  labels?: number;
  metrics?: Record<string, number | null>;
  estimate_rows?: number;
  estimate?: Record<string, number | null>;
}

export interface StalenessReport {
  stale?: boolean;
  reasons?: string[];
  model_age_s?: number | null;
  data_age_s?: number | null;
  since_promotion_s?: number | null;
  drifted_for_s?: number | null;
}

export interface ServedVersion {
  version: string;
  ref?: string;
  role?: string; // primary | canary | shadow
  platform?: string;
  requests?: number;
  errors?: number;
  client_errors?: number;
  req_per_s?: number;
  traffic?: [number, number][]; // (ms since the epoch, req/s) at each of the last reports
  error_rate?: number;
  latency_s?: LatencyQuantiles | null;
  drift?: DriftReport | null;
  quality?: QualityReport | null;
  staleness?: StalenessReport | null;
}

export interface ServedRoute {
  ref: string;
  weight?: number;
  version?: string;
  canary?: { version?: string; weight?: number; rollout?: number } | null;
}

export interface ServedModel {
  name: string;
  routes?: ServedRoute[];
  shadow?: { ref: string; version?: string } | null;
  versions?: ServedVersion[];
}

export interface ServingReport {
  address?: string;
  hostname?: string;
  forja_version?: string;
  pid?: number;
  started?: number;
  interval_s?: number;
  models?: ServedModel[];
}

export interface ServingInstance {
  instance: string;
  received: number;
  age_s: number;
  stale: boolean;
  stale_after_s: number;
  report?: ServingReport;
  error?: string;
}

export interface ServingInstances {
  instances: ServingInstance[];
  expire_after_s: number;
}

export interface StageLog {
  stage: string;
  outcome?: string;
  seconds?: number;
  log_tail: string;
  log_bytes: number;
  log_truncated: boolean;
}

export interface RunLogs {
  run_id: string;
  available: boolean;
  reason?: string;
  forja_run_id?: string;
  tail_bytes?: number;
  stages: StageLog[];
}
