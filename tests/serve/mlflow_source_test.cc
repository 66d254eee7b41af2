// An MLflow model's files from the artifact store (serve/mlflow_source.h), against a real SQLite
// store and object cache: checked out and verified, reused, a tampered object or a planted file
// refused or replaced, hostile paths in the store's listing and foreign artifact URIs refused.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "forja/cas/cache.h"
#include "forja/core/fs.h"
#include "forja/meta/store.h"
#include "forja/serve/mlflow_source.h"
#include "forja/serve/source.h"

namespace forja::serve {
namespace {

const char* kMLmodel =
    "flavors:\n  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}\n  sklearn: {}\n";

struct Fixture {
  std::string dir;
  std::unique_ptr<meta::MetaStore> store;
  std::unique_ptr<Cache> cache;

  Fixture() {
    char tmpl[] = "/tmp/forja-mlflow-source-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto s = meta::OpenSqlStore("sqlite:///" + dir + "/forja.db");
    EXPECT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
    cache = std::make_unique<Cache>(dir + "/cache", std::vector<LinkType>{LinkType::kCopy});
    EXPECT_TRUE(cache->Prepare().ok());
  }
  ~Fixture() { (void)RemoveTree(dir); }

  Oid Put(const std::string& path, const std::string& bytes) {
    auto oid = cache->StoreBytes(bytes);
    EXPECT_TRUE(oid.ok());
    EXPECT_TRUE(store->PutArtifact(path, "sha256:" + oid->Hex(), static_cast<int64_t>(bytes.size())).ok());
    return *oid;
  }

  ArtifactFetch Fetch() {
    ArtifactFetch f;
    f.store = store.get();
    f.cache = cache.get();
    f.intact = [this](const Oid& o) { return RehashCached(*cache, o); };
    f.checkout_root = dir + "/packages";
    return f;
  }
};

TEST(MlflowSourceTest, ChecksOutVerifiedAndReusesTheFolder) {
  Fixture fx;
  fx.Put("1/models/m-1/artifacts/MLmodel", kMLmodel);
  fx.Put("1/models/m-1/artifacts/model.pkl", "pickled");
  fx.Put("1/models/m-1/artifacts/sub/conda.yaml", "name: x\n");
  auto c = CheckoutMlflowFolder(fx.Fetch(), "1/models/m-1/artifacts", "models:/m-1");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dir, fx.dir + "/packages/mlflow-" + c->tree);
  EXPECT_EQ(*ReadFile(c->dir + "/model.pkl"), "pickled");
  EXPECT_EQ(*ReadFile(c->dir + "/sub/conda.yaml"), "name: x\n");
  EXPECT_TRUE(IsPackageFolder(c->dir));
  auto again = CheckoutMlflowFolder(fx.Fetch(), "1/models/m-1/artifacts", "models:/m-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->tree, c->tree);

  // Another file list is another folder: what makes a moved alias reload.
  fx.Put("1/models/m-1/artifacts/model.pkl", "pickled v2");
  auto moved = CheckoutMlflowFolder(fx.Fetch(), "1/models/m-1/artifacts", "models:/m-1");
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(moved->tree, c->tree);
}

TEST(MlflowSourceTest, APlantedLinkInTheCheckoutIsReplaced) {
  Fixture fx;
  fx.Put("m/MLmodel", kMLmodel);
  fx.Put("m/model.pkl", "pickled");
  auto c = CheckoutMlflowFolder(fx.Fetch(), "m", "runs:/r/m");
  ASSERT_TRUE(c.ok());
  // Another process plants a link where a file was: the folder is no longer verified.
  ASSERT_EQ(::unlink((c->dir + "/model.pkl").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (c->dir + "/model.pkl").c_str()), 0);
  auto again = CheckoutMlflowFolder(fx.Fetch(), "m", "runs:/r/m");
  ASSERT_TRUE(again.ok()) << again.status().message();
  struct stat st;
  ASSERT_EQ(::lstat((again->dir + "/model.pkl").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(*ReadFile(again->dir + "/model.pkl"), "pickled");
}

TEST(MlflowSourceTest, ATamperedObjectIsRefused) {
  Fixture fx;
  fx.Put("m/MLmodel", kMLmodel);
  Oid o = fx.Put("m/model.pkl", "pickled");
  std::string obj = fx.cache->PathOf(o);
  ASSERT_EQ(::chmod(obj.c_str(), 0644), 0);
  ASSERT_TRUE(WriteFileAtomic(obj, "evil bytes").ok());
  auto c = CheckoutMlflowFolder(fx.Fetch(), "m", "models:/iris/1");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("models:/iris/1: 1 of the model's files are not in the cache"), std::string::npos)
      << c.status().message();
}

TEST(MlflowSourceTest, HostileListingsAndForeignUrisAreRefused) {
  Fixture fx;
  fx.Put("m/MLmodel", kMLmodel);
  fx.Put("m/../../escape", "x");
  auto c = CheckoutMlflowFolder(fx.Fetch(), "m", "models:/iris/1");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("the artifact store lists '..' in the model"), std::string::npos)
      << c.status().message();

  fx.Put("n/model.pkl", "x");
  auto none = CheckoutMlflowFolder(fx.Fetch(), "n", "runs:/r/n");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("n has no MLmodel file, so it is not an MLflow model"), std::string::npos);

  auto s3 = MlflowArtifactFolder(*fx.store, "s3://bucket/model");
  ASSERT_FALSE(s3.ok());
  EXPECT_NE(s3.status().message().find("not in a forja server's artifact store"), std::string::npos);
  auto up = MlflowArtifactFolder(*fx.store, "mlflow-artifacts:/1/../../etc");
  ASSERT_FALSE(up.ok());
  auto ok = MlflowArtifactFolder(*fx.store, "mlflow-artifacts:/1/models/m-1/artifacts/");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "1/models/m-1/artifacts");
  auto bad_run = MlflowArtifactFolder(*fx.store, "runs:/only-a-run");
  ASSERT_FALSE(bad_run.ok());
  EXPECT_NE(bad_run.status().message().find("use runs:/<run id>/<path of the model>"), std::string::npos);
}

}  // namespace
}  // namespace forja::serve
