// DVC's files as forja import dvc reads them (dvc_formats.h): each bad input with the
// exact message the user sees, and good input as DVC 3.67 writes it. (fuzz/dvc_fuzz.cc
// checks the same readers' invariants on random input; tests/cli/dvc_import_test.sh
// runs the real DVC.)
#include <gtest/gtest.h>

#include <string>

#include "forja/config/node.h"
#include "forja/data/dvc_formats.h"
#include "forja/data/lockfile.h"
#include "forja/data/pointer.h"
#include "lib/bad_case.h"

namespace forja {
namespace {

using test::BadCase;
using test::CaseName;

const std::string kMd5 = "b1946ac92492d2347c6235b4d2611184";

TEST(DvcFile, AsDvcWritesIt) {
  auto r = ParseDvcFile("outs:\n- md5: " + kMd5 + "\n  size: 6\n  hash: md5\n  path: a.txt\n", "a.txt.dvc");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, "a.txt");
  EXPECT_EQ((*r)[0].md5, kMd5);
  EXPECT_FALSE((*r)[0].is_dir);
  EXPECT_EQ((*r)[0].size, 6u);

  auto d = ParseDvcFile("outs:\n- md5: " + kMd5 + ".dir\n  size: 6\n  nfiles: 3\n  hash: md5\n  path: d\n", "d.dvc");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE((*d)[0].is_dir);
  EXPECT_EQ((*d)[0].nfiles, 3u);
  EXPECT_EQ(DvcObjectKey((*d)[0].md5, true), "files/md5/b1/946ac92492d2347c6235b4d2611184.dir");
  EXPECT_EQ(DvcLegacyKey(kMd5, false), "b1/946ac92492d2347c6235b4d2611184");
}

class DvcFileBad : public testing::TestWithParam<BadCase> {};

TEST_P(DvcFileBad, Message) {
  auto r = ParseDvcFile(GetParam().text, "x.dvc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Parsers, DvcFileBad,
    testing::Values(
        BadCase{"escape", "outs:\n- md5: " + kMd5 + "\n  hash: md5\n  path: ../x\n",
                "x.dvc:4: outs: path '../x': '../x' has a '..' component; only normalized paths are allowed; forja "
                "refuses it"},
        BadCase{"absolute", "outs:\n- md5: " + kMd5 + "\n  hash: md5\n  path: /etc/passwd\n",
                "x.dvc:4: outs: path '/etc/passwd': '/etc/passwd' is an absolute path; only paths inside the "
                "repository are allowed; forja refuses it"},
        BadCase{"sha1", "outs:\n- md5: " + kMd5 + "\n  hash: sha1\n  path: x\n",
                "x.dvc:3: outs: 'x' has hash 'sha1'; forja verifies only DVC 3's 'md5' (of the raw bytes)"},
        BadCase{"dvc2", "outs:\n- md5: " + kMd5 + "\n  path: x\n",
                "x.dvc:2: outs: 'x' has no 'hash: md5': it was written by DVC 2, whose md5 of a text file is "
                "taken after CRLF became LF, which forja cannot verify; run dvc cache migrate --dvc-files with "
                "DVC 3, commit, and import again"},
        BadCase{"short_md5", "outs:\n- md5: abc\n  hash: md5\n  path: x\n",
                "x.dvc:2: outs: 'x': md5 'abc' is not 32 lowercase hex digits (with .dir for a folder)"},
        BadCase{"no_md5", "outs:\n- hash: md5\n  path: x\n",
                "x.dvc:2: outs: 'x' has no md5; forja cannot verify it (run dvc commit, then import again)"},
        BadCase{"cloud", "outs:\n- md5: " + kMd5 + "\n  hash: md5\n  etag: abc\n  path: x\n",
                "x.dvc:2: outs: 'x' has 'etag' (a cloud-versioned or external output); forja takes over only "
                "outputs in DVC's cache with hash md5"},
        BadCase{"import", "deps:\n- path: x\nouts:\n- md5: " + kMd5 + "\n  hash: md5\n  path: x\n",
                "x.dvc:2: a .dvc file with deps (made by dvc import or import-url) is not supported; fetch its "
                "data with DVC, then forja add it"},
        BadCase{"no_outs", "md5: abc\n", "x.dvc: no 'outs:'; this is not a DVC 3 .dvc file"}),
    CaseName);

TEST(DvcDir, ListingAndHostileEntries) {
  auto r = ParseDvcDir(R"([{"md5": ")" + kMd5 + R"(", "relpath": "sub/3"}])", "d.dir");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].relpath, "sub/3");
  auto escape = ParseDvcDir(R"([{"md5": ")" + kMd5 + R"(", "relpath": "../x"}])", "d.dir");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.status().message(),
            "d.dir: entry 0: relpath '../x': '../x' has a '..' component; only normalized paths are allowed");
  auto git = ParseDvcDir(R"([{"md5": ")" + kMd5 + R"(", "relpath": "a/.GIT/config"}])", "d.dir");
  ASSERT_FALSE(git.ok());
  auto twice = ParseDvcDir(R"([{"md5": ")" + kMd5 + R"(", "relpath": "a"}, {"md5": ")" + kMd5 +
                               R"(", "relpath": "a/b"}])", "d.dir");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "d.dir: 'a' is listed both as a file and as a folder");
}

TEST(DvcLock, Schema2) {
  auto r = ParseDvcLock("schema: '2.0'\nstages:\n  train:\n    cmd: cat a.txt > out.txt\n    deps:\n    - path: a.txt\n"
                        "      hash: md5\n      md5: " + kMd5 + "\n      size: 6\n    params:\n      params.yaml:\n"
                        "        train.n: 3\n    outs:\n    - path: out.txt\n      hash: md5\n      md5: " + kMd5 +
                        "\n      size: 6\n", "dvc.lock");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const DvcLockStage& s = (*r)[0];
  EXPECT_EQ(s.name, "train");
  ASSERT_EQ(s.cmd.size(), 1u);
  EXPECT_EQ(s.cmd[0], "cat a.txt > out.txt");
  ASSERT_EQ(s.params.size(), 1u);
  EXPECT_EQ(s.params[0].source, "params.yaml");
  EXPECT_EQ(s.params[0].values[0].key, "train.n");
  EXPECT_EQ(s.params[0].values[0].value_json, "3");
  EXPECT_EQ(s.outs[0].path, "out.txt");

  auto odd = ParseDvcLock("schema: '2.0'\nstages:\n  \"a\\nb\": {cmd: x}\n", "dvc.lock");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "dvc.lock:3: a stage name must be 1 to 250 printable characters");
  auto old = ParseDvcLock("schema: '1.0'\n", "dvc.lock");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().message(), "dvc.lock: only dvc.lock schema '2.0' (DVC 2 and 3) is supported");
}

TEST(DvcConfig, RemotesAndLocalOverride) {
  DvcConfig cfg;
  ASSERT_TRUE(ParseDvcConfig("[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://b/p\n"
                             "    endpointurl = http://127.0.0.1:9000\n",
                             ".dvc/config", &cfg).ok());
  ASSERT_TRUE(ParseDvcConfig("['remote \"s3\"']\n    access_key_id = AK\n", ".dvc/config.local", &cfg).ok());
  EXPECT_EQ(cfg.default_remote, "s3");
  ASSERT_EQ(cfg.remotes.size(), 1u);
  EXPECT_EQ(cfg.remotes[0].url, "s3://b/p");
  EXPECT_EQ(cfg.remotes[0].options["endpointurl"], "http://127.0.0.1:9000");
  EXPECT_EQ(cfg.remotes[0].options["access_key_id"], "AK");
  DvcConfig bad;
  Status st = ParseDvcConfig("['remote \"../x\"']\n", ".dvc/config", &bad);
  EXPECT_EQ(st.message(), ".dvc/config:1: remote name '../x' is not usable by forja (letters, digits, - _ .)");
}

TEST(Pointer, DvcMd5AndUnfetched) {
  std::string text = "path: a.txt\nkind: file\ndvc-md5: " + kMd5 + "\nsize: 6\nfiles: 1\n";
  auto refused = ParsePointer(text, "a.txt.forja", "a.txt");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "a.txt.forja: missing field 'hash': taken over from DVC (dvc-md5 " + kMd5 +
                                            ") and not fetched yet; run forja pull");
  auto p = ParsePointer(text, "a.txt.forja", "a.txt", /*allow_unfetched=*/true);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->has_oid);
  EXPECT_EQ(p->dvc_md5, kMd5);
  EXPECT_EQ(p->Serialize().find("hash:"), std::string::npos);
  auto again = ParsePointer(p->Serialize(), "a.txt.forja", "a.txt", true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dvc_md5, kMd5);
}

// An md5 made only of digits (or of digits and one e) is a number to YAML when plain:
// pointers and forja.lock write it quoted, and read the plain form of older files too.
const std::string kDigitsMd5 = "12345678901234567890123456789012";
const std::string kExpMd5 = "1234567890123456789012345678e901";

TEST(Pointer, AllDigitMd5IsWrittenQuotedAndReadBothWays) {
  for (const std::string& md5 : {kDigitsMd5, kExpMd5}) {
    Pointer p;
    p.path = "a.txt";
    p.has_oid = false;
    p.dvc_md5 = md5;
    p.size = 6;
    std::string text = p.Serialize();
    EXPECT_NE(text.find("dvc-md5: \"" + md5 + "\"\n"), std::string::npos) << text;
    auto yaml = config::ParseYaml(text, "a.txt.forja");
    ASSERT_TRUE(yaml.ok()) << yaml.status().message();
    ASSERT_TRUE(yaml->Find("dvc-md5")->is_string()) << md5;
    EXPECT_EQ(yaml->Find("dvc-md5")->as_string(), md5);
    auto back = ParsePointer(text, "a.txt.forja", "a.txt", /*allow_unfetched=*/true);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->dvc_md5, md5);
    auto plain = ParsePointer("path: a.txt\nkind: file\ndvc-md5: " + md5 + "\nsize: 6\n", "a.txt.forja", "a.txt", true);
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_EQ(plain->dvc_md5, md5);
  }
}

TEST(Lock, AllDigitMd5IsWrittenQuotedAndReadBothWays) {
  Lock lock;
  LockStage st;
  st.name = "train";
  st.cmd = {"python train.py"};
  LockFile f;
  f.path = "model.bin";
  f.dvc_md5 = kDigitsMd5;
  st.outs.push_back(f);
  lock.Put(st);
  std::string text = SerializeLock(lock);
  EXPECT_NE(text.find("dvc-md5: \"" + kDigitsMd5 + "\"\n"), std::string::npos) << text;
  auto back = ParseLock(text, "forja.lock");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->stages[0].outs[0].dvc_md5, kDigitsMd5);
  std::string plain = text;
  plain.replace(plain.find("\"" + kDigitsMd5 + "\""), kDigitsMd5.size() + 2, kDigitsMd5);
  auto old = ParseLock(plain, "forja.lock");
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->stages[0].outs[0].dvc_md5, kDigitsMd5);
}

TEST(DvcFile, AllDigitMd5) {
  // DVC quotes it; a plain one that YAML types as a number is refused with the fix.
  auto r = ParseDvcFile("outs:\n- md5: '" + kDigitsMd5 + "'\n  size: 6\n  hash: md5\n  path: a.txt\n", "a.txt.dvc");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].md5, kDigitsMd5);
  auto f = ParseDvcFile("outs:\n- md5: " + kExpMd5 + "\n  hash: md5\n  path: a.txt\n", "a.txt.dvc");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "a.txt.dvc:2: outs: 'a.txt': md5 is a number to YAML; write it quoted (md5: '...')");
}

TEST(DvcFile, PushAndRemote) {
  auto r = ParseDvcFile("outs:\n- md5: " + kMd5 + "\n  hash: md5\n  path: a.txt\n  push: false\n  remote: side\n", "a.txt.dvc");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE((*r)[0].push);
  EXPECT_EQ((*r)[0].remote, "side");
  EXPECT_EQ((*r)[0].remote_line, 6);
  auto bad = ParseDvcFile("outs:\n- md5: " + kMd5 + "\n  hash: md5\n  path: a.txt\n  remote: ../x\n", "a.txt.dvc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "a.txt.dvc:5: outs: 'remote' must be a remote name (letters, digits, - _ .)");
  Pointer p;
  p.path = "a.txt";
  p.push = false;
  p.remote = "side";
  auto back = ParsePointer(p.Serialize(), "a.txt.forja", "a.txt");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_FALSE(back->push);
  EXPECT_EQ(back->remote, "side");
  auto hostile = ParsePointer("path: a.txt\nkind: file\nhash: sha256:" + std::string(64, 'a') +
                                  "\nsize: 1\nremote: ../../x\n", "a.txt.forja", "a.txt");
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.status().message(), "a.txt.forja:5: field 'remote' must be a remote name (letters, digits, - _ .)");
}

TEST(Md5, KnownAnswer) { EXPECT_EQ(Md5Of("hello\n"), kMd5); }

}  // namespace
}  // namespace forja
