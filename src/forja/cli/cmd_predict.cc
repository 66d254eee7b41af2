// forja predict: batch scoring of a CSV or JSONL file (batch/predict.h).
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "forja/batch/predict.h"
#include "forja/cas/cache.h"
#include "forja/cli/cli.h"
#include "forja/cli/model_resolver.h"
#include "forja/cli/model_spec.h"
#include "forja/cli/predict_slurm.h"
#include "forja/cli/scored_profile.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/progress.h"
#include "forja/data/workspace.h"
#include "forja/runtime/model.h"
#include "forja/serve/serve.h"
#include "forja/serve/source.h"

namespace forja {

namespace {

struct PredictArgs {
  std::string ref, store, shard, on_error = "fail";
  std::string profile;  // --profile OUT
  std::string executor;  // --executor local|slurm
  int shards = 0;        // --shards N (with --executor slurm)
  int retries = 1;       // --retries N: per shard, on Slurm
  batch::PredictOptions opts;
};

// The options every shard of --executor slurm gets, as the user gave them.
std::vector<std::string> ShardArgs(const PredictArgs& a) {
  std::vector<std::string> v;
  if (!a.opts.input_format.empty()) v.insert(v.end(), {"--input-format", a.opts.input_format});
  if (a.opts.jobs > 0) v.insert(v.end(), {"-j", std::to_string(a.opts.jobs)});
  v.insert(v.end(), {"--batch-size", std::to_string(a.opts.batch_size), "--on-error", a.on_error});
  for (const auto& k : a.opts.keep) v.insert(v.end(), {"--keep", k});
  for (const auto& e : a.opts.exclude) v.insert(v.end(), {"--exclude", e});
  if (!a.store.empty()) v.insert(v.end(), {"--store", a.store});
  return v;
}

// For the Slurm tests: FORJA_PREDICT_FAIL_SHARD_ONCE=I:MARKER makes shard I fail while MARKER
// does not exist (creating it), so the retry succeeds. Unset, it costs one getenv.
bool InjectedShardFailure(int shard) {
  const char* env = std::getenv("FORJA_PREDICT_FAIL_SHARD_ONCE");
  if (env == nullptr) return false;
  std::string v = env;
  size_t colon = v.find(':');
  if (colon == std::string::npos || v.substr(0, colon) != std::to_string(shard)) return false;
  std::string marker = v.substr(colon + 1);
  if (marker.empty() || Exists(marker)) return false;
  (void)WriteFileAtomic(marker, "failed once\n");
  return true;
}

int DoPredict(PredictArgs& a, const GlobalOptions& g) {
  if (!a.shard.empty()) {
    size_t slash = a.shard.find('/');
    int i = -1, n = 0;
    if (slash != std::string::npos) {
      i = std::atoi(a.shard.substr(0, slash).c_str());
      n = std::atoi(a.shard.substr(slash + 1).c_str());
    }
    if (slash == std::string::npos || n < 1 || i < 0 || i >= n)
      return Fail(Status::Usage("--shard takes I/N with 0 <= I < N (e.g. 0/4), not '" + a.shard + "'"));
    a.opts.shard = i;
    a.opts.shards = n;
    if (InjectedShardFailure(i)) return Fail(Status::User("shard " + a.shard + ": failed by FORJA_PREDICT_FAIL_SHARD_ONCE"));
  }
  if (!a.executor.empty() && a.executor != "local" && a.executor != "slurm")
    return Fail(Status::Usage("--executor takes local or slurm, not '" + a.executor + "'"));
  const bool slurm = a.executor == "slurm";
  if (slurm && a.shards < 1) return Fail(Status::Usage("--executor slurm needs --shards N (N >= 1): how many jobs split the input"));
  if (!slurm && a.shards != 0) return Fail(Status::Usage("--shards N splits the input across Slurm jobs: add --executor slurm"));
  if (slurm && !a.shard.empty()) return Fail(Status::Usage("--shard I/N scores one shard here; --executor slurm submits all of them: give one"));
  if (slurm && !a.profile.empty()) return Fail(Status::Usage("--profile is not available with --executor slurm; profile OUT afterwards"));
  if (a.retries < 0) return Fail(Status::Usage("--retries must be 0 or more"));
  if (a.on_error != "skip" && a.on_error != "fail")
    return Fail(Status::Usage("--on-error takes skip or fail, not '" + a.on_error + "'"));
  a.opts.skip_errors = a.on_error == "skip";
  if (a.opts.batch_size == 0) return Fail(Status::Usage("--batch-size must be at least 1"));
  if (!a.profile.empty()) {
    // The profile reads both files as CSV, and describes the whole input.
    auto csv = [](const std::string& path, const std::string& format) {
      return format.empty() ? !path.ends_with(".jsonl") && !path.ends_with(".ndjson") : format == "csv";
    };
    if (!csv(a.opts.input, a.opts.input_format) || !csv(a.opts.output, a.opts.output_format))
      return Fail(Status::Usage("--profile reads the input and the predictions as CSV: give CSV files"));
    if (!a.shard.empty()) return Fail(Status::Usage("--profile describes the whole input: not with --shard"));
  }
  // A broken forja.yaml is reported, not mistaken for "outside a workspace".
  auto ws = Workspace::OpenIfAny(CurrentDir());
  if (!ws.ok()) return Fail(ws.status());
  std::string root = *ws ? (*ws)->root() : "";
  ModelResolverContext rc;
  const bool registry = !serve::IsPackageFolder(a.ref);
  auto resolver = OpenModelResolver(a.store, registry, root, &rc);
  if (!resolver.ok()) return Fail(resolver.status());
  auto resolved = (*resolver)->Resolve(a.ref);
  if (!resolved.ok()) return Fail(resolved.status());
  const std::string label = registry ? resolved->name + "/" + resolved->version : a.ref;
  auto spec = ModelSpecFor(resolved->dir);
  if (!spec.ok()) return Fail(spec.status());
  auto model = runtime::LoadModel(*spec);
  if (!model.ok()) return Fail(model.status().Wrap("loading " + label));
  if (slurm) {
    // Every shard scores with the same version, even if an alias moves meanwhile.
    SlurmPredictJob job{registry ? label : a.ref, a.opts.input, a.opts.output, "", ShardArgs(a), a.shards, a.retries, g.quiet};
    const std::string& f = a.opts.output_format;
    job.output_format = !f.empty() ? f : a.opts.output.ends_with(".jsonl") || a.opts.output.ends_with(".ndjson") || a.opts.output.ends_with(".json") ? "jsonl" : "csv";
    if (job.output_format != "csv" && job.output_format != "jsonl") return Fail(Status::Usage("--output-format: use csv or jsonl"));
    return RunSlurmPredict(job, root);
  }
  a.opts.model_id = label + " " + resolved->key + " " + spec->model_file;
  a.opts.progress = !g.quiet;
  auto report = batch::RunPredict(a.opts, **model);
  if (!report.ok()) return Fail(report.status());
  for (const auto& e : report->errors) LogWarn("skipped " + e);
  if (report->skipped > report->errors.size())
    LogWarn("skipped " + std::to_string(report->skipped - report->errors.size()) + " more bad rows");
  std::string msg = "Scored " + std::to_string(report->rows) + " rows with " + label + " into " + a.opts.output;
  if (report->resumed_line)
    msg += " (resumed at line " + std::to_string(report->resumed_line) + ", " + std::to_string(report->resumed_rows) +
           " rows were done)";
  if (report->skipped) msg += "; " + std::to_string(report->skipped) + " bad rows skipped";
  if (!a.profile.empty()) {
    if (report->skipped)
      return Fail(Status::User(msg + "; --profile needs every row scored (the predictions must line up with the rows)"));
    auto text = ProfileScoredFile(a.opts.input, a.opts.output, a.opts.keep);
    if (!text.ok()) return Fail(text.status().Wrap("--profile"));
    if (Status st = WriteFileAtomic(a.profile, *text); !st.ok()) return Fail(st);
    msg += "; profiled into " + a.profile;
  }
  LogInfo(msg);
  return 0;
}

}  // namespace

void RegisterPredictCommand(CLI::App& app, GlobalOptions& g, Action* action) {
  auto a = std::make_shared<PredictArgs>();
  auto* c = app.add_subcommand("predict", "Score a CSV or JSONL file with a model, streamed, in input order");
  c->add_option("ref", a->ref, "A package or MLflow model folder, NAME/VERSION, NAME@ALIAS, NAME@production, models:/NAME/VERSION, models:/NAME@ALIAS, models:/m-ID or runs:/RUN/PATH")
      ->required()
      ->type_name("REF");
  c->add_option("-i,--input", a->opts.input, "The rows: CSV with a header row, or JSONL (one object per line)")
      ->required()
      ->type_name("FILE");
  c->add_option("-o,--output", a->opts.output, "Where the predictions go (CSV or JSONL, by extension)")
      ->required()
      ->type_name("FILE");
  c->add_option("--input-format", a->opts.input_format, "csv or jsonl (default: from the extension)")
      ->type_name("FMT");
  c->add_option("--output-format", a->opts.output_format, "csv or jsonl (default: from the extension)")
      ->type_name("FMT");
  c->add_option("-j,--jobs", a->opts.jobs, "Chunks scored at once (default: one per core)")->type_name("N");
  c->add_option("--batch-size", a->opts.batch_size, "Rows per predict call (default 4096)")->type_name("N");
  c->add_option("--shard", a->shard, "Score only shard I of N (0-based): the rows that start in the I-th N-th of the file")
      ->type_name("I/N");
  c->add_option("--on-error", a->on_error,
                "fail: stop at the first bad row, naming its line (default); skip: leave bad rows out and report them")
      ->type_name("skip|fail");
  c->add_option("--keep", a->opts.keep, "An input column to copy into the output, before the predictions (repeatable)")
      ->type_name("COLUMN");
  c->add_option("--exclude", a->opts.exclude,
                "An input column that is not a feature (repeatable; e.g. an id or the label)")
      ->type_name("COLUMN");
  c->add_option("--profile", a->profile,
                "Also write the profile of the scored rows and their predictions (CSV input and output), to "
                "compare with the version's: forja monitor report --reference REF --current OUT")
      ->type_name("OUT.json");
  c->add_option("--executor", a->executor, "local (default), or slurm: score --shards N shards as a Slurm job array")
      ->type_name("local|slurm");
  c->add_option("--shards", a->shards, "With --executor slurm: how many jobs split the input")->type_name("N");
  c->add_option("--retries", a->retries, "With --executor slurm: times a failed shard is submitted again (default 1)")
      ->type_name("N");
  AddStoreOption(c, &a->store);
  c->footer(std::string(
                "\nFeatures: a model with one [-1, N] input takes every column that is not --exclude'd, in file\n"
                "order (N of them); a model with several inputs takes the columns named like them. Empty, NA\n"
                "and null cells are missing values (NaN). The output has the --keep columns, then one column\n"
                "per output (name_0, name_1, ... for a [-1, K] output); JSONL output has one object per row.\n"
                "Rows stay in input order; -j N scores N chunks at once (default: one per core).\n"
                "\nResuming: the output is written to OUTPUT.partial and progress recorded in OUTPUT.progress\n"
                "about once a second; rerunning the same command after a crash goes on where it stopped. OUTPUT\n"
                "appears only when complete. --shard I/N lets N machines split one file: each row belongs to\n"
                "exactly one shard.\n"
                "\nOn Slurm: --executor slurm --shards N submits the N shards as one job array (forja.yaml's\n"
                "executor: section gives partition, account, qos), joins the parts in input order into OUTPUT,\n"
                "resubmits a failed shard alone, and scancels the shards on Ctrl-C. Finished parts wait in\n"
                "OUTPUT.parts/: rerunning the same command reuses them. See docs/scaling.md.\n") +
            kExitCodesHelp);
  c->callback([a, &g, action] { *action = [a, &g] { return DoPredict(*a, g); }; });
}

}  // namespace forja
