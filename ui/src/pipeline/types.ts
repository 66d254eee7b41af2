// GET /api/2.0/forja/pipeline/status (src/forja/api/pipeline_routes.cc): the DAG, each stage's
// state as `forja status --pipeline --json` says, and the last run's durations and log tails.
export interface StageLastRun {
  outcome?: string; // ran, restored, up to date, failed, skipped, interrupted
  seconds?: number;
  log_tail?: string; // at most the log's last 8 KB
  log_bytes?: number;
  log_truncated?: boolean;
}

export interface PipelineStage {
  name: string;
  cmd: string[];
  deps: string[];
  outs: string[];
  upstream: string[];
  outcome?: string; // "up to date" or "would run"
  reasons?: string[];
  last_run?: StageLastRun;
}

export interface PipelineStatus {
  root: string;
  stages: PipelineStage[];
  edges: [string, string][];
  last_run?: { run_id: string };
}
