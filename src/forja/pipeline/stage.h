// A pipeline stage, as forja.yaml's `stages:` section declares it.
//
//   stages:
//     prepare:
//       cmd: python prepare.py --seed ${prepare.seed}   # string, or a list run in order
//       wdir: src                 # commands run here; deps/outs are relative to it
//       deps: [data/raw, prepare.py]
//       params: [prepare.seed, {params.yaml: [a.b]}, "extra.json:lr"]
//       outs: [data/prepared, {models/m.bin: {cache: false, persist: true}}]
//       metrics: [{eval/metrics.json: {cache: false}}]
//       plots: [eval/roc.csv]
//       env: {OMP_NUM_THREADS: "1"}
//       retries: 3                # or {count: 3, delay: 1s, backoff: 2, max_delay: 60s, jitter: 0.2}
//       timeout: 10m              # seconds as a number, or 500ms / 30s / 10m / 2h
//       resources: {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}   # for a cluster executor
//     train:
//       foreach: [small, large]   # or a mapping, or "${some.list}" of the config
//       do:                       # names train@small, train@large
//         cmd: train.sh ${item}
//         outs: ['model-${item}.bin']
//     sweep:
//       matrix: {model: [a, b], lr: [0.1, 0.01]}   # names sweep@a-0.1, sweep@a-0.01, ...
//       cmd: fit ${item.model} ${item.lr}
//
// `${...}` anywhere in a stage's strings is interpolated against the composed
// configuration (with `item` bound inside foreach and matrix stages, and `key`
// in a foreach over a mapping; they hide the config's own item / key). A
// whole-value "${a.list}" may stand for a list field. Inside [...] or {...},
// quote a string with ${...}: YAML reads `{` there as a mapping.
// Also accepted: desc (a string) and meta (anything), for people, as in DVC;
// a single string for a list field (deps: data/raw); numbers as paths.
// Paths are stored repository-relative and normalized.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"
#include "forja/pipeline/resources.h"

namespace forja::pipeline {

struct DvcContext;  // dvc_yaml.h

struct Retries {
  int count = 0;           // extra attempts after the first
  double delay_s = 0;      // before the first retry
  double backoff = 1;      // each further delay is multiplied by this
  double max_delay_s = 0;  // 0 = no cap
  double jitter = 0;       // 0..1: each delay is scaled by a random factor in [1-jitter, 1+jitter]
};

enum class OutKind { kOut, kMetrics, kPlots };

struct Out {
  std::string path;  // repository-relative
  OutKind kind = OutKind::kOut;
  bool cache = true;     // false: versioned in git, not pushed; still run-cached
  bool persist = false;  // true: not removed before the stage runs
  bool push = true;      // dvc.yaml's push: false: kept in forja.lock; forja push leaves the out
  std::string remote;    // dvc.yaml's remote: kept in forja.lock; pull and push use that remote
  std::string origin;    // "forja.yaml:12"
  // plots: outs: the plot options as written (template, x, y, x_label, y_label,
  // title, header; a mapping, null when none); forja plots reads them (docs/plots.md).
  config::Node plot;
};

struct Dep {
  std::string path;  // repository-relative
  std::string origin;
};

// A param: a dotted key of the composed config (file == ""), or of a plain
// YAML/JSON file (repository-relative path); key "" (dvc.yaml's `- file.yaml:`)
// is every top-level key of the file.
struct Param {
  std::string file;
  std::string key;
  std::string origin;
};

struct Stage {
  std::string name;    // "train"; foreach: "train@small"; matrix: "sweep@a-0.1"
  std::string origin;  // "forja.yaml:12": where the stage (or its foreach/matrix) is declared
  std::vector<std::string> cmd;  // interpolated; run in order, each by /bin/sh -c
  std::vector<std::string> lock_cmd;  // cmd as forja.lock keeps it when ${hydra:...} put a per-run value in it
  std::string wdir;              // repository-relative, "" = the root
  std::vector<Dep> deps;
  std::vector<Param> params;
  std::vector<Out> outs;  // outs, then metrics, then plots
  std::vector<std::pair<std::string, std::string>> env;
  Retries retries;
  double timeout_s = 0;  // 0 = none
  Resources resources;   // what a cluster executor asks for (resources.h); locally cpus take -j slots
  bool always_changed = false;
  bool frozen = false;  // dvc.yaml's frozen: true: never run, never reported changed

  // The command as one shell script: the commands joined by " && ".
  std::string Script() const;
};

// Parses the `stages:` mapping of forja.yaml (the whole document, parsed with
// config::ParseConfigYaml so every node's origin is "forja.yaml:<line>").
// `cfg` is the composed configuration `${...}` resolves against (a map; may be
// empty when the project has no config). Errors are one line:
//   forja.yaml:14: stages.train.retries: expected a count or a mapping, got a list
// A document without `stages:` gives no stages.
// `hydra` is the run's hydra node (config::Composed::hydra), for ${hydra:...}
// in cmd and env; elsewhere it is refused (a per-run path is never cached).
// `lock_cfg`: the config composed with hydra_lock_view, for Stage::lock_cmd.
Result<std::vector<Stage>> ParseStages(const config::Node& doc, const config::Node& cfg,
                                       const config::Node* hydra = nullptr, const config::Node* lock_cfg = nullptr);

// The stages of dvc.yaml (dvc_yaml.h reads the file): the same fields, with DVC 3's
// rules where they differ. `context` holds the names ${...} may use (params.yaml
// and vars:); `root` is the workspace (a stage's vars: files are read relative to it).
// Unsupported options that are harmless are appended to *notices.
Result<std::vector<Stage>> ParseDvcStages(const config::Node& stages, const DvcContext& context,
                                          const std::string& root, std::vector<std::string>* notices);

// Whether `cmd` needs a shell (has quotes, $, |, &, ;, <, >, *, ?, [, ~, (, ), `,
// #, \, a tab or a newline, or its first word is a shell keyword or builtin
// such as cd or export, or an assignment VAR=1); when it does not, it is split
// on spaces and exec'd directly, as make does.
bool NeedsShell(const std::string& cmd);

// 'text' with control characters escaped (\n, \x01), so that a message that
// quotes a path or a name stays on one line.
std::string Quote(std::string_view text);

}  // namespace forja::pipeline
