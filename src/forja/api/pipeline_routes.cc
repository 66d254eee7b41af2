// GET /api/2.0/forja/pipeline/status: the web UI's pipeline page. The DAG and each stage's
// state come from the cli layer's callback (what `forja status --pipeline --json` says; api
// does not depend on the pipeline module); the last run's durations and log tails are read
// here from .forja/runs/<latest>/, which holds what other programs wrote: every name is
// checked with CheckUntrustedPath, every open is O_NOFOLLOW beneath .forja/runs, and at
// most kTailBytes of a log are read. GET /api/2.0/forja/runs/logs reads a given run's folder
// (a tracking run's forja.run_id tag) the same way, for the run page.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"

namespace forja::api {

namespace {

constexpr size_t kTailBytes = 8192;
constexpr size_t kMaxSummaryBytes = 4u << 20;

// A run folder forja run made: "YYYYMMDD-HHMMSS-xxxxxx" (runner.cc NewRunId); anything else is skipped.
bool LooksLikeRunId(const std::string& name) {
  if (name.size() < 16 || name.size() > 64) return false;
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-')) return false;
  return CheckUntrustedPath(name).ok();
}

// Invalid UTF-8 bytes (and a sequence cut by the tail's start) become '?', so the answer is JSON.
std::string ValidUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; k++) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok && n == 2) ok = c >= 0xc2;
    if (ok && n == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (ok && n == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      out += '?';
      i++;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  return out;
}

// The regular file `name` in `dirfd`, never through a symlink: its last `limit` bytes and its size.
bool ReadTail(int dirfd, const std::string& name, size_t limit, std::string* text, int64_t* size) {
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *size = st.st_size;
  off_t from = st.st_size > static_cast<off_t>(limit) ? st.st_size - static_cast<off_t>(limit) : 0;
  text->assign(static_cast<size_t>(st.st_size - from), '\0');
  size_t got = 0;
  while (got < text->size()) {
    ssize_t n = ::pread(fd.get(), text->data() + got, text->size() - got, from + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text->resize(got);
  return true;
}

// The newest run folder's name under .forja/runs (names sort by time), or "".
std::string LatestRun(int runs_fd) {
  int dup = ::dup(runs_fd);
  if (dup < 0) return "";
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return "";
  }
  std::string best;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    struct stat st;
    if (!LooksLikeRunId(name) || ::fstatat(runs_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode) && name > best) best = name;
  }
  ::closedir(d);
  return best;
}

// Adds the last run's outcome, seconds and log tail to each stage of `out`.
void AddLastRun(const std::string& root, Json* out) {
  auto runs = OpenDirNoFollow(root, ".forja/runs", false);
  if (!runs.ok()) return;
  std::string id = LatestRun(runs->get());
  if (id.empty()) return;
  Fd run(::openat(runs->get(), id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!run.valid()) return;
  Json last{{"run_id", id}};
  std::string summary_text;
  int64_t summary_size = 0;
  Json summary;
  if (ReadTail(run.get(), "summary.json", kMaxSummaryBytes, &summary_text, &summary_size) &&
      summary_size <= static_cast<int64_t>(kMaxSummaryBytes))
    summary = Json::parse(summary_text, nullptr, false);
  (*out)["last_run"] = last;
  for (auto& stage : (*out)["stages"]) {
    if (!stage.contains("name") || !stage["name"].is_string()) continue;
    std::string name = stage["name"].get<std::string>();
    Json info = Json::object();
    if (summary.is_object() && summary.contains("stages") && summary["stages"].is_array())
      for (const auto& s : summary["stages"]) {
        if (!s.is_object() || s.value("stage", "") != name) continue;
        if (s.contains("outcome") && s["outcome"].is_string()) info["outcome"] = s["outcome"];
        if (s.contains("seconds") && s["seconds"].is_number()) info["seconds"] = s["seconds"];
      }
    std::string log = name + ".log", tail;
    int64_t size = 0;
    if (name.find('/') == std::string::npos && CheckUntrustedPath(log).ok() &&
        ReadTail(run.get(), log, kTailBytes, &tail, &size)) {
      info["log_tail"] = ValidUtf8(tail);
      info["log_bytes"] = size;
      info["log_truncated"] = size > static_cast<int64_t>(kTailBytes);
    }
    if (!info.empty()) stage["last_run"] = std::move(info);
  }
}

constexpr size_t kMaxLogs = 200;

// The stage logs of the run folder `run` (NAME.log, regular files only), in the summary's
// stage order and then by name, each with its outcome and seconds when the summary has them.
Json StageLogs(int run, const Json& summary) {
  std::vector<std::string> names;
  int dup = ::dup(run);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (!d && dup >= 0) ::close(dup);
  while (d && names.size() < kMaxLogs) {
    struct dirent* e = ::readdir(d);
    if (!e) break;
    std::string name = e->d_name;
    struct stat st;
    if (name.size() <= 4 || !name.ends_with(".log") || !CheckUntrustedPath(name).ok() ||
        ::fstatat(run, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    names.push_back(name.substr(0, name.size() - 4));
  }
  if (d) ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::string> order;
  Json info = Json::object();
  if (summary.is_object() && summary.contains("stages") && summary["stages"].is_array())
    for (const auto& s : summary["stages"]) {
      if (!s.is_object() || !s.contains("stage") || !s["stage"].is_string()) continue;
      std::string name = s["stage"].get<std::string>();
      if (info.contains(name) || info.size() >= kMaxLogs) continue;
      Json i = Json::object();
      if (s.contains("outcome") && s["outcome"].is_string()) i["outcome"] = s["outcome"];
      if (s.contains("seconds") && s["seconds"].is_number()) i["seconds"] = s["seconds"];
      info[name] = std::move(i);
      if (std::binary_search(names.begin(), names.end(), name)) order.push_back(name);
    }
  for (const auto& n : names)
    if (!info.contains(n)) order.push_back(n);
  Json stages = Json::array();
  for (const auto& name : order) {
    Json stage{{"stage", ValidUtf8(name)}};
    if (info.contains(name)) stage.update(info[name]);
    std::string tail;
    int64_t size = 0;
    if (!ReadTail(run, name + ".log", kTailBytes, &tail, &size)) continue;
    stage["log_tail"] = ValidUtf8(tail);
    stage["log_bytes"] = size;
    stage["log_truncated"] = size > static_cast<int64_t>(kTailBytes);
    stages.push_back(std::move(stage));
  }
  return stages;
}

}  // namespace

// GET forja/runs/logs?run_id=: the stage logs of a tracking run that forja run made in this
// server's workspace. The run's forja.run_id tag names its folder in .forja/runs (pipeline/
// tracking.cc sets it); the folder and its logs are read as the pipeline page's are (no
// symlink followed, names checked, each log's last kTailBytes). A run with no logs here
// answers 200 with `available: false` and the reason: the UI says it, it is no error.
Result<Json> TrackingServer::Impl::RunLogs(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string run_id, p.RunId());
  ASSIGN_OR_RETURN(meta::Run run, store->GetRun(run_id));
  std::string folder;
  for (const auto& t : run.tags)
    if (t.key == "forja.run_id") folder = t.value;
  auto none = [&](const std::string& why) {
    return Json{{"run_id", run_id}, {"available", false}, {"reason", why}, {"stages", Json::array()}};
  };
  if (folder.empty()) return none("this run was not made by forja run (it has no forja.run_id tag)");
  if (config.workspace_root.empty())
    return none("this server has no workspace: the logs of forja run " + folder +
                " are in the .forja/runs of the workspace it ran in; start forja server there to see them");
  if (!LooksLikeRunId(folder)) return none("the run's forja.run_id tag is not a run folder's name");
  auto runs = OpenDirNoFollow(config.workspace_root, ".forja/runs", false);
  Fd dir(runs.ok() ? ::openat(runs->get(), folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1);
  if (!dir.valid())
    return none("no folder .forja/runs/" + folder + " in this server's workspace (made elsewhere, or removed)");
  std::string summary_text;
  int64_t summary_size = 0;
  Json summary;
  if (ReadTail(dir.get(), "summary.json", kMaxSummaryBytes, &summary_text, &summary_size) &&
      summary_size <= static_cast<int64_t>(kMaxSummaryBytes))
    summary = Json::parse(summary_text, nullptr, false);
  return Json{{"run_id", run_id}, {"available", true}, {"forja_run_id", folder}, {"tail_bytes", kTailBytes},
              {"stages", StageLogs(dir.get(), summary)}};
}

Result<Json> TrackingServer::Impl::PipelineStatus(const Params&, const Caller&) {
  if (!config.pipeline_status)
    return Status::NotFound("this server has no workspace: start forja server in a folder with forja.yaml "
                            "(or below it) to see its pipeline");
  ASSIGN_OR_RETURN(std::string text, config.pipeline_status());
  Json out = Json::parse(text, nullptr, false);
  if (!out.is_object() || !out.contains("stages") || !out["stages"].is_array())
    return Status::Internal("the pipeline's status is not the expected JSON");
  out["root"] = config.workspace_root;
  AddLastRun(config.workspace_root, &out);
  return out;
}

}  // namespace forja::api
