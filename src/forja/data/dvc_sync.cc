#include "forja/data/dvc_sync.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>

#include "forja/cas/manifest.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/path.h"
#include "forja/core/strings.h"
#include "forja/data/dvc_formats.h"
#include "forja/data/lockfile.h"

namespace forja {

namespace {

// A download's temp file in the cache folder, created read-only (0444, the mode of
// every object) so a verified download becomes the object by a rename alone. Removed
// on destruction unless it was moved into the cache.
class DownloadTemp {
 public:
  static Result<DownloadTemp> Create(const Cache& cache) {
    DownloadTemp t(TempNameBeside(cache.root() + "/dvc-download"));
    t.fd_ = Fd(::open(t.path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!t.fd_.valid()) return Status::FromErrno("cannot create " + t.path_, errno);
    return t;
  }
  DownloadTemp(DownloadTemp&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)), owned_(o.owned_) {
    o.owned_ = false;
  }
  DownloadTemp& operator=(DownloadTemp&&) = delete;
  ~DownloadTemp() {
    if (owned_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // Hands the file to the cache (it renames or removes it); the fd is closed first.
  Status AdoptInto(Cache& cache, const Oid& oid) {
    fd_.Reset();
    owned_ = false;
    return cache.AdoptPath(path_, oid);
  }

 private:
  explicit DownloadTemp(std::string path) : path_(std::move(path)) {}
  std::string path_;
  Fd fd_;
  bool owned_ = true;
};

struct Md5Sha256 {
  std::string md5;
  Oid sha256;
  uint64_t size = 0;
};

// One read of the file from offset 0: DVC's md5 and forja's SHA-256 together.
Result<Md5Sha256> HashBoth(int fd, const std::string& shown) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md5(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md5 || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) return Status::Internal("md5 init failed");
  Sha256 sha;
  Md5Sha256 out;
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.get(), 1 << 20, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + shown, errno);
    }
    if (n == 0) break;
    EVP_DigestUpdate(md5.get(), buf.get(), static_cast<size_t>(n));
    sha.Update(buf.get(), static_cast<size_t>(n));
    off += n;
  }
  out.size = static_cast<uint64_t>(off);  // the bytes hashed, so the size fits the hashes
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md5.get(), d, &len);
  static const char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; i++) {
    out.md5.push_back(kHex[d[i] >> 4]);
    out.md5.push_back(kHex[d[i] & 15]);
  }
  out.sha256 = sha.Finish();
  return out;
}

// Downloads DVC's object into a temp file in the cache folder and hashes it once:
// its md5 must be `md5` (else Corrupt, and the temp file is removed: nothing written).
Result<DownloadTemp> DownloadVerified(Cache& cache, Remote& remote, const std::string& remote_name,
                                      const std::string& md5, bool is_dir, const std::string& label,
                                      Md5Sha256* hashed) {
  ASSIGN_OR_RETURN(DownloadTemp tmp, DownloadTemp::Create(cache));
  std::string key = DvcObjectKey(md5, is_dir);
  Status st = remote.GetKey(key, tmp.fd());
  if (st.code() == Code::kNotFound) {
    // DVC 2 kept objects at ab/cdef...; the md5 check below decides whether they fit.
    st = remote.GetKey(DvcLegacyKey(md5, is_dir), tmp.fd());
    if (st.code() == Code::kNotFound)
      return Status::NotFound(label + ": DVC object " + key + " is not on remote '" + remote_name +
                              "'; push it there with dvc push from a repository that has it");
  }
  RETURN_IF_ERROR(st);
  ASSIGN_OR_RETURN(*hashed, HashBoth(tmp.fd(), tmp.path()));
  if (hashed->md5 != md5)
    return Status::Corrupt(label + ": remote '" + remote_name + "' returned bytes for " + key + " whose md5 is " +
                           hashed->md5 + ", not " + md5 + "; refused (nothing written): the DVC remote's copy is "
                           "corrupt, restore it with dvc push from a repository that has the data");
  return tmp;
}

// The verified download itself becomes the cache object (a rename): no second copy.
Result<Pointer> FetchFile(Cache& cache, Remote& remote, const std::string& remote_name, const std::string& md5,
                          const std::string& label) {
  Md5Sha256 h;
  ASSIGN_OR_RETURN(DownloadTemp tmp, DownloadVerified(cache, remote, remote_name, md5, false, label, &h));
  RETURN_IF_ERROR(tmp.AdoptInto(cache, h.sha256));
  Pointer p;
  p.oid = h.sha256;
  p.size = h.size;
  p.files = 1;
  p.dvc_md5 = md5;
  return p;
}

bool IsPointerName(const std::string& n) {
  return n.size() > kPointerSuffix.size() &&
         n.compare(n.size() - kPointerSuffix.size(), kPointerSuffix.size(), kPointerSuffix) == 0;
}

Status Collect(const std::string& root, const std::string& rel, std::vector<std::string>* out) {
  std::string abs = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(abs.c_str());
  if (!d) return errno == ENOENT || errno == ENOTDIR ? Status::Ok() : Status::FromErrno("cannot read folder " + abs, errno);
  std::vector<std::string> names, dirs;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (rel.empty() && (n == ".git" || n == ".forja" || n == ".dvc")) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::lstat((abs + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    (is_dir ? dirs : names).push_back(n);
  }
  ::closedir(d);
  std::set<std::string> files(names.begin(), names.end());
  for (const auto& n : names)
    if (IsPointerName(n)) out->push_back(JoinPath(rel, n.substr(0, n.size() - kPointerSuffix.size())));
  for (const auto& n : dirs) {
    if (files.count(n + std::string(kPointerSuffix))) continue;  // tracked data: no pointers inside
    RETURN_IF_ERROR(Collect(root, JoinPath(rel, n), out));
  }
  return Status::Ok();
}

bool Selected(const std::vector<std::string>& rels, const std::string& path) {
  if (rels.empty()) return true;
  for (std::string r : rels) {
    if (IsPointerName(r)) r.resize(r.size() - kPointerSuffix.size());
    while (!r.empty() && r.back() == '/') r.pop_back();
    if (r.empty() || IsUnder(path, r)) return true;
  }
  return false;
}

}  // namespace

Result<Pointer> FetchDvcObject(Cache& cache, Remote& remote, const std::string& remote_name, const std::string& md5,
                               bool is_dir, const std::string& label, int jobs) {
  RETURN_IF_ERROR(cache.Prepare());
  if (!is_dir) return FetchFile(cache, remote, remote_name, md5, label);
  Md5Sha256 h;
  ASSIGN_OR_RETURN(DownloadTemp tmp, DownloadVerified(cache, remote, remote_name, md5, true, label, &h));
  ASSIGN_OR_RETURN(std::string listing, ReadFile(tmp.path()));
  ASSIGN_OR_RETURN(auto entries, ParseDvcDir(listing, label + " (" + DvcObjectKey(md5, true) + ")"));
  std::vector<ManifestEntry> files(entries.size());
  RETURN_IF_ERROR(ParallelFor(entries.size(), jobs > 0 ? jobs : 4, [&](size_t i) {
    ASSIGN_OR_RETURN(Pointer f, FetchFile(cache, remote, remote_name, entries[i].md5, label + "/" + entries[i].relpath));
    files[i] = ManifestEntry{entries[i].relpath, f.oid, f.size, 0644};
    return Status::Ok();
  }));
  SortManifest(&files);
  Pointer p;
  p.is_dir = true;
  ASSIGN_OR_RETURN(p.oid, cache.StoreBytes(SerializeManifest(files)));
  for (const auto& f : files) p.size += f.size;
  p.files = files.size();
  p.dvc_md5 = md5;
  return p;
}

Result<std::vector<Tracked>> FindPointersAllowUnfetched(const Workspace& ws, const std::string& rel) {
  std::vector<std::string> found;
  RETURN_IF_ERROR(Collect(ws.root(), rel, &found));
  std::vector<Tracked> out;
  for (const auto& r : found) {
    std::string shown = r + std::string(kPointerSuffix);
    if (Status bad = CheckUntrustedPath(r); !bad.ok())
      return Status::User(shown + ": " + bad.message() + "; forja refuses this pointer file: delete it");
    Tracked t;
    t.rel = r;
    t.pointer_path = ws.Abs(r) + std::string(kPointerSuffix);
    ASSIGN_OR_RETURN(std::string text, ReadFile(t.pointer_path));
    ASSIGN_OR_RETURN(t.pointer, ParsePointer(text, shown, Basename(r), /*allow_unfetched=*/true));
    out.push_back(std::move(t));
  }
  return out;
}

Result<DvcFetched> FetchFromDvcLayout(Workspace& ws, const std::vector<std::string>& rels,
                                    const std::string& remote_name, int jobs) {
  // Candidates: pointers and lock outs that carry DVC's md5.
  std::vector<Tracked> cands;
  {
    ASSIGN_OR_RETURN(auto all, FindPointersAllowUnfetched(ws, ""));
    for (auto& t : all)
      if (!t.pointer.dvc_md5.empty() && Selected(rels, t.rel)) cands.push_back(std::move(t));
    ASSIGN_OR_RETURN(forja::Lock lock, ReadLock(ws.root()));
    for (const auto& st : lock.stages)
      for (const auto& o : st.outs)
        if (o.cache && !o.dvc_md5.empty() && Selected(rels, o.path))
          cands.push_back(Tracked{o.path, ws.root() + "/" + std::string(kLockName), PointerOf(o)});
  }
  Cache& cache = ws.cache();
  std::vector<Tracked*> need;
  std::vector<Oid> probe;
  for (auto& t : cands) {
    if (!t.pointer.has_oid) need.push_back(&t);
    else if (!cache.Has(t.pointer.oid)) probe.push_back(t.pointer.oid);
  }
  DvcFetched out;
  if (need.empty() && probe.empty()) return out;
  std::string chosen;
  ASSIGN_OR_RETURN(auto remote, ws.OpenRemote(remote_name, &chosen));
  if (!probe.empty()) {
    // Under SHA-256 on the remote already (someone pushed with forja): the normal way.
    ASSIGN_OR_RETURN(auto has, remote->Has(probe, jobs > 0 ? jobs : 8));
    std::set<Oid> absent;
    for (size_t i = 0; i < probe.size(); i++)
      if (!has[i]) absent.insert(probe[i]);
    for (auto& t : cands)
      if (t.pointer.has_oid && absent.count(t.pointer.oid)) need.push_back(&t);
  }
  std::sort(need.begin(), need.end(), [](const Tracked* a, const Tracked* b) { return a->rel < b->rel; });
  need.erase(std::unique(need.begin(), need.end(), [](const Tracked* a, const Tracked* b) { return a->rel == b->rel; }),
             need.end());
  std::vector<Pointer> got;
  for (Tracked* t : need) {
    const Pointer& want = t->pointer;
    LogVerbose(t->rel + ": fetching from the DVC layout of remote '" + chosen + "' (md5 " + want.dvc_md5 + ")");
    ASSIGN_OR_RETURN(Pointer v, FetchDvcObject(cache, *remote, chosen, want.dvc_md5, want.is_dir, t->rel, jobs));
    std::string shown = t->pointer_path.ends_with(kLockName) ? std::string(kLockName) : t->rel + std::string(kPointerSuffix);
    if (want.has_oid && v.oid != want.oid)
      return Status::Corrupt(t->rel + ": the DVC remote's bytes match md5 " + want.dvc_md5 + " but hash to sha256:" +
                             v.oid.Hex().substr(0, 12) + "…, not the sha256:" + want.oid.Hex().substr(0, 12) + "… " +
                             shown + " records; nothing was written (a folder's files may have had an executable "
                             "bit, which DVC does not keep): forja push it from the repository it was imported in");
    if (want.is_dir != v.is_dir)
      return Status::User(shown + ": says " + (want.is_dir ? "folder" : "file") + " but DVC's md5 names a " +
                          (v.is_dir ? "folder" : "file"));
    if (!want.has_oid && want.size != 0 && want.size != v.size)
      return Status::Corrupt(t->rel + ": " + shown + " records " + std::to_string(want.size) +
                             " bytes but the DVC remote's data (md5 verified) has " + std::to_string(v.size) +
                             "; refused: fix the pointer file (or the .dvc file it came from)");
    got.push_back(v);
  }
  // Objects durable before any pointer names them.
  RETURN_IF_ERROR(cache.Sync());
  for (size_t i = 0; i < need.size(); i++) {
    Tracked* t = need[i];
    if (t->pointer.has_oid) continue;
    Pointer p = t->pointer;
    p.oid = got[i].oid;
    p.has_oid = true;
    p.size = got[i].size;
    p.files = got[i].files;
    RETURN_IF_ERROR(WriteFileAtomic(t->pointer_path, p.Serialize()));
    LogInfo(t->rel + ": fetched from DVC's layout on '" + chosen + "' (md5 verified); " + t->rel +
            std::string(kPointerSuffix) + " now records sha256:" + p.oid.Hex().substr(0, 12) + " (commit it)");
  }
  out.paths = need.size();
  for (const auto& v : got) {
    out.objects += v.files + (v.is_dir ? 1 : 0);  // a folder's files and its .dir listing
    out.bytes += v.size;
  }
  return out;
}

}  // namespace forja
