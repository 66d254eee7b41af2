// forja verify: rehash every stored object; quarantine the ones that lie.
#include <unistd.h>

#include <mutex>

#include "forja/core/fs.h"
#include "forja/core/parallel.h"
#include "forja/core/progress.h"
#include "forja/data/data.h"

namespace forja {

Result<VerifyResult> Verify(Workspace& ws, const std::string& remote_name, int jobs) {
  VerifyResult res;
  Cache& cache = ws.cache();
  std::unique_ptr<Remote> remote;
  std::vector<Oid> all;
  if (!remote_name.empty()) {
    std::string name;
    ASSIGN_OR_RETURN(remote, ws.OpenRemote(remote_name, &name));
    res.where = "remote '" + name + "'";
    res.quarantine = remote->Describe() + "/quarantine";
    ASSIGN_OR_RETURN(all, remote->List());
    if (jobs <= 0) jobs = DefaultTransferJobs(ws.config().FindRemote(name)->url);
  } else {
    res.where = "cache";
    res.quarantine = ws.ForjaDir() + "/quarantine";
    ASSIGN_OR_RETURN(all, cache.List());
    if (jobs <= 0) jobs = DefaultJobs();
  }
  std::mutex mu;
  std::atomic<uint64_t> bytes{0};
  std::string tmp_dir = ws.ForjaDir() + "/tmp";
  RETURN_IF_ERROR(MakeDirs(tmp_dir));
  Progress progress("verifying " + res.where, all.size());
  RETURN_IF_ERROR(ParallelFor(all.size(), jobs, [&](size_t i) {
    const Oid& oid = all[i];
    Oid got;
    uint64_t n = 0;
    auto count = [&](size_t k) {
      n += k;
      progress.Add(0, k);
    };
    if (remote) {
      ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(tmp_dir + "/" + oid.Hex()));
      Status st = remote->Get(oid, tmp.fd());
      if (st.code() == Code::kNotFound) return Status::Ok();  // removed meanwhile
      RETURN_IF_ERROR(st);
      if (::lseek(tmp.fd(), 0, SEEK_SET) != 0) return Status::FromErrno("seek", errno);
      ASSIGN_OR_RETURN(got, HashFd(tmp.fd(), tmp.path(), count));
    } else {
      auto fd = OpenRead(cache.PathOf(oid));
      if (!fd.ok()) {
        if (fd.status().code() == Code::kNotFound) return Status::Ok();
        return fd.status();
      }
      ASSIGN_OR_RETURN(got, HashFd(fd->get(), cache.PathOf(oid), count));
    }
    bytes += n;
    progress.Add(1);
    if (got == oid) return Status::Ok();
    RETURN_IF_ERROR(remote ? remote->Quarantine(oid) : cache.Quarantine(oid, res.quarantine));
    std::lock_guard<std::mutex> lock(mu);
    res.corrupt.push_back(oid);
    return Status::Ok();
  }));
  res.checked = all.size();
  res.bytes = bytes;
  return res;
}

}  // namespace forja
