// Finding a registered version's reference data (reference_data.h): forja.yaml first, then
// the lineage of the run that made it. Everything here is read from places a cloned
// repository or a shared store controls, so paths go through CheckUntrustedPath and
// ResolveInRepo, and objects are rehashed before they are read.
#include "forja/cli/reference_data.h"

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/strings.h"
#include "forja/meta/store.h"
#include "forja/serve/monitoring_config.h"
#include "forja/serve/source.h"

namespace forja {

namespace {

// A CSV file the run's lineage names, and the cached object that holds its bytes.
struct Candidate {
  std::string path;  // as the run names it (a folder's files: folder/file)
  Oid oid;
};

bool IsCsv(const std::string& path) { return ToLowerAscii(path).ends_with(".csv"); }

std::optional<Oid> OidOf(const std::string& hash) {
  if (!hash.starts_with("sha256:")) return std::nullopt;
  return Oid::FromHex(hash.substr(7));
}

// The CSV files of one lineage item that the cache holds (unverified, but for a folder's manifest).
void AddCandidates(Cache& cache, const meta::LineageItem& item, std::vector<Candidate>* out) {
  std::optional<Oid> oid = OidOf(item.hash);
  if (!oid || !cache.Has(*oid)) return;
  if (item.kind == "file") {
    if (IsCsv(item.path)) out->push_back({item.path, *oid});
    return;
  }
  if (item.kind != "dir" || !serve::RehashCached(cache, *oid)) return;
  auto text = cache.Read(*oid);
  if (!text.ok()) return;
  auto entries = ParseManifest(*text, item.path);
  if (!entries.ok()) return;
  for (const ManifestEntry& e : *entries)
    if (IsCsv(e.path) && CheckUntrustedPath(e.path, PathBase::kFolder).ok() && cache.Has(e.oid))
      out->push_back({item.path + "/" + e.path, e.oid});
}

std::string Names(const std::vector<Candidate>& c) {
  std::vector<std::string> names;
  for (const Candidate& x : c) names.push_back(x.path);
  return Join(names, ", ");
}

// The one candidate, or the one with "train" in its file name.
const Candidate* Choose(const std::vector<Candidate>& all) {
  if (all.size() == 1) return &all[0];
  const Candidate* found = nullptr;
  for (const Candidate& c : all) {
    if (ToLowerAscii(Basename(c.path)).find("train") == std::string::npos) continue;
    if (found) return nullptr;
    found = &c;
  }
  return found;
}

}  // namespace

Result<std::optional<ReferenceData>> FindReferenceData(const std::string& root, const serve::MonitoringConfig& cfg,
                                                       meta::MetaStore& store, Cache& cache, const std::string& model,
                                                       const std::string& run_id, const std::string& package_hash,
                                                       std::string* why) {
  why->clear();
  ReferenceData d;
  auto entry = cfg.models.find(model);
  if (entry != cfg.models.end()) {
    d.target = entry->second.target;
    d.exclude = entry->second.exclude;
  }
  const std::string field = "monitoring.models." + model + ".reference";
  if (entry != cfg.models.end() && !entry->second.reference.empty()) {
    if (root.empty()) return Status::User(field + ": no workspace to read it from");
    auto rel = ResolveInRepo(root, root, entry->second.reference);
    if (!rel.ok()) return rel.status().Wrap("forja.yaml: " + field);
    d.path = JoinPath(root, *rel);
    if (!IsFile(d.path)) return Status::User("forja.yaml: " + field + ": " + *rel + ": no such file");
    d.shown = *rel;
    d.configured = true;
    return std::optional<ReferenceData>(std::move(d));
  }
  if (run_id.empty()) return std::optional<ReferenceData>();
  ASSIGN_OR_RETURN(std::vector<meta::LineageItem> lineage, store.GetLineage(run_id));
  std::vector<Candidate> candidates;
  for (const meta::LineageItem& item : lineage)
    if (item.hash != package_hash && item.kind != "model") AddCandidates(cache, item, &candidates);
  const Candidate* chosen = Choose(candidates);
  if (candidates.empty()) {
    *why = "the lineage of run " + run_id + " names no CSV file this workspace's cache holds";
  } else if (!chosen) {
    *why = "the lineage of run " + run_id + " names several CSV files (" + Names(candidates) + ")";
  } else if (!serve::RehashCached(cache, chosen->oid)) {
    *why = "the cached copy of " + chosen->path + " does not match its hash (removed from the cache)";
    chosen = nullptr;
  }
  if (!chosen) {
    *why += "; name the training data in forja.yaml: " + field;
    return std::optional<ReferenceData>();
  }
  d.path = cache.PathOf(chosen->oid);
  d.shown = chosen->path + " (from the lineage of run " + run_id + ")";
  return std::optional<ReferenceData>(std::move(d));
}

}  // namespace forja
