// The ${hydra:KEY} resolver and the hydra node (hydra_runtime.h): what each key
// resolves to for tests/config/hydra_app/conf, the realistic app that
// hydra_app_test.py also runs under real Hydra (which checks the same values
// against hydra-core).
#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>

#include "forja/config/compose.h"
#include "forja/config/hydra_output.h"
#include "forja/config/hydra_runtime.h"
#include "forja/core/fs.h"

namespace forja::config {
namespace {

const std::string kConf = std::string(FORJA_SOURCE_DIR) + "/tests/config/hydra_app/conf";

// 2026-03-04 05:06:07 local time, for ${now:...}.
std::chrono::system_clock::time_point FixedNow() {
  std::tm tm{};
  tm.tm_year = 126;
  tm.tm_mon = 2;
  tm.tm_mday = 4;
  tm.tm_hour = 5;
  tm.tm_min = 6;
  tm.tm_sec = 7;
  tm.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

Composed MustCompose(std::vector<std::string> overrides, HydraRunInfo run = {}, std::string dir = kConf) {
  ComposeOptions o;
  o.config_dir = dir;
  o.overrides = std::move(overrides);
  o.resolve_options.now = FixedNow();
  if (run.cwd.empty()) run.cwd = "/work/app";
  o.hydra_run = run;
  auto c = Compose(o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? std::move(*c) : Composed{};
}

std::string Str(const Composed& c, const std::string& key) {
  auto v = c.GetString(key);
  EXPECT_TRUE(v.ok()) << key << ": " << v.status().message();
  return v.ok() ? *v : "";
}

TEST(HydraResolver, RunKeysWithHydrasDefaults) {
  Composed c = MustCompose({});
  EXPECT_EQ(Str(c, "paths.output_dir"), "/work/app/outputs/2026-03-04/05-06-07");
  EXPECT_EQ(Str(c, "trainer.log_dir"), "/work/app/outputs/2026-03-04/05-06-07/logs");
  EXPECT_EQ(Str(c, "paths.data_root"), "/work/app/data");
  EXPECT_EQ(Str(c, "data.path"), "/work/app/data/mnist");
  EXPECT_EQ(Str(c, "experiment"), "mlp-mnist");
  EXPECT_EQ(Str(c, "job.name"), "config");  // no script: the config's name
  EXPECT_EQ(Str(c, "job.mode"), "RUN");
  EXPECT_EQ(Str(c, "job.overrides"), "");
  EXPECT_TRUE(c.config.Select("job.num")->is_null());  // ??? outside a multirun: null, as OmegaConf.select
  EXPECT_TRUE(c.uses_hydra);
  EXPECT_FALSE(c.config.Find("hydra"));  // the app's config has no hydra key, as under @hydra.main
}

TEST(HydraResolver, ChoicesAreTheAppsGroupsThenHydrasInHydrasOrder) {
  Composed c = MustCompose({"model=cnn", "hydra/launcher=joblib"});
  const Node* ch = c.config.Select("job.choices");
  ASSERT_TRUE(ch && ch->is_map());
  std::string keys;
  for (const auto& [k, v] : ch->entries()) keys += k + "=" + (v.is_null() ? "null" : v.as_string()) + " ";
  EXPECT_EQ(keys,
            "trainer=default data=mnist model=cnn hydra/env=default hydra/callbacks=null "
            "hydra/job_logging=disabled hydra/hydra_logging=disabled hydra/hydra_help=default hydra/help=default "
            "hydra/sweeper=basic hydra/launcher=joblib hydra/output=default ");
  EXPECT_EQ(Str(c, "experiment"), "cnn-mnist");
  // A hydra/ group override is Hydra's, not the app's: not in overrides.yaml.
  EXPECT_EQ(c.OverrideTexts(), std::vector<std::string>{"model=cnn"});
}

TEST(HydraResolver, OverrideDirnameIsSortedAndHonoursExcludeKeys) {
  // The app excludes seed (hydra.job.config.override_dirname.exclude_keys).
  Composed c = MustCompose({"trainer.lr=0.1", "seed=1", "model=cnn", "+trainer.tag='a=b'"});
  EXPECT_EQ(Str(c, "job.overrides"), "+trainer.tag='a=b',model=cnn,trainer.lr=0.1");
  Composed d = MustCompose({"trainer.lr=0.1", "model=cnn", "hydra.job.config.override_dirname.kv_sep=_",
                            "hydra.job.config.override_dirname.item_sep=/"});
  EXPECT_EQ(Str(d, "job.overrides"), "model_cnn/trainer.lr_0.1");
  EXPECT_EQ(OverrideDirname({"b=1", "a=x=y", "c=2"}, {"b", "a", "c"}, {"c"}, ",", ":"), "a:x:y,b:1");
}

TEST(HydraResolver, RunDirFromTheCommandLineAndTheConfig) {
  Composed c = MustCompose({"hydra.run.dir=out/${model.name}", "hydra.job.name=train"});
  EXPECT_EQ(Str(c, "paths.output_dir"), "/work/app/out/mlp");
  EXPECT_EQ(Str(c, "job.name"), "train");
  const Node* texts = c.hydra.Select("overrides.hydra");
  ASSERT_TRUE(texts && texts->is_list() && texts->items().size() == 3);
  EXPECT_EQ(texts->items()[0].as_string(), "hydra.run.dir=out/${model.name}");
  EXPECT_EQ(texts->items()[2].as_string(), "hydra.mode=RUN");
  Composed abs = MustCompose({"hydra.run.dir=/tmp/x/../y"});
  EXPECT_EQ(Str(abs, "paths.output_dir"), "/tmp/y");
}

TEST(HydraResolver, MultirunJobOutputIsTheSweepDirAndItsSubdir) {
  HydraRunInfo run;
  run.multirun = true;
  run.job_num = 3;
  run.job_name = "app";
  Composed c = MustCompose({"model=cnn"}, run);
  EXPECT_EQ(Str(c, "paths.output_dir"), "/work/app/multirun/2026-03-04/05-06-07/3");
  EXPECT_EQ(Str(c, "job.mode"), "MULTIRUN");
  EXPECT_EQ(Str(c, "job.name"), "app");
  auto num = c.GetInt("job.num");
  ASSERT_TRUE(num.ok());
  EXPECT_EQ(*num, 3);
  EXPECT_EQ(c.hydra.Select("job.id")->as_string(), "3");  // Hydra's job.id is a str
  Composed d = MustCompose({"hydra.sweep.dir=sw", "hydra.sweep.subdir=${hydra.job.override_dirname}"}, run);
  EXPECT_EQ(Str(d, "paths.output_dir"), "/work/app/sw");  // no task overrides: an empty subdir
}

TEST(HydraResolver, UnknownKeyIsNullAndUnsupportedOverridesAreRefused) {
  EXPECT_TRUE(HydraSelect(Node::Map(), "no.such").is_null());
  ComposeOptions o;
  o.config_dir = kConf;
  o.overrides = {"hydra.launcher.n_jobs=2"};
  auto c = Compose(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().substr(0, 84),
            "override 'hydra.launcher.n_jobs=2': forja does not implement 'hydra.launcher.n_jobs'");
  o.overrides = {"hydra.run.dir=a,b"};
  c = Compose(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sweeping over Hydra settings"), std::string::npos);
  o.overrides = {"~hydra.run.dir"};
  EXPECT_FALSE(Compose(o).ok());
  o.overrides = {"hydra.mode=FAST"};
  c = Compose(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "override 'hydra.mode=FAST': hydra.mode must be RUN or MULTIRUN, not \"FAST\"");
  // Without a composition there is no hydra node to read.
  auto v = ResolveValue(Node::Map({{"a", Node::String("${hydra:job.name}")}}), "a");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("only a composed config has"), std::string::npos);
}

TEST(HydraResolver, AConfigThatDoesNotUseHydraMakesNoOutputFolder) {
  std::string dir = ::testing::TempDir() + "forja_hydra_" + std::to_string(::getpid());
  ASSERT_TRUE(MakeDirs(dir + "/conf").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/conf/config.yaml", "a: 1\nb: ${now:%Y}\n").ok());
  HydraRunInfo run;
  run.cwd = dir;
  Composed c = MustCompose({}, run, dir + "/conf");
  EXPECT_FALSE(c.uses_hydra);
  auto out = PrepareHydraOutput(c, dir);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->dir, "");
  EXPECT_FALSE(IsDir(dir + "/outputs"));
  // With hydra.run.dir set, the folder and its record are made.
  Composed h = MustCompose({"hydra.run.dir=out"}, run, dir + "/conf");
  EXPECT_TRUE(h.uses_hydra);
  out = PrepareHydraOutput(h, dir);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->dir, dir + "/out");
  EXPECT_TRUE(IsFile(dir + "/out/.hydra/config.yaml"));
  EXPECT_TRUE(IsFile(dir + "/out/.hydra/hydra.yaml"));
  EXPECT_TRUE(IsFile(dir + "/hydra.yaml"));
  (void)RemoveTree(dir);
}

TEST(HydraResolver, HydrasOwnSectionsAreNotResolvedAndABadShapeIsOneLine) {
  std::string dir = ::testing::TempDir() + "forja_hydra_sections_" + std::to_string(::getpid());
  ASSERT_TRUE(MakeDirs(dir + "/conf").ok());
  // A launcher's settings may name what only the launcher provides (SLURM's variables).
  ASSERT_TRUE(WriteFileAtomic(dir + "/conf/config.yaml",
                              "a: ${hydra:runtime.output_dir}\n"
                              "hydra:\n"
                              "  run: {dir: out}\n"
                              "  launcher: {folder: '${oc.env:FORJA_TEST_NO_SUCH_VAR}/x'}\n").ok());
  HydraRunInfo run;
  run.cwd = "/w";
  Composed c = MustCompose({}, run, dir + "/conf");
  EXPECT_EQ(Str(c, "a"), "/w/out");
  EXPECT_EQ(c.hydra.Select("launcher.folder")->as_string(), "${oc.env:FORJA_TEST_NO_SUCH_VAR}/x");
  ASSERT_TRUE(WriteFileAtomic(dir + "/conf/config.yaml", "a: 1\nhydra:\n  job: 5\n").ok());
  ComposeOptions o;
  o.config_dir = dir + "/conf";
  auto bad = Compose(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("config.yaml:3: hydra.job must be a mapping"), std::string::npos)
      << bad.status().message();
  (void)RemoveTree(dir);
}

TEST(HydraResolver, EqualsSignIsQuotedInYaml) {
  // PyYAML reads a plain = as a tag; Hydra's kv_sep is "=".
  EXPECT_EQ(ToYaml(Node::Map({{"kv_sep", Node::String("=")}})), "kv_sep: '='\n");
}

}  // namespace
}  // namespace forja::config
