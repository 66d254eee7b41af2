// forja monitor profile / report: reference profiles of model versions, stored beside them in
// the registry (registry/profile_store.h), and drift reports of a current CSV file against a
// version's profile, a profile file or a reference CSV file. The statistics are monitor's
// (docs/monitoring.md); how a report is shown is monitor_report.h's.
#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "forja/api/rest_store.h"
#include "forja/batch/predict.h"
#include "forja/cas/cache.h"
#include "forja/cli/cli.h"
#include "forja/cli/model_resolver.h"
#include "forja/cli/model_spec.h"
#include "forja/cli/monitor_report.h"
#include "forja/cli/monitor_staleness.h"
#include "forja/cli/package_cache.h"
#include "forja/cli/reference_data.h"
#include "forja/cli/scored_profile.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/parallel.h"
#include "forja/core/progress.h"
#include "forja/core/user_dirs.h"
#include "forja/data/workspace.h"
#include "forja/monitor/csv.h"
#include "forja/monitor/drift.h"
#include "forja/monitor/log_reader.h"
#include "forja/monitor/profile.h"
#include "forja/monitor/profile_window.h"
#include "forja/monitor/sample.h"
#include "forja/monitor/window.h"
#include "forja/registry/profile_store.h"
#include "forja/registry/registry.h"
#include "forja/runtime/model.h"
#include "forja/serve/serve.h"
#include "forja/serve/source.h"

namespace forja {

namespace {

using nlohmann::json;

using monitor::IsPredictionColumn;
using monitor::kPredictionColumn;
using registry::kProfileTargetTag;

Status CheckCsvPath(const std::string& flag, const std::string& path) {
  if (path.ends_with(".jsonl") || path.ends_with(".ndjson"))
    return Status::Usage(flag + " " + path + ": forja monitor reads CSV files (a header row, then one row per line)");
  return Status::Ok();
}

// Every column of CSV file `path` as monitor reads it (streamed, parsed and sorted on every
// core: monitor/csv.h): typed by its own values, or as `kinds` says (name -> kind) for the
// columns it names. A meter counts the bytes on a terminal.
Result<std::vector<monitor::ColumnSample>> SamplesOf(const std::string& path,
                                                    const std::map<std::string, monitor::ColumnKind>& kinds) {
  struct stat st;
  uint64_t size = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  Progress progress("Reading " + Basename(path), 0, size);
  monitor::CsvReadOptions options;
  options.kinds = kinds;
  options.on_bytes = [&](uint64_t bytes) { progress.Add(0, bytes); };
  return monitor::ReadCsv(path, options);
}

Result<std::vector<monitor::ColumnSample>> ReadSamples(const std::string& path) { return SamplesOf(path, {}); }

// A temporary folder, removed with everything in it.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty()) (void)RemoveTree(path);
  }
};

Result<std::string> MakeTempDir(TempDir* dir) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/forja-monitor-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Status::FromErrno("creating a temporary folder " + tmpl, errno);
  dir->path = tmpl;
  return tmpl;
}

// ---- profile ----

struct ProfileArgs {
  std::string ref, data, target, store, out;
  std::string shown;  // how messages name the data (default: data)
  std::vector<std::string> exclude;
  bool as_json = false;
};

// The model's predictions on the data (scored as forja predict scores, the target and the
// --exclude columns left out of the features), one sample per output column.
Result<std::vector<monitor::ColumnSample>> PredictionSamples(const ProfileArgs& a, runtime::Model& model,
                                                             const std::string& model_id, uint64_t rows, bool quiet) {
  TempDir tmp;
  ASSIGN_OR_RETURN(std::string dir, MakeTempDir(&tmp));
  batch::PredictOptions opts;
  opts.input = a.data;
  opts.output = dir + "/predictions.csv";
  opts.input_format = opts.output_format = "csv";
  opts.exclude = a.exclude;
  if (!a.target.empty()) opts.exclude.push_back(a.target);
  opts.model_id = model_id;
  opts.progress = !quiet;
  auto report = batch::RunPredict(opts, model);
  if (!report.ok())
    return report.status().Wrap("scoring " + a.data + " (columns that are not features: --exclude COLUMN, the "
                                "target: --target COLUMN)");
  ASSIGN_OR_RETURN(std::vector<monitor::ColumnSample> samples, ReadSamples(opts.output));
  for (monitor::ColumnSample& s : samples) {
    if (s.rows != rows)
      return Status::Internal("scoring gave " + std::to_string(s.rows) + " predictions for " + std::to_string(rows) +
                              " rows");
    s.name = samples.size() == 1 ? kPredictionColumn : std::string(kPredictionColumn) + "." + s.name;
  }
  return samples;
}

// The model of `ref` (a registry version pinned to its number, an alias could move meanwhile;
// or a package folder), loaded to score the reference data.
struct LoadedModel {
  ModelResolverContext rc;
  std::unique_ptr<runtime::Model> model;
  std::string id;  // names the model in batch's resume record
};

Status LoadScoringModel(const std::string& store_flag, const std::string& root, const std::string& ref, bool registry,
                 LoadedModel* out) {
  ASSIGN_OR_RETURN(auto resolver, OpenModelResolver(store_flag, registry, root, &out->rc));
  ASSIGN_OR_RETURN(serve::Resolved resolved, resolver->Resolve(ref));
  ASSIGN_OR_RETURN(runtime::ModelSpec spec, ModelSpecFor(resolved.dir));
  auto model = runtime::LoadModel(spec);
  if (!model.ok()) return model.status().Wrap("loading " + ref);
  out->model = std::move(*model);
  out->id = ref + " " + resolved.key + " " + spec.model_file;
  return Status::Ok();
}

// What BuildProfile made and where it went.
struct ProfileOutcome {
  bool registry = false;
  std::string label, name, version, hash, no_predictions;
  uint64_t rows = 0;
  size_t columns = 0, prediction_columns = 0;
};

// Profiles a.data (and the model's predictions on it, when the model loads here), writes it
// to a.out and attaches it to the registry version a.ref names.
Result<ProfileOutcome> BuildProfile(const ProfileArgs& a, bool quiet) {
  RETURN_IF_ERROR(CheckCsvPath("--data", a.data));
  const std::string shown = a.shown.empty() ? a.data : a.shown;
  ProfileOutcome o;
  o.registry = !serve::IsPackageFolder(a.ref);
  if (!o.registry && a.out.empty())
    return Status::Usage(a.ref + " is a package folder, which has no registry to keep a profile in: "
                         "write it to a file with --out FILE, or name a registered version (NAME/VERSION)");
  // The version first: a mistyped reference fails before the data is read.
  StoreContext ctx;
  std::unique_ptr<meta::MetaStore> store;
  meta::ModelVersion version;
  std::string pinned = a.ref;
  o.label = a.ref;
  if (o.registry) {
    ASSIGN_OR_RETURN(registry::ModelRef ref, registry::ParseModelRef(a.ref));
    ASSIGN_OR_RETURN(store, OpenStore(a.store, &ctx));
    ASSIGN_OR_RETURN(version, registry::ResolveRef(*store, ref));
    pinned = o.label = version.name + "/" + std::to_string(version.version);
    o.name = version.name;
    o.version = std::to_string(version.version);
  }
  auto samples = ReadSamples(a.data);
  if (!samples.ok()) return samples.status().Wrap(shown);
  o.rows = samples->empty() ? 0 : samples->front().rows;
  if (o.rows == 0) return Status::User(shown + " has no rows: a profile describes reference data");
  if (!a.target.empty()) {
    bool found = false;
    for (const auto& s : *samples) found |= s.name == a.target;
    if (!found) return Status::User("--target " + a.target + ": " + shown + " has no such column");
  }
  for (const auto& s : *samples)
    if (IsPredictionColumn(s.name))
      return Status::User(shown + ": the column name " + s.name + " is the one forja gives the model's predictions");

  // The predictions, when the model can be loaded here.
  LoadedModel model;
  if (Status st = LoadScoringModel(a.store, ctx.root, pinned, o.registry, &model); !st.ok()) {
    // A package folder was named for its model; a registry version may have none that loads here.
    if (!o.registry) return st;
    o.no_predictions = st.message();
    LogWarn("the profile has no prediction column: " + o.no_predictions);
  } else {
    ASSIGN_OR_RETURN(auto predictions, PredictionSamples(a, *model.model, model.id, o.rows, quiet));
    o.prediction_columns = predictions.size();
    for (auto& p : predictions) samples->push_back(std::move(p));
  }
  o.columns = samples->size();

  std::string text = monitor::ProfileToJson(monitor::MakeProfile(*samples));
  // What is stored must read back: the reader the server and the reports use checks it.
  if (auto check = monitor::ParseProfile(text); !check.ok())
    return Status::Internal("the profile of " + shown + " does not read back: " + check.status().message());
  if (!a.out.empty()) RETURN_IF_ERROR(WriteFileAtomic(a.out, text));
  if (!o.registry) return o;
  ASSIGN_OR_RETURN(PackageCache pc, OpenPackageCache(ctx, dynamic_cast<api::RestStore*>(store.get()) != nullptr));
  ObjectTransfers transfers = TransfersFor(*store, pc);
  RETURN_IF_ERROR(registry::AttachProfile(*store, *pc.cache, transfers.upload, version.name, version.version, text));
  if (!a.target.empty()) {
    RETURN_IF_ERROR(store->SetModelVersionTag(version.name, version.version, {kProfileTargetTag, a.target}));
  } else {
    for (const meta::Tag& t : version.tags)
      if (t.key == kProfileTargetTag)
        RETURN_IF_ERROR(store->DeleteModelVersionTag(version.name, version.version, kProfileTargetTag));
  }
  o.hash = "sha256:" + Sha256::Of(text).Hex();
  return o;
}

std::string ProfileSentence(const ProfileArgs& a, const ProfileOutcome& o) {
  std::string what = "Profiled " + std::to_string(o.rows) + " rows and " + std::to_string(o.columns) +
                     " columns of " + (a.shown.empty() ? a.data : a.shown) +
                     (o.prediction_columns ? " (with the predictions of " + o.label + ")" : "");
  if (o.registry) what += "; attached to " + o.label + " (" + o.hash.substr(0, 19) + "…)";
  if (!a.out.empty()) what += "; written to " + a.out;
  return what;
}

int DoProfile(const ProfileArgs& a, const GlobalOptions& g) {
  auto o = BuildProfile(a, g.quiet);
  if (!o.ok()) return Fail(o.status());
  if (a.as_json) {
    json j{{"rows", o->rows}, {"columns", o->columns}, {"prediction_columns", o->prediction_columns},
           {"target", a.target.empty() ? json(nullptr) : json(a.target)}, {"data", a.data}};
    if (o->registry) {
      j["name"] = o->name;
      j["version"] = o->version;
      j["hash"] = o->hash;
    }
    if (!a.out.empty()) j["out"] = a.out;
    if (!o->no_predictions.empty()) j["no_predictions"] = o->no_predictions;
    OutJson(j);
    return 0;
  }
  LogInfo(ProfileSentence(a, *o));
  if (o->registry) Out(o->label);
  return 0;
}

// ---- report ----

struct ReportArgs {
  std::string reference, current, store, html;
  std::string since, log_dir;  // --current predictions: the prediction log
  bool md = false, as_json = false;
};

// What the current data is compared with: a profile (from the registry or a file), or the
// exact values of a reference CSV file.
struct Reference {
  std::optional<monitor::Profile> profile;
  std::vector<monitor::ColumnSample> samples;  // a CSV reference
  std::set<std::string> optional;              // columns the current data may lack
  uint64_t rows = 0;
  std::string model, version, target;          // a registry version's
  std::optional<StalenessReport> staleness;    // a registry version's (monitor_staleness.h)
};

Result<Reference> ProfileReference(const std::string& text, const std::string& what) {
  Reference r;
  auto profile = monitor::ParseProfile(text);
  if (!profile.ok()) return profile.status().Wrap(what);
  r.rows = profile->rows;
  for (const auto& c : profile->columns)
    if (IsPredictionColumn(c.name)) r.optional.insert(c.name);
  r.profile = std::move(*profile);
  return r;
}

Result<Reference> RegistryReference(const ReportArgs& a) {
  auto ref = registry::ParseModelRef(a.reference);
  if (!ref.ok())
    return Status::User("--reference " + a.reference + ": no such file, and not a model reference (NAME/VERSION, "
                        "NAME@ALIAS or NAME@production)");
  StoreContext ctx;
  ASSIGN_OR_RETURN(auto store, OpenStore(a.store, &ctx));
  ASSIGN_OR_RETURN(meta::ModelVersion v, registry::ResolveRef(*store, *ref));
  const std::string label = v.name + "/" + std::to_string(v.version);
  ASSIGN_OR_RETURN(PackageCache pc, OpenPackageCache(ctx, dynamic_cast<api::RestStore*>(store.get()) != nullptr));
  ObjectTransfers transfers = TransfersFor(*store, pc);
  ASSIGN_OR_RETURN(auto text, registry::LoadProfile(*store, *pc.cache, transfers.download, v.name, v.version));
  if (!text)
    return Status::User(label + " has no reference profile; forja monitor profile " + label +
                        " --data FILE makes and attaches one");
  ASSIGN_OR_RETURN(Reference r, ProfileReference(*text, "the profile of " + label));
  for (const meta::Tag& t : v.tags)
    if (t.key == kProfileTargetTag) {
      r.optional.insert(t.value);
      r.target = t.value;
    }
  r.model = v.name;
  r.version = std::to_string(v.version);
  ASSIGN_OR_RETURN(r.staleness, MakeStalenessReport(*store, v, a.reference));
  return r;
}

Result<Reference> OpenReference(const ReportArgs& a) {
  if (!IsFile(a.reference)) return RegistryReference(a);
  if (a.reference.ends_with(".json")) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(a.reference));
    return ProfileReference(text, a.reference);
  }
  RETURN_IF_ERROR(CheckCsvPath("--reference", a.reference));
  Reference r;
  ASSIGN_OR_RETURN(r.samples, ReadSamples(a.reference));
  r.rows = r.samples.empty() ? 0 : r.samples.front().rows;
  return r;
}

// The reference's column names, in its order.
std::vector<std::string> ReferenceNames(const Reference& r) {
  std::vector<std::string> names;
  if (r.profile) {
    for (const auto& c : r.profile->columns) names.push_back(c.name);
  } else {
    for (const auto& s : r.samples) names.push_back(s.name);
  }
  return names;
}

// The current data's columns, each read as the reference column's kind, in the reference's
// order; the optional columns it lacks go to *skipped. A current file with no text at all
// (not even a header) has every column, with no rows. Columns that do not match are one error.
Result<std::vector<monitor::ColumnSample>> CurrentSamples(const Reference& r, const std::string& path,
                                                          std::vector<std::string>* skipped) {
  std::vector<std::string> names = ReferenceNames(r);
  std::map<std::string, monitor::ColumnKind> kinds;
  if (r.profile) {
    for (const auto& c : r.profile->columns) kinds[c.name] = c.kind;
  } else {
    for (const auto& s : r.samples) kinds[s.name] = s.kind;
  }
  std::vector<monitor::ColumnSample> current;
  ASSIGN_OR_RETURN(bool blank, monitor::IsBlankFile(path));
  if (blank) {
    for (const std::string& n : names) {
      ASSIGN_OR_RETURN(monitor::ColumnSample s, monitor::SampleBuilder().Finish(n, kinds[n]));
      current.push_back(std::move(s));
    }
    return current;
  }
  ASSIGN_OR_RETURN(std::vector<monitor::ColumnSample> read, SamplesOf(path, kinds));
  std::map<std::string, monitor::ColumnSample*> by_name;
  for (auto& s : read) by_name[s.name] = &s;
  std::string missing, extra;
  for (const auto& s : read)
    if (!kinds.count(s.name)) extra += (extra.empty() ? "'" : ", '") + s.name + "'";
  for (const std::string& n : names) {
    if (by_name.count(n)) {
      current.push_back(std::move(*by_name[n]));
    } else if (r.optional.count(n)) {
      skipped->push_back(n);
    } else {
      missing += (missing.empty() ? "'" : ", '") + n + "'";
    }
  }
  if (!missing.empty() || !extra.empty())
    return Status::User(path + ": its columns are not the reference's: " +
                        (missing.empty() ? "" : "no column " + missing + (extra.empty() ? "" : "; ")) +
                        (extra.empty() ? "" : "columns the reference does not have: " + extra));
  return current;
}

// The current values counted on the profile's bins (what the live windows count), for the
// histograms; `current` in the profile's column order.
monitor::Window CountOnBins(const monitor::Profile& profile, const std::vector<monitor::ColumnSample>& current) {
  monitor::Window w(profile);
  for (size_t i = 0; i < current.size() && i < w.size(); ++i) {
    const monitor::ColumnSample& s = current[i];
    for (double v : s.values) w.AddNumber(i, v);
    for (const auto& [value, count] : s.categories)
      for (uint64_t k = 0; k < count; ++k) w.AddCell(i, value);
    for (uint64_t k = 0; k < s.missing; ++k) w.AddMissing(i);
    for (uint64_t k = 0; k < s.infinite; ++k) w.AddNumber(i, std::numeric_limits<double>::infinity());
  }
  return w;
}

// The current CSV file (or the log's) against the reference: exact values against a CSV
// reference, the profile's bins against a profile. Sets report's verdicts; writes --html.
Status CompareFile(const ReportArgs& a, const Reference& r, const std::string& current_path, DriftReport* report) {
  auto current = CurrentSamples(r, current_path, &report->skipped);
  if (!current.ok()) return current.status();
  report->current_rows = current->empty() ? 0 : current->front().rows;
  // The profile the current data is counted on: the reference's, less the skipped columns.
  monitor::Profile profile;
  std::vector<monitor::ColumnDrift> columns;
  if (r.profile) {
    profile.rows = r.profile->rows;
    for (auto& c : r.profile->columns)
      if (std::find(report->skipped.begin(), report->skipped.end(), c.name) == report->skipped.end())
        profile.columns.push_back(c);
    columns = monitor::CompareWindow(CountOnBins(profile, *current));
  } else {
    report->exact = true;
    columns.resize(current->size());
    Status st = ParallelFor(current->size(), DefaultJobs(), [&](size_t i) {
      columns[i] = monitor::CompareSamples(r.samples[i], (*current)[i]);
      return Status::Ok();
    });
    RETURN_IF_ERROR(st);
    if (!a.html.empty()) profile = monitor::MakeProfile(r.samples);
  }
  report->drift = monitor::Summarize(std::move(columns));
  if (!a.html.empty()) {
    std::string html = RenderDriftHtml(*report, CountOnBins(profile, *current));
    RETURN_IF_ERROR(WriteFileAtomic(a.html, html));
  }
  return Status::Ok();
}

// A current profile (.json) against the reference, on the reference's bins (profile_window.h).
Status CompareProfile(const ReportArgs& a, const Reference& r, DriftReport* report) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(a.current));
  auto current = monitor::ParseProfile(text);
  if (!current.ok()) return current.status().Wrap(a.current);
  monitor::Profile base = r.profile ? *r.profile : monitor::MakeProfile(r.samples);
  monitor::Profile profile;
  profile.rows = base.rows;
  for (auto& c : base.columns) {
    if (current->Find(c.name) < 0 && r.optional.count(c.name)) report->skipped.push_back(c.name);
    else profile.columns.push_back(std::move(c));
  }
  auto window = monitor::WindowOfProfile(profile, *current);
  if (!window.ok()) return window.status().Wrap(a.current);
  report->current_rows = current->rows;
  report->drift = monitor::Summarize(monitor::CompareWindow(*window));
  if (!a.html.empty()) RETURN_IF_ERROR(WriteFileAtomic(a.html, RenderDriftHtml(*report, *window)));
  return Status::Ok();
}

// The prediction log of the reference's version as a CSV file in `tmp` (prediction_log_reader.h).
Result<std::string> PredictionLogCurrent(const ReportArgs& a, const Reference& r, TempDir* tmp, std::string* shown) {
  if (!r.profile || r.model.empty())
    return Status::Usage("--current predictions compares a served version's logged traffic with its profile: "
                         "--reference NAME/VERSION or NAME@ALIAS");
  monitor::LogSelection sel;
  std::string log_dir = a.log_dir;
  if (log_dir.empty()) {
    ASSIGN_OR_RETURN(auto ws, Workspace::OpenIfAny(CurrentDir()));
    if (ws) {
      log_dir = ws->root() + "/.forja/predictions";
    } else {
      ASSIGN_OR_RETURN(std::string cache, UserCacheDir());
      log_dir = cache + "/predictions";
    }
  }
  sel.model = r.model;
  sel.version = r.version;
  sel.target = r.target;
  if (!a.since.empty()) {
    ASSIGN_OR_RETURN(sel.since_s, monitor::ParseSince(a.since));
  }
  sel.now_s = static_cast<double>(std::time(nullptr));
  ASSIGN_OR_RETURN(std::string dir, MakeTempDir(tmp));
  std::string csv = dir + "/predictions.csv";
  ASSIGN_OR_RETURN(monitor::LogExtract x, monitor::PredictionLogToCsv(log_dir, sel, *r.profile, csv));
  *shown = "the prediction log of " + r.model + "/" + r.version + (a.since.empty() ? "" : " (last " + a.since + ")");
  LogInfo("Read " + std::to_string(x.lines) + " logged requests (" + std::to_string(x.rows) + " rows) of " + r.model +
          "/" + r.version + " from " + log_dir);
  return csv;
}

int DoReport(const ReportArgs& a) {
  if (a.md && a.as_json) return Fail(Status::Usage("--md and --json: choose one"));
  const bool from_log = a.current == "predictions" && !IsFile(a.current);
  if (!from_log) {
    if (!a.since.empty() || !a.log_dir.empty())
      return Fail(Status::Usage("--since and --log-dir read the prediction log: --current predictions"));
    if (Status st = CheckCsvPath("--current", a.current); !st.ok()) return Fail(st);
    if (!IsFile(a.current)) return Fail(Status::User("--current " + a.current + ": no such file"));
  }
  auto reference = OpenReference(a);
  if (!reference.ok()) return Fail(reference.status());
  DriftReport report;
  report.reference = a.reference;
  report.current = a.current;
  report.reference_rows = reference->rows;
  TempDir log_tmp;
  std::string current_path = a.current;
  if (from_log) {
    auto csv = PredictionLogCurrent(a, *reference, &log_tmp, &report.current);
    if (!csv.ok()) return Fail(csv.status());
    current_path = *csv;
  }
  Status compared = !from_log && a.current.ends_with(".json") ? CompareProfile(a, *reference, &report)
                                                              : CompareFile(a, *reference, current_path, &report);
  if (!compared.ok()) return Fail(compared);
  if (a.as_json) {
    json j = json::parse(monitor::DriftToJson(report.drift));
    j["reference"] = a.reference;
    j["current"] = report.current;
    j["exact"] = report.exact;
    j["reference_rows"] = report.reference_rows;
    j["current_rows"] = report.current_rows;
    j["skipped"] = report.skipped;
    if (!a.html.empty()) j["html"] = a.html;
    if (reference->staleness) j["staleness"] = StalenessJson(*reference->staleness);
    OutJson(j);
  } else if (a.md) {
    Out(RenderDriftMarkdown(report) + (reference->staleness ? StalenessMarkdown(*reference->staleness) : ""));
  } else {
    PrintText(DriftTable(report));
    Out("");
    Out(DriftVerdict(report));
    if (!report.skipped.empty()) {
      std::string names;
      for (const std::string& s : report.skipped) names += (names.empty() ? "" : ", ") + s;
      LogInfo("Not compared (the current data has no such column): " + names);
    }
    if (!a.html.empty()) LogInfo("Wrote " + a.html);
    if (reference->staleness) {
      Out("");
      for (const std::string& line : StalenessText(*reference->staleness)) Out(line);
    }
  }
  // Stale is found as drift is: cron and CI act on the exit code.
  return report.drift.drift || (reference->staleness && reference->staleness->verdict.stale) ? 1 : 0;
}

}  // namespace

Result<std::string> ProfileScoredFile(const std::string& input, const std::string& output,
                                      const std::vector<std::string>& keep) {
  ASSIGN_OR_RETURN(std::vector<monitor::ColumnSample> samples, ReadSamples(input));
  ASSIGN_OR_RETURN(std::vector<monitor::ColumnSample> scored, ReadSamples(output));
  std::vector<monitor::ColumnSample*> predictions;
  for (monitor::ColumnSample& s : scored)
    if (std::find(keep.begin(), keep.end(), s.name) == keep.end()) predictions.push_back(&s);
  for (monitor::ColumnSample* p : predictions) {
    p->name = predictions.size() == 1 ? kPredictionColumn : std::string(kPredictionColumn) + "." + p->name;
    samples.push_back(std::move(*p));
  }
  std::string text = monitor::ProfileToJson(monitor::MakeProfile(samples));
  if (auto check = monitor::ParseProfile(text); !check.ok())
    return Status::Internal("the profile of " + input + " does not read back: " + check.status().message());
  return text;
}

Result<std::string> ProfileRegisteredVersion(const std::string& store_flag, const std::string& label,
                                             const ReferenceData& data, bool quiet) {
  ProfileArgs a;
  a.ref = label;
  a.store = store_flag;
  a.data = data.path;
  a.shown = data.shown;
  a.target = data.target;
  a.exclude = data.exclude;
  ASSIGN_OR_RETURN(ProfileOutcome o, BuildProfile(a, quiet));
  return ProfileSentence(a, o);
}

CLI::App* MonitorGroup(CLI::App& app) {
  auto found = app.get_subcommands([](CLI::App* s) { return s->check_name("monitor"); });
  if (!found.empty()) return found.front();
  auto* m = app.add_subcommand("monitor", "Model monitoring: reference profiles and drift reports");
  m->require_subcommand(1);
  m->footer(std::string("\nSee docs/monitoring.md for what is measured and how.\n\n") + kExitCodesHelp);
  return m;
}

void RegisterMonitorCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  CLI::App* monitor = MonitorGroup(app);
  {
    auto* c = monitor->add_subcommand("profile", "Profile a model version's reference data and attach it to the version");
    auto a = std::make_shared<ProfileArgs>();
    c->add_option("ref", a->ref, "NAME/VERSION, NAME@ALIAS, NAME@production, or a package folder (with --out)")
        ->required()
        ->type_name("REF");
    c->add_option("--data", a->data, "The reference data (the training data): CSV with a header row")
        ->required()
        ->type_name("FILE");
    c->add_option("--target", a->target, "The target column: profiled, marked, and not a feature when scoring")
        ->type_name("COLUMN");
    c->add_option("--exclude", a->exclude, "A column that is not a feature when scoring (repeatable; e.g. an id)")
        ->type_name("COLUMN");
    c->add_option("--out", a->out, "Also write the profile's JSON to FILE")->type_name("FILE");
    AddStoreOption(c, &a->store);
    c->add_flag("--json", a->as_json, "Print what was profiled and where it went as JSON");
    c->footer(std::string(
                  "\nEvery column of FILE is profiled (count, missing share, min/max, mean/std, quantiles, bins,\n"
                  "top categories; docs/monitoring.md). When the version's model can be loaded here, it scores\n"
                  "FILE as forja predict does (the --target and --exclude columns left out of the features) and\n"
                  "its prediction is profiled as the column __prediction__ (__prediction__.<column> for each\n"
                  "output column of a model with several). The profile is stored in the registry's object store\n"
                  "(the workspace cache, or the forja server's objects) and tied to the version by the tag\n"
                  "forja.monitor.profile; the target column is the tag forja.monitor.target. forja models show\n"
                  "lists it; forja monitor report --reference NAME/VERSION compares data with it.\n"
                  "Example:\n"
                  "  forja monitor profile churn/3 --data data/train.csv --target churned\n\n") +
              kExitCodesHelp);
    c->callback([a, &g, action] { *action = [a, &g] { return DoProfile(*a, g); }; });
  }
  {
    auto* c = monitor->add_subcommand("report", "Drift of a current CSV file against a reference, per column");
    auto a = std::make_shared<ReportArgs>();
    c->add_option("--reference", a->reference,
                  "NAME/VERSION or NAME@ALIAS (its attached profile), a profile file (.json), or a CSV file")
        ->required()
        ->type_name("REF|FILE");
    c->add_option("--current", a->current,
                  "The current data: CSV with the reference's columns, or `predictions`: forja serve's prediction "
                  "log of the reference's version")
        ->required()
        ->type_name("FILE|predictions");
    c->add_option("--since", a->since, "With --current predictions: only the last DURATION (90s, 30m, 24h, 7d)")
        ->type_name("DURATION");
    c->add_option("--log-dir", a->log_dir,
                  "With --current predictions: the log's folder (default: the workspace's .forja/predictions)")
        ->type_name("DIR");
    c->add_flag("--md", a->md, "Print Markdown (a pull-request comment)");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->add_option("--html", a->html, "Also write one self-contained HTML page: verdicts and histograms")
        ->type_name("OUT");
    AddStoreOption(c, &a->store);
    c->footer(std::string(
                  "\nPer column: the test Evidently's DataDriftPreset chooses (Kolmogorov-Smirnov, chi-square or\n"
                  "z-test up to 1000 reference values; Wasserstein or Jensen-Shannon distance beyond), its score\n"
                  "and threshold, the verdict, the missing share of both sides and the share of current values\n"
                  "outside the reference. The dataset drifts when at least half the tested columns do.\n"
                  "A CSV reference compares exact values; a profile compares on the profile's bins. The current\n"
                  "file must have the reference's columns (its prediction and target columns may be missing).\n"
                  "--current predictions reads what forja serve logged (serving.prediction_log, --log-sample) for\n"
                  "the reference's version, its tensors mapped onto the profile's columns as forja serve maps them.\n"
                  "Verdicts without a test: text columns are not tested; a column with no values (an empty\n"
                  "current file, all missing) is 'no current values' and does not count; with nothing tested\n"
                  "there is no dataset drift.\n"
                  "A registry reference also gets its staleness: the model's age, its training data's age (from\n"
                  "lineage) and the time since its promotion against forja.yaml's monitoring.staleness.\n"
                  "Exit codes of this command: 0 no dataset drift and not stale; 1 dataset drift or stale (or a\n"
                  "user error);\n"
                  "2 bad usage; 3 the environment failed.\n"
                  "Example:\n"
                  "  forja monitor report --reference churn@production --current today.csv --html drift.html\n\n") +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoReport(*a); }; });
  }
}

}  // namespace forja
