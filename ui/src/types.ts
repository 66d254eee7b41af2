// MLflow's REST shapes, as forja server answers them (only the fields the UI reads).

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  last_update_time?: number;
  creation_time?: number;
  tags?: KeyValue[];
}

export interface Metric {
  key: string;
  value: number | string; // "NaN", "Infinity" come as strings
  timestamp?: number;
  step?: number;
}

export interface RunInfo {
  run_id: string;
  artifact_uri?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status?: string;
  start_time?: number;
  end_time?: number;
  lifecycle_stage?: string;
}

export interface Run {
  info: RunInfo;
  data: {
    metrics?: Metric[];
    params?: KeyValue[];
    tags?: KeyValue[];
  };
}

export interface SearchExperimentsAnswer {
  experiments?: Experiment[];
  next_page_token?: string;
}

// The runs table's shapes (/api/2.0/forja/runs/window, keys, groups; components/RunsTable.tsx).
export interface RunRow {
  run_id: string;
  run_name: string;
  status: string;
  start_time: number;
  end_time?: number;
  params: Record<string, string>;
  metrics: Record<string, number | string>;
  tags: Record<string, string>;
}

// forja/metrics/histories: a history per asked (run, key), as parallel arrays.
export interface RunWindow {
  total?: number; // left out when asked with count=false
  more?: boolean; // with count=false: whether runs follow this window
  offset: number;
  columns: string[]; // "params.lr", "metrics.rmse", "tags.team"
  runs: RunRow[];
  keys?: RunKeys; // when the server chose the columns: the keys it chose them from
}

export interface RunKeys {
  params: string[];
  metrics: string[];
  tags: string[];
}

export interface MetricStats {
  count: number;
  min: number | string;
  mean: number | string;
  max: number | string;
}

export interface RunGroup {
  value?: string;
  missing?: boolean; // the runs without the param
  count: number;
  metrics: Record<string, MetricStats>;
}

export interface RunGroups {
  group_by: string;
  columns: string[];
  groups: RunGroup[];
  truncated: boolean;
}

export interface SearchRunsAnswer {
  runs?: Run[];
  next_page_token?: string;
}

// A run's artifacts (artifacts/list): paths relative to the run's root_uri.
export interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

export interface RunArtifacts {
  root_uri?: string;
  files?: FileInfo[];
}

// forja's lineage of a run (/api/2.0/forja/lineage/get): what it read and wrote, by hash.
export interface LineageItem {
  direction: string;
  path: string;
  hash: string;
  kind?: string;
  size?: number;
}

export interface Lineage {
  inputs?: LineageItem[];
  outputs?: LineageItem[];
}

export interface ModelVersion {
  name: string;
  version: string;
  run_id?: string;
  current_stage?: string;
  aliases?: string[];
  creation_timestamp?: number;
}
