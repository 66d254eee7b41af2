#include "forja/serve/mlflow_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "forja/cas/cache.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/meta/store.h"
#include "forja/registry/mlmodel.h"

namespace forja::serve {

namespace {

constexpr size_t kMaxFiles = 10000;
constexpr int kMaxDepth = 16;

struct File {
  std::string path;  // relative to the model folder, checked
  Oid oid;
  int64_t size = 0;
};

// Text from the store inside an error line: bounded, control characters as '?'.
std::string Shown(std::string_view s, size_t max = 200) {
  std::string out(s.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string Strip(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// "mlflow-artifacts:/1/abc/artifacts" -> "1/abc/artifacts"; other schemes are refused.
Result<std::string> PathOfArtifactUri(const std::string& uri, const std::string& what) {
  const std::string prefix = "mlflow-artifacts:";
  if (!uri.starts_with(prefix))
    return Status::User(Shown(what) + " is at '" + Shown(uri) + "', which is not in a forja server's artifact store "
                        "(mlflow-artifacts:/...): log the model through forja server (MLFLOW_TRACKING_URI=http://...)");
  std::string p = uri.substr(prefix.size());
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  p = Strip(p);
  if (!p.empty()) {
    Status st = CheckUntrustedPath(p, PathBase::kFolder);
    if (!st.ok()) return Status::User(Shown(what) + ": artifact path '" + Shown(p) + "': " + Shown(st.message()));
  }
  return p;
}

bool HasMLmodel(meta::MetaStore& store, const std::string& folder) {
  auto list = store.ListArtifacts(folder);
  if (!list.ok()) return false;
  for (const auto& e : *list)
    if (!e.is_dir && Basename(e.path) == registry::kMLmodelFile) return true;
  return false;
}

Result<std::string> LoggedModelFolder(meta::MetaStore& store, const std::string& id, const std::string& uri) {
  ASSIGN_OR_RETURN(meta::LoggedModel m, store.GetLoggedModel(id));
  return PathOfArtifactUri(m.artifact_location, uri + " (logged model " + id + ")");
}

// runs:/RUN/PATH: the run's artifact folder PATH, else (MLflow 3) its LoggedModel named PATH.
Result<std::string> RunFolder(meta::MetaStore& store, const std::string& uri) {
  std::string rest = uri.substr(6);
  while (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || Strip(rest.substr(slash + 1)).empty())
    return Status::User("invalid model reference '" + Shown(uri) + "': use runs:/<run id>/<path of the model>");
  std::string run_id = rest.substr(0, slash), sub = Strip(rest.substr(slash + 1));
  Status st = CheckUntrustedPath(sub, PathBase::kFolder);
  if (!st.ok()) return Status::User("invalid model reference '" + Shown(uri) + "': " + Shown(st.message()));
  ASSIGN_OR_RETURN(meta::Run run, store.GetRun(run_id));
  ASSIGN_OR_RETURN(std::string base, PathOfArtifactUri(run.info.artifact_uri, uri));
  std::string folder = base.empty() ? sub : base + "/" + sub;
  if (HasMLmodel(store, folder)) return folder;
  std::string first = sub.substr(0, sub.find('/')), tail = sub.find('/') == std::string::npos ? "" : sub.substr(sub.find('/'));
  for (const meta::ModelIo& io : run.model_outputs) {
    auto m = store.GetLoggedModel(io.model_id);
    if (!m.ok() || m->name != first) continue;
    ASSIGN_OR_RETURN(std::string f, PathOfArtifactUri(m->artifact_location, uri));
    return f + tail;
  }
  return Status::NotFound(Shown(uri) + ": run " + Shown(run_id) + " has no MLflow model at '" + Shown(sub) +
                          "' (no MLmodel file there, and no logged model of the run has that name)");
}

// Lists `folder` recursively into *out, each path checked and relative to `root`.
Status List(meta::MetaStore& store, const std::string& root, const std::string& rel, int depth, const std::string& text,
            std::vector<File>* out) {
  if (depth > kMaxDepth) return Status::User(text + ": the model's folders nest deeper than " + std::to_string(kMaxDepth));
  std::string folder = rel.empty() ? root : root + "/" + rel;
  ASSIGN_OR_RETURN(auto entries, store.ListArtifacts(folder));
  for (const meta::ArtifactEntry& e : entries) {
    // A listing names entries by their path from the artifact root or from the folder.
    std::string name = e.path.starts_with(folder + "/") ? e.path.substr(folder.size() + 1) : e.path;
    std::string path = rel.empty() ? name : rel + "/" + name;
    Status st = CheckUntrustedPath(path, PathBase::kFolder);
    if (!st.ok() || name.find('/') != std::string::npos)
      return Status::User(text + ": the artifact store lists '" + Shown(path) + "' in the model: " +
                          (st.ok() ? "not a direct child of its folder" : st.message()));
    if (e.is_dir) {
      RETURN_IF_ERROR(List(store, root, path, depth + 1, text, out));
      continue;
    }
    if (out->size() >= kMaxFiles)
      return Status::User(text + ": the model has more than " + std::to_string(kMaxFiles) + " files");
    auto oid = e.hash.starts_with("sha256:") ? Oid::FromHex(e.hash.substr(7)) : std::nullopt;
    if (!oid)
      return Status::User(text + ": the artifact store gives no hash for " + Shown(path) +
                          " (forja verifies every file: serve models from a forja server or a workspace)");
    if (e.size < 0) return Status::User(text + ": the artifact store lists " + Shown(path) + " with a negative size");
    out->push_back({path, *oid, e.size});
  }
  return Status::Ok();
}

Oid TreeHash(std::vector<File>* files) {
  std::sort(files->begin(), files->end(), [](const File& a, const File& b) { return a.path < b.path; });
  std::string text;
  for (const File& f : *files) text += f.path + '\t' + f.oid.Hex() + '\t' + std::to_string(f.size) + '\n';
  return Sha256::Of(text);
}

// Each file of `dir` against its size and hash, opened without following a link.
Status Verify(const std::vector<File>& files, const std::string& dir) {
  for (const File& f : files) {
    std::string path = JoinPath(dir, f.path);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Status::FromErrno("verifying " + path, errno);
    auto oid = HashFd(fd, path);
    off_t size = ::lseek(fd, 0, SEEK_END);
    ::close(fd);
    if (!oid.ok()) return oid.status();
    if (!(*oid == f.oid) || size != f.size)
      return Status::Corrupt(path + " does not match the size and hash the artifact store lists");
  }
  return Status::Ok();
}

// The objects in the cache, fetched when missing or bad.
Status Fill(const ArtifactFetch& f, const std::vector<File>& files, const std::string& text) {
  std::vector<Oid> missing;
  for (const File& file : files)
    if (!f.intact(file.oid) && std::find(missing.begin(), missing.end(), file.oid) == missing.end())
      missing.push_back(file.oid);
  if (missing.empty()) return Status::Ok();
  if (!f.download)
    return Status::NotFound(text + ": " + std::to_string(missing.size()) + " of the model's files are not in the cache "
                            "(the first: sha256:" + missing[0].Hex().substr(0, 12) + "…); serve it with --store http://<forja server>");
  RETURN_IF_ERROR(f.download(*f.cache, missing));
  for (const Oid& o : missing)
    if (!f.intact(o)) return Status::Corrupt("the object sha256:" + o.Hex() + " of " + text + " does not match its hash");
  return Status::Ok();
}

Status WriteFiles(const ArtifactFetch& f, const std::vector<File>& files, const std::string& dir) {
  for (const File& file : files) {
    std::string path = JoinPath(dir, file.path);
    RETURN_IF_ERROR(MakeDirs(Dirname(path)));
    ASSIGN_OR_RETURN(Fd src, OpenRead(f.cache->PathOf(file.oid)));
    int dst = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (dst < 0) return Status::FromErrno("writing " + path, errno);
    Status st = CopyFd(src.get(), dst, path);
    ::close(dst);
    RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

}  // namespace

bool IsMlflowUri(const std::string& ref) {
  return ref.starts_with("runs:/") || ref.starts_with("models:/m-") || ref.starts_with("mlflow-artifacts:");
}

Result<std::string> MlflowArtifactFolder(meta::MetaStore& store, const std::string& uri) {
  if (uri.starts_with("runs:/")) return RunFolder(store, uri);
  if (uri.starts_with("models:/m-")) {
    std::string id = Strip(uri.substr(8));
    if (id.find('/') != std::string::npos) return Status::User("invalid model reference '" + uri + "': use models:/m-<id>");
    return LoggedModelFolder(store, id, uri);
  }
  return PathOfArtifactUri(uri, uri);
}

Result<MlflowCheckout> CheckoutMlflowFolder(const ArtifactFetch& f, const std::string& folder, const std::string& text) {
  std::vector<File> files;
  RETURN_IF_ERROR(List(*f.store, folder, "", 0, text, &files));
  bool has = std::any_of(files.begin(), files.end(), [](const File& x) { return x.path == registry::kMLmodelFile; });
  if (!has)
    return Status::User(text + ": " + (folder.empty() ? "the artifact root" : folder) +
                        " has no MLmodel file, so it is not an MLflow model: log it with mlflow.<flavor>.log_model");
  MlflowCheckout c;
  c.tree = TreeHash(&files).Hex();
  c.dir = f.checkout_root + "/mlflow-" + c.tree;
  if (f.checked && f.checked->count(c.dir)) return c;
  if (Exists(c.dir) && Verify(files, c.dir).ok()) {
    if (f.checked) f.checked->insert(c.dir);
    return c;
  }
  RETURN_IF_ERROR(Fill(f, files, text));
  RETURN_IF_ERROR(MakeDirs(f.checkout_root));
  if (Exists(c.dir)) {  // planted or half-written by a crash: moved aside, then removed
    std::string stale = c.dir + ".stale-" + std::to_string(::getpid());
    (void)RemoveTree(stale);
    if (::rename(c.dir.c_str(), stale.c_str()) != 0) return Status::FromErrno("moving aside " + c.dir, errno);
    (void)RemoveTree(stale);
  }
  std::string tmp = c.dir + ".tmp-" + std::to_string(::getpid());
  (void)RemoveTree(tmp);
  Status st = WriteFiles(f, files, tmp);
  if (st.ok()) st = Verify(files, tmp);
  if (!st.ok()) {
    (void)RemoveTree(tmp);
    return st;
  }
  if (::rename(tmp.c_str(), c.dir.c_str()) != 0) {
    (void)RemoveTree(tmp);
    if (!Exists(c.dir) || !Verify(files, c.dir).ok()) return Status::FromErrno("renaming " + tmp, errno);
  }
  if (f.checked) f.checked->insert(c.dir);
  return c;
}

}  // namespace forja::serve
