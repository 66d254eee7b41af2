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

export interface SearchRunsAnswer {
  runs?: Run[];
  next_page_token?: string;
}
