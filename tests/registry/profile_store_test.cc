// Reference profiles attached to model versions (profile_store.h) through a real SQLite store
// and a cache: the tag and the artifact that name the object, loading, replacing, fetching
// what the cache lacks, and the errors: unknown versions, bad tags, corrupt bytes.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

#include "forja/cas/cache.h"
#include "forja/core/fs.h"
#include "forja/registry/profile_store.h"

namespace forja::registry {
namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<meta::MetaStore> store;
  std::unique_ptr<Cache> cache;
};

Fixture Open() {
  char tmpl[] = "/tmp/forja-profile-XXXXXX";
  Fixture f;
  f.dir = mkdtemp(tmpl);
  auto store = meta::OpenSqlStore("sqlite:///" + f.dir + "/forja.db");
  EXPECT_TRUE(store.ok()) << store.status().message();
  f.store = std::move(*store);
  f.cache = std::make_unique<Cache>(f.dir + "/cache", std::vector<LinkType>{LinkType::kCopy});
  EXPECT_TRUE(f.cache->Prepare().ok());
  EXPECT_TRUE(f.store->CreateRegisteredModel("churn", "", {}).ok());
  for (int i = 0; i < 2; ++i) {
    meta::ModelVersion v;
    v.name = "churn";
    v.source = "s3://bucket/churn";
    EXPECT_TRUE(f.store->CreateModelVersion(v).ok());
  }
  return f;
}

const std::string kJson = R"({"format": "forja-profile", "version": 1, "rows": 0, "columns": []})";

TEST(ProfileStoreTest, AttachesLoadsAndReplaces) {
  Fixture f = Open();
  auto none = LoadProfile(*f.store, *f.cache, {}, "churn", 1);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());

  std::vector<Oid> uploaded;
  ObjectUpload upload = [&](Cache&, const std::vector<Oid>& objects) {
    uploaded.insert(uploaded.end(), objects.begin(), objects.end());
    return Status::Ok();
  };
  ASSERT_TRUE(AttachProfile(*f.store, *f.cache, upload, "churn", 1, kJson).ok());
  Oid object = Sha256::Of(kJson);
  EXPECT_EQ(uploaded, std::vector<Oid>{object});
  auto v = f.store->GetModelVersion("churn", 1);
  ASSERT_TRUE(v.ok());
  auto named = ProfileObject(*v);
  ASSERT_TRUE(named.ok() && named->has_value());
  EXPECT_EQ(**named, object);
  // The store names the object, so a gc of the cache keeps it.
  auto refs = f.store->ReferencedObjects();
  ASSERT_TRUE(refs.ok());
  EXPECT_NE(std::find(refs->begin(), refs->end(), "sha256:" + object.Hex()), refs->end());
  auto artifact = f.store->GetArtifact(ProfileArtifactPath(object));
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();
  EXPECT_EQ(artifact->size, static_cast<int64_t>(kJson.size()));

  auto loaded = LoadProfile(*f.store, *f.cache, {}, "churn", 1);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, kJson);
  // Version 2 has none; attaching again replaces version 1's.
  auto other = LoadProfile(*f.store, *f.cache, {}, "churn", 2);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  std::string second = kJson + "\n";
  ASSERT_TRUE(AttachProfile(*f.store, *f.cache, {}, "churn", 1, second).ok());
  loaded = LoadProfile(*f.store, *f.cache, {}, "churn", 1);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, second);
}

TEST(ProfileStoreTest, UnknownVersionsStoreNothing) {
  Fixture f = Open();
  Status st = AttachProfile(*f.store, *f.cache, {}, "churn", 9, kJson);
  EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
  EXPECT_FALSE(f.cache->Has(Sha256::Of(kJson)));
  EXPECT_EQ(AttachProfile(*f.store, *f.cache, {}, "nope", 1, kJson).code(), Code::kNotFound);
  EXPECT_EQ(LoadProfile(*f.store, *f.cache, {}, "churn", 9).status().code(), Code::kNotFound);
}

TEST(ProfileStoreTest, FetchesWhatTheCacheLacks) {
  Fixture f = Open();
  ASSERT_TRUE(AttachProfile(*f.store, *f.cache, {}, "churn", 1, kJson).ok());
  Oid object = Sha256::Of(kJson);
  ASSERT_TRUE(f.cache->Remove(object).ok());
  // Nowhere to fetch from: NotFound, saying so.
  auto missing = LoadProfile(*f.store, *f.cache, {}, "churn", 1);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("not in this cache"), std::string::npos) << missing.status().message();
  int calls = 0;
  ObjectDownload download = [&](Cache& cache, const std::vector<Oid>& objects) -> Status {
    ++calls;
    EXPECT_EQ(objects, std::vector<Oid>{object});
    return cache.StoreBytes(kJson).status();
  };
  auto loaded = LoadProfile(*f.store, *f.cache, download, "churn", 1);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(**loaded, kJson);
  EXPECT_EQ(calls, 1);
  loaded = LoadProfile(*f.store, *f.cache, download, "churn", 1);  // cached now
  EXPECT_EQ(calls, 1);
  // A download that fails says what it was fetching.
  ASSERT_TRUE(f.cache->Remove(object).ok());
  auto failed = LoadProfile(*f.store, *f.cache, [](Cache&, const std::vector<Oid>&) { return Status::Remote("down"); },
                            "churn", 1);
  EXPECT_EQ(failed.status().code(), Code::kRemote);
  EXPECT_NE(failed.status().message().find("the profile of churn/1"), std::string::npos) << failed.status().message();
}

TEST(ProfileStoreTest, BadTagsAndCorruptBytesAreCorrupt) {
  Fixture f = Open();
  ASSERT_TRUE(AttachProfile(*f.store, *f.cache, {}, "churn", 1, kJson).ok());
  Oid object = Sha256::Of(kJson);
  std::string path = f.cache->PathOf(object);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(WriteFileAtomic(path, kJson + "tampered").ok());
  auto corrupt = LoadProfile(*f.store, *f.cache, {}, "churn", 1);
  EXPECT_EQ(corrupt.status().code(), Code::kCorrupt);
  EXPECT_FALSE(f.cache->Has(object));  // removed, so the next load fetches it anew

  ASSERT_TRUE(f.store->SetModelVersionTag("churn", 2, {kProfileTag, "not-a-hash"}).ok());
  auto bad = LoadProfile(*f.store, *f.cache, {}, "churn", 2);
  EXPECT_EQ(bad.status().code(), Code::kCorrupt);
  EXPECT_NE(bad.status().message().find("not a sha256 hex"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace forja::registry
