#include <gtest/gtest.h>

#include "forja/core/json.h"
#include "forja/data/lockfile.h"

namespace forja {
namespace {

LockFile File(std::string path, char hex, bool dir = false) {
  LockFile f;
  f.path = std::move(path);
  f.is_dir = dir;
  f.oid = *Oid::FromHex(std::string(64, hex));
  f.size = 12;
  f.files = dir ? 3 : 1;
  return f;
}

Lock Sample() {
  Lock lock;
  LockStage train;
  train.name = "train";
  train.cmd = {"python train.py --lr 0.1 \"quoted: yes\""};
  train.deps = {File("data/prepared", 'a', true), File("train.py", 'b')};
  train.params = {{"config", {{"train.lr", "0.1"}, {"model", "{\"depth\": 3}"}}}, {"params.yaml", {{"seed", "42"}}}};
  LockFile m = File("eval/metrics.json", 'c');
  m.cache = false;
  m.metric = true;
  train.outs = {File("models/model.bin", 'd'), m};
  LockStage prep;
  prep.name = "prepare@small";
  prep.cmd = {"mkdir -p out", "echo a: b > out/x"};
  prep.outs = {File("out", 'e', true)};
  lock.Put(train);
  lock.Put(prep);
  return lock;
}

TEST(Lockfile, RoundTrips) {
  Lock lock = Sample();
  std::string text = SerializeLock(lock);
  auto back = ParseLock(text, "forja.lock");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << text;
  ASSERT_EQ(back->stages.size(), 2u);
  EXPECT_EQ(SerializeLock(*back), text);
  const LockStage* t = back->Find("train");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->cmd[0], "python train.py --lr 0.1 \"quoted: yes\"");
  EXPECT_EQ(t->params[0].values[1].value_json, "{\"depth\": 3}");
  EXPECT_FALSE(t->outs[1].cache);
  EXPECT_TRUE(t->outs[1].metric);
  EXPECT_TRUE(t->deps[0].is_dir);
  EXPECT_EQ(t->deps[0].files, 3u);
  const LockStage* p = back->Find("prepare@small");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->cmd.size(), 2u);
  EXPECT_EQ(p->cmd[1], "echo a: b > out/x");
}

TEST(Lockfile, EmptyAndMissing) {
  auto empty = ParseLock(SerializeLock(Lock{}), "forja.lock");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->stages.empty());
}

TEST(Lockfile, ErrorsNameTheLine) {
  std::string text = SerializeLock(Sample());
  auto bad = text;
  bad.replace(bad.find("sha256:dddd"), 11, "md5:dddd000");
  auto r = ParseLock(bad, "forja.lock");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("forja.lock:"), std::string::npos);
  EXPECT_NE(r.status().message().find("hash must be sha256"), std::string::npos);

  auto conflict = "schema: 1\nstages:\n<<<<<<< HEAD\n  a:\n    cmd: \"x\"\n";
  auto c = ParseLock(conflict, "forja.lock");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().substr(0, 13), "forja.lock:3:");

  auto schema = ParseLock("schema: 2\n", "forja.lock");
  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.status().message().find("upgrade forja"), std::string::npos);
}

TEST(Lockfile, QuotingRoundTripsControlAndUnicode) {
  std::string s = "tab\there \"q\" back\\slash \x01 \b\f del\x7f not-utf8\xff ñ €";
  std::string q;
  AppendJsonString(&q, s, JsonBytes::kKeep);
  std::string back;
  std::string_view rest;
  ASSERT_TRUE(ParseQuoted(q + " tail", &back, &rest));
  EXPECT_EQ(back, s);
  EXPECT_EQ(rest, " tail");
  ASSERT_TRUE(ParseQuoted("\"\\u00e9\\ud83d\\ude00\"", &back, &rest));
  EXPECT_EQ(back, "é😀");
  EXPECT_FALSE(ParseQuoted("\"\\ud83d\"", &back, &rest));
  EXPECT_FALSE(ParseQuoted("\"open", &back, &rest));
}

}  // namespace
}  // namespace forja
