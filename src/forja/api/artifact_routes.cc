// The artifact proxy and forja's objects: MLflow's /api/2.0/mlflow-artifacts/artifacts
// (list, upload, download, delete; the bytes are objects in the server's cache and the
// store maps each path to its hash), forja's /api/2.0/forja/objects/sha256/<hex> (objects
// by hash, for push and fetch), and the two JSON routes beside them: recording an
// artifact path for an object already uploaded, and asking which objects are missing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/sha256.h"
#include "forja/registry/registry.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

std::string ArtifactPathOf(const std::string& uri) {
  const std::string prefix = "mlflow-artifacts:";
  std::string p = uri.starts_with(prefix) ? uri.substr(prefix.size()) : uri;
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  return p;
}

Status CheckArtifactPath(const std::string& path) {
  std::string_view rel = path;
  if (rel.size() > 1 && rel.back() == '/') rel.remove_suffix(1);
  Status st = CheckUntrustedPath(rel, PathBase::kFolder);
  if (!st.ok()) return Status::User("invalid artifact path: " + st.message());
  return Status::Ok();
}

Json FileInfoJson(const std::string& path, const meta::ArtifactEntry& e) {
  Json f{{"path", path}, {"is_dir", e.is_dir}};
  if (!e.is_dir) f["file_size"] = e.size;
  // forja's addition (MLflow's clients read path, is_dir and file_size only): forja serve
  // fetches a logged model's files by hash and verifies them (serve/mlflow_source.h).
  if (!e.is_dir && e.hash.starts_with("sha256:")) f["hash"] = e.hash;
  return f;
}

// Stores bytes as an object, durably (fsync): an acknowledged upload survives a crash.
Result<Oid> Impl::StoreObject(const std::string& data) {
  Oid oid = Sha256::Of(data);
  std::string obj = cache->PathOf(oid);
  if (Exists(obj)) return oid;
  RETURN_IF_ERROR(MakeDirs(Dirname(obj)));
  ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(obj, 0444));
  RETURN_IF_ERROR(tmp.Write(data));
  RETURN_IF_ERROR(tmp.Publish(/*durable=*/true));
  return oid;
}

net::Response Impl::FileResponse(const Oid& oid, const std::string& content_type) {
  int fd = ::open(cache->PathOf(oid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ErrorResponse({500, "INTERNAL_ERROR", "object " + oid.Hex() + " is missing from the artifact store"});
  struct stat st;
  ::fstat(fd, &st);
  net::Response r;
  r.content_type = content_type;
  r.file_fd = fd;
  r.file_size = static_cast<uint64_t>(st.st_size);
  // Artifacts are anyone's bytes (an HTML report, an SVG): a browser that opens this URL
  // saves the file rather than render it, never sniffs it into a script or a page, and
  // anything it did render runs sandboxed (opaque origin, no script), so an artifact can
  // never act as forja server's origin. The web UI previews through fetch, not this page.
  r.headers.push_back({"Content-Disposition", "attachment"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Content-Security-Policy", "sandbox; default-src 'none'"});
  return r;
}

net::Response Impl::Artifacts(net::Request& req, const std::string& rel, const Caller& caller) {
  if (req.method == "GET" && rel.empty()) {  // a listing: ?path=
    std::string folder = req.Param("path");
    if (!folder.empty()) {
      Status st = CheckArtifactPath(folder);
      if (!st.ok()) return ErrorResponse(FromStatus(st));
    }
    auto list = store->ListArtifacts(folder);
    if (!list.ok()) return ErrorResponse(FromStatus(list.status()));
    Json j = Json::object();
    if (!list->empty()) {
      Json files = Json::array();
      for (const auto& e : *list) files.push_back(FileInfoJson(e.path, e));
      j["files"] = std::move(files);
    }
    return JsonResponse(200, j);
  }
  Status st = CheckArtifactPath(rel);
  if (!st.ok()) return ErrorResponse(FromStatus(st));
  if (req.method == "GET" || req.method == "HEAD") {
    if (Status auth = registry::Authorize("GET mlflow-artifacts", caller.role); !auth.ok())
      return ErrorResponse(FromStatus(auth));
    auto a = store->GetArtifact(rel);
    if (!a.ok()) return ErrorResponse(FromStatus(a.status()));
    auto oid = Oid::FromHex(a->hash.substr(7));
    return FileResponse(*oid, "application/octet-stream");
  }
  if (req.method != "PUT" && req.method != "DELETE")
    return ErrorResponse({405, "BAD_REQUEST", "artifacts accept GET, PUT and DELETE"});
  if (Status auth = registry::Authorize(req.method + " mlflow-artifacts", caller.role); !auth.ok())
    return ErrorResponse(FromStatus(auth));
  if (req.method == "PUT") {
    if (req.body.size() > config.max_upload_bytes)
      return ErrorResponse({413, "BAD_REQUEST", "the artifact is larger than the server's limit"});
    st = registry::CheckPackageArtifact(*cache, rel, "sha256:" + Sha256::Of(req.body).Hex(),
                                        static_cast<int64_t>(req.body.size()));
    if (!st.ok()) return ErrorResponse(FromStatus(st));
    auto oid = StoreObject(req.body);
    if (!oid.ok()) return ErrorResponse(FromStatus(oid.status()));
    st = store->PutArtifact(rel, "sha256:" + oid->Hex(), static_cast<int64_t>(req.body.size()));
    if (!st.ok()) return ErrorResponse(FromStatus(st));
    return JsonResponse(200, Json::object());
  }
  if (req.method == "DELETE") {
    st = registry::CheckPackageArtifact(*cache, rel, "", 0);
    if (!st.ok()) return ErrorResponse(FromStatus(st));
    st = store->DeleteArtifacts(rel);
    if (!st.ok()) return ErrorResponse(FromStatus(st));
    return JsonResponse(200, Json::object());
  }
  return ErrorResponse({405, "BAD_REQUEST", "artifacts accept GET, PUT and DELETE"});
}

net::Response Impl::Objects(net::Request& req, const std::string& hex, const Caller& caller) {
  auto oid = Oid::FromHex(hex);
  if (!oid) return ErrorResponse({400, "INVALID_PARAMETER_VALUE", "'" + hex.substr(0, 80) + "' is not a sha256 hash"});
  if (req.method == "GET" || req.method == "HEAD") {
    if (Status auth = registry::Authorize("GET forja/objects", caller.role); !auth.ok())
      return ErrorResponse(FromStatus(auth));
    if (!cache->Has(*oid)) return ErrorResponse({404, "RESOURCE_DOES_NOT_EXIST", "no object " + hex});
    return FileResponse(*oid, "application/octet-stream");
  }
  if (req.method != "PUT") return ErrorResponse({405, "BAD_REQUEST", "objects accept GET and PUT"});
  if (Status auth = registry::Authorize("PUT forja/objects", caller.role); !auth.ok())
    return ErrorResponse(FromStatus(auth));
  if (Sha256::Of(req.body) != *oid)
    return ErrorResponse({400, "INVALID_PARAMETER_VALUE", "the body does not hash to " + hex});
  CrashPoint("api.object_before_store");  // body received and hashed, not stored
  auto stored = StoreObject(req.body);
  if (!stored.ok()) return ErrorResponse(FromStatus(stored.status()));
  return JsonResponse(200, Json::object());
}

Result<Json> Impl::PutArtifactRef(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string path, p.Str("path", true));
  ASSIGN_OR_RETURN(std::string hash, p.Str("hash", true));
  ASSIGN_OR_RETURN(int64_t size, p.Int("size", 0));
  RETURN_IF_ERROR(CheckArtifactPath(path));
  auto oid = hash.starts_with("sha256:") ? Oid::FromHex(hash.substr(7)) : std::nullopt;
  if (!oid) return Status::User("hash must be sha256:<64 hex digits>");
  if (!cache->Has(*oid)) return Status::User("the server has no object " + hash + "; upload it first");
  RETURN_IF_ERROR(registry::CheckPackageArtifact(*cache, path, hash, size));
  RETURN_IF_ERROR(store->PutArtifact(path, hash, size));
  return Json::object();
}

Result<Json> Impl::MissingObjects(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(auto hashes, p.List("hashes"));
  Json missing = Json::array();
  for (const std::string& h : hashes) {
    auto oid = Oid::FromHex(h.starts_with("sha256:") ? h.substr(7) : h);
    if (!oid) return Status::User("'" + h.substr(0, 80) + "' is not a sha256 hash");
    if (!cache->Has(*oid)) missing.push_back(h);
  }
  return Json{{"missing", missing}};
}

}  // namespace forja::api
