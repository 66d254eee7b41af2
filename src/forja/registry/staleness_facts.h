// What the metadata store knows of a model version's age (docs/monitoring.md, "Staleness"): when
// it was trained, how old its training data is (from lineage), and when it was put where it is
// served. Times only (ms since the epoch); monitor/staleness.h turns them into ages and a verdict.
//
// The rules, decided here once for forja serve and `forja monitor report` alike:
//   trained   the version's run's end time, else its start time, else the version's creation
//             (no run, or a run the store no longer has);
//   data      the oldest of the run's lineage inputs. An input whose hash an earlier run produced
//             (a lineage output of a run other than this one, whose end -- else start -- is not
//             after this run's start) dates from the first such run's end (else start); any
//             other input (added with forja add, or from outside) dates from the training run's
//             start. Unknown without a run, or when the run has no lineage input;
//   promoted  the latest history entry that moved this version to where the reference serves
//             it: NAME@ALIAS the latest alias move to @ALIAS, NAME@production (staging) the
//             latest stage move to Production (Staging), NAME/VERSION the latest stage move
//             (other than to None or Archived) or alias move of the version; else its
//             registration (the "registered" entry, else the version's creation time).
// Times <= 0 count as unknown. What was missing is said in `notes`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::meta {
class MetaStore;
struct ModelVersion;
}  // namespace forja::meta

namespace forja::registry {

struct ModelRef;

struct StalenessFacts {
  std::string model;
  int64_t version = 0;
  int64_t trained_ms = 0;
  std::string trained_from;  // "run 1a2b3c4d's end", "run 1a2b3c4d's start", "registration"
  std::optional<int64_t> data_ms;
  std::string data_from;     // "data/train.csv, made by run 5e6f7a8b", "data/raw.csv, as old as the run"
  int64_t promoted_ms = 0;
  std::string promoted_from;  // "moved to @champion", "moved to Production", "registration"
  std::vector<std::string> notes;  // "run 1a2b... not found", "run 1a2b... has no lineage input"
};

// The facts of version `v`, served through `ref` (how it is named: alias, stage or number).
// A missing run or lineage is a note, not an error; errors are the store's own failures.
Result<StalenessFacts> GatherStalenessFacts(meta::MetaStore& store, const meta::ModelVersion& v, const ModelRef& ref);

}  // namespace forja::registry
