// fuzz-libs: forja_data
// Fuzzes the readers of DVC's files that forja import dvc and forja pull read from a
// repository or a remote (hostile input): .dvc files, .dir listings, dvc.lock and
// .dvc/config. The first byte picks the reader: F (.dvc), D (.dir), L (dvc.lock),
// C (config); the rest is the file's text.
//
// Invariants, beyond "no crash":
//  - a failure is a user error whose message starts with the file's name;
//  - every path a success returns passes CheckUntrustedPath (a .dir relpath as a path
//    inside its folder), and every md5 is 32 lowercase hex digits;
//  - the object keys built from an md5 stay under files/md5/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/core/path.h"
#include "forja/data/dvc_formats.h"
#include "forja/data/pointer.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;

void CheckError(const forja::Status& st, const std::string& name) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message());
  FUZZ_CHECK(forja::fuzz::StartsWith(st.message(), name), st.message());
}

// dvc.lock's paths are relative to their stage's wdir: they may start with "../"
// (dvc_import.cc checks them again once joined with the wdir).
std::string_view AfterClimb(std::string_view p, bool lock) {
  while (lock && p.starts_with("../")) p.remove_prefix(3);
  return p;
}

void CheckOut(const forja::DvcOut& o, bool lock = false) {
  FUZZ_CHECK(forja::CheckUntrustedPath(AfterClimb(o.path, lock)).ok(), Show(o.path));
  FUZZ_CHECK(forja::IsMd5Hex(o.md5), Show(o.md5));
  std::string key = forja::DvcObjectKey(o.md5, o.is_dir);
  FUZZ_CHECK(key.starts_with("files/md5/") && key.find("..") == std::string::npos, Show(key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'F': {
      auto r = forja::ParseDvcFile(text, "x.dvc");
      if (!r.ok()) return CheckError(r.status(), "x.dvc"), 0;
      FUZZ_CHECK(!r->empty(), Show(text));
      for (const auto& o : *r) CheckOut(o);
      return 0;
    }
    case 'D': {
      auto r = forja::ParseDvcDir(text, "x.dir");
      if (!r.ok()) return CheckError(r.status(), "x.dir"), 0;
      for (const auto& e : *r) {
        FUZZ_CHECK(forja::CheckUntrustedPath(e.relpath, forja::PathBase::kFolder).ok(), Show(e.relpath));
        FUZZ_CHECK(forja::IsMd5Hex(e.md5), Show(e.md5));
      }
      return 0;
    }
    case 'L': {
      auto r = forja::ParseDvcLock(text, "dvc.lock");
      if (!r.ok()) return CheckError(r.status(), "dvc.lock"), 0;
      for (const auto& s : *r) {
        for (const auto& o : s.deps) CheckOut(o, true);
        for (const auto& o : s.outs) CheckOut(o, true);
        for (const auto& p : s.params) {
          FUZZ_CHECK(forja::CheckUntrustedPath(AfterClimb(p.source, true)).ok(), Show(p.source));
          for (const auto& v : p.values) FUZZ_CHECK(v.value_json.find('\n') == std::string::npos, Show(v.value_json));
        }
      }
      return 0;
    }
    case 'C': {
      forja::DvcConfig cfg;
      forja::Status st = forja::ParseDvcConfig(text, ".dvc/config", &cfg);
      if (!st.ok()) return CheckError(st, ".dvc/config"), 0;
      for (const auto& r : cfg.remotes) {
        FUZZ_CHECK(!r.name.empty() && r.name[0] != '.' && r.name.find('/') == std::string::npos, Show(r.name));
      }
      return 0;
    }
    default:
      return 0;
  }
}
