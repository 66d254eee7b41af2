#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/cas/state_db.h"
#include "forja/cas/walk.h"
#include "forja/core/fs.h"

namespace forja {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/forja-cas-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::string cmd = "chmod -R u+w " + path_ + " && rm -rf " + path_;
    if (std::system(cmd.c_str()) != 0) {
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

FileStat StatOf(const std::string& p) {
  struct stat st;
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return FileStat::From(st);
}

TEST(Cache, ParseLinkTypesAppendsCopyAndRejectsUnknown) {
  auto t = ParseLinkTypes("hardlink");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[1], LinkType::kCopy);
  auto bad = ParseLinkTypes("reflink, symlink");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown link type 'symlink'; use reflink, hardlink or copy");
}

TEST(Cache, HardlinkStoreMakesTheWorkspaceFileTheReadOnlyObject) {
  TempDir d;
  Cache cache(d.path() + "/cache", {LinkType::kHardlink, LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  std::string ws = d.path() + "/data.bin";
  ASSERT_TRUE(WriteFileAtomic(ws, "payload").ok());
  ASSERT_TRUE(cache.ChooseLinkType(d.path()).ok());
  EXPECT_EQ(cache.effective_link_type(), LinkType::kHardlink);
  Oid oid = Sha256::Of("payload");
  ASSERT_TRUE(cache.Store(ws, oid, StatOf(ws)).ok());
  EXPECT_TRUE(cache.Has(oid));
  EXPECT_EQ(StatOf(ws).ino, StatOf(cache.PathOf(oid)).ino);
  EXPECT_EQ(StatOf(cache.PathOf(oid)).mode & 0777, 0444u);
  EXPECT_EQ(cache.PathOf(oid), d.path() + "/cache/" + ObjectKey(oid));

  // A second file with the same bytes is replaced by a link to the cached inode.
  std::string twin = d.path() + "/twin.bin";
  ASSERT_TRUE(WriteFileAtomic(twin, "payload").ok());
  ASSERT_TRUE(cache.Store(twin, oid, StatOf(twin)).ok());
  EXPECT_EQ(StatOf(twin).ino, StatOf(cache.PathOf(oid)).ino);
}

TEST(Cache, CopyStoreLeavesTheWorkspaceFileAlone) {
  TempDir d;
  Cache cache(d.path() + "/cache", {LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  std::string ws = d.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(ws, "bytes").ok());
  Oid oid = Sha256::Of("bytes");
  ASSERT_TRUE(cache.Store(ws, oid, StatOf(ws)).ok());
  ASSERT_TRUE(cache.Sync().ok());
  EXPECT_NE(StatOf(ws).ino, StatOf(cache.PathOf(oid)).ino);
  EXPECT_EQ(*cache.Read(oid), "bytes");

  // Checkout writes a writable copy; executable bit from the mode.
  std::string out = d.path() + "/restored";
  ASSERT_TRUE(cache.Checkout(oid, out, 0755).ok());
  EXPECT_EQ(*ReadFile(out), "bytes");
  EXPECT_EQ(StatOf(out).mode & 0777, 0755u);
  EXPECT_EQ(cache.Checkout(Sha256::Of("absent"), out, 0644).code(), Code::kNotFound);
}

TEST(Cache, StoreRefusesAFileThatChangedSinceItWasHashed) {
  TempDir d;
  Cache cache(d.path() + "/cache", {LinkType::kHardlink});
  ASSERT_TRUE(cache.Prepare().ok());
  std::string ws = d.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(ws, "v1").ok());
  FileStat hashed = StatOf(ws);
  ASSERT_EQ(::truncate(ws.c_str(), 10), 0);  // grows after hashing
  Status st = cache.Store(ws, Sha256::Of("v1"), hashed);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_NE(st.message().find("changed while it was being added"), std::string::npos);
  EXPECT_FALSE(cache.Has(Sha256::Of("v1")));
}

TEST(Cache, ListRemoveQuarantine) {
  TempDir d;
  Cache cache(d.path() + "/cache", {LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  auto a = cache.StoreBytes("a");
  auto b = cache.StoreBytes("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(cache.List()->size(), 2u);
  ASSERT_TRUE(cache.Remove(*a).ok());
  ASSERT_TRUE(cache.Quarantine(*b, d.path() + "/q").ok());
  EXPECT_TRUE(cache.List()->empty());
  EXPECT_TRUE(Exists(d.path() + "/q/" + b->Hex()));
}

TEST(Cache, AdoptPathRenamesAVerifiedTempIntoPlaceOnceAndLeavesNoTemp) {
  TempDir d;
  Cache cache(d.path() + "/cache", {LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  Oid oid = Sha256::Of("bytes");
  std::string t1 = d.path() + "/cache/.dl.tmp-1-1", t2 = d.path() + "/cache/.dl.tmp-1-2";
  ASSERT_TRUE(WriteFileAtomic(t1, "bytes", 0444).ok());
  ASSERT_TRUE(WriteFileAtomic(t2, "bytes", 0444).ok());
  ASSERT_TRUE(cache.AdoptPath(t1, oid).ok());
  EXPECT_EQ(*cache.Read(oid), "bytes");
  struct stat st;
  ASSERT_EQ(::stat(cache.PathOf(oid).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  // A twin arriving later: the object stays, the temp file goes.
  ASSERT_TRUE(cache.AdoptPath(t2, oid).ok());
  EXPECT_FALSE(Exists(t1));
  EXPECT_FALSE(Exists(t2));
  EXPECT_EQ(cache.List()->size(), 1u);
}

TEST(Manifest, SerializeIsSortedCanonicalAndParsesBack) {
  std::vector<ManifestEntry> e = {{"b/c.txt", Sha256::Of("1"), 1, 0644},
                                  {"a\nnewline\\slash", Sha256::Of("2"), 22, 0755},
                                  {"a", Sha256::Of("3"), 333, 0644}};
  SortManifest(&e);
  std::string text = SerializeManifest(e);
  auto back = ParseManifest(text, "m");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].path, "a");
  EXPECT_EQ((*back)[1].path, "a\nnewline\\slash");
  EXPECT_EQ((*back)[1].mode, 0755u);
  EXPECT_EQ((*back)[2].size, 1u);
  EXPECT_EQ(SerializeManifest(*back), text);
}

TEST(StateDb, SnapshotsRoundTripAndReplace) {
  TempDir d;
  auto db = StateDb::Open(d.path() + "/state.db");
  ASSERT_TRUE(db.ok()) << db.status().message();
  Snapshot s;
  s.oid = Sha256::Of("tree");
  s.taken_ns = 123456789;
  for (int i = 0; i < 3; i++) {
    StampedFile f;
    f.path = "f" + std::to_string(i);
    f.stat.ino = 10 + i;
    f.stat.size = 100 + i;
    f.stat.mtime_ns = 1000 + i;
    f.stat.ctime_ns = 2000 + i;
    f.oid = Sha256::Of(f.path);
    s.files.push_back(f);
  }
  ASSERT_TRUE((*db)->Put("data", s).ok());
  auto got = (*db)->Get("data");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  const Snapshot& g = **got;
  EXPECT_EQ(g.oid, s.oid);
  EXPECT_EQ(g.taken_ns, 123456789);
  ASSERT_EQ(g.files.size(), 3u);
  const StampedFile* f1 = g.Find("f1");
  ASSERT_NE(f1, nullptr);
  EXPECT_EQ(f1->stat.ino, 11u);
  EXPECT_EQ(f1->oid, Sha256::Of("f1"));
  EXPECT_EQ(g.Find("zz"), nullptr);
  ASSERT_TRUE((*db)->Remove("data").ok());
  EXPECT_FALSE((*db)->Get("data")->has_value());
}

TEST(StateDb, RacyFilesAreNotTrusted) {
  Snapshot s;
  s.taken_ns = 10'000'000'000;
  StampedFile f;
  f.stat = {1, 2, 9'990'000'000, 9'990'000'000, 0};  // modified 10 ms before the snapshot
  EXPECT_FALSE(s.Trusts(f, f.stat));
  f.stat.mtime_ns = 5'000'000'000;
  EXPECT_TRUE(s.Trusts(f, f.stat));
  FileStat other = f.stat;
  other.ctime_ns++;
  EXPECT_FALSE(s.Trusts(f, other));
}

TEST(Walk, ListsFilesSortedAndSkipsForjaTempFiles) {
  TempDir d;
  ASSERT_TRUE(MakeDirs(d.path() + "/t/sub/deeper").ok());
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/t/b", "").ok());
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/t/sub/deeper/a", "").ok());
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/t/.x.tmp-12-3", "").ok());
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/t/.hidden", "").ok());
  ASSERT_EQ(::symlink("b", (d.path() + "/t/link").c_str()), 0);
  auto w = WalkTree(d.path() + "/t");
  ASSERT_TRUE(w.ok());
  std::vector<std::string> paths;
  for (const auto& e : *w) paths.push_back(e.path + (e.symlink ? "@" : ""));
  EXPECT_EQ(paths, (std::vector<std::string>{".hidden", "b", "link@", "sub/deeper/a"}));
}

}  // namespace
}  // namespace forja
