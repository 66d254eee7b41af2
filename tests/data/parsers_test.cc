// The data module's parsers of outside input: pointer files and forja.yaml.
// Table-driven: each bad input with the exact message the user sees (file:line
// included), plus round trips of good input. (fuzz/ checks the same parsers'
// invariants on random input; tests/cas/parsers_test.cc has the manifest's.)
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "forja/cas/cache.h"
#include "forja/core/sha256.h"
#include "forja/data/pointer.h"
#include "forja/data/workspace.h"
#include "lib/bad_case.h"

namespace forja {
namespace {

using test::BadCase;
using test::CaseName;

const std::string kHex = "4f1c2b7e9a0d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";

// ---------------------------------------------------------------------------
// Pointer files

const std::string kPointerHead = "# forja: this file is versioned in git\n";

class PointerBad : public testing::TestWithParam<BadCase> {};

TEST_P(PointerBad, Message) {
  auto r = ParsePointer(GetParam().text, "data.csv.forja", "data.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Parsers, PointerBad,
    testing::Values(
        BadCase{"HashNotHex", kPointerHead + "path: data.csv\nhash: sha256:xyz\n",
                "data.csv.forja:3: field 'hash' is not 64 hex digits after 'sha256:'"},
        BadCase{"HashTooShort", "path: data.csv\nkind: file\nhash: sha256:" + kHex.substr(1) + "\n",
                "data.csv.forja:3: field 'hash' is not 64 hex digits after 'sha256:'"},
        BadCase{"HashTooLong", "hash: sha256:" + kHex + "0\n",
                "data.csv.forja:1: field 'hash' is not 64 hex digits after 'sha256:'"},
        BadCase{"HashNoAlgorithm", "\n\nhash: " + kHex + "\n",
                "data.csv.forja:3: field 'hash' must start with 'sha256:'"},
        BadCase{"HashOtherAlgorithm", "hash: md5:" + kHex + "\n",
                "data.csv.forja:1: field 'hash' must start with 'sha256:'"},
        BadCase{"MissingPath", "kind: file\nhash: sha256:" + kHex + "\nsize: 1\n",
                "data.csv.forja: missing field 'path'"},
        BadCase{"MissingHash", "path: data.csv\nkind: file\nsize: 1\n",
                "data.csv.forja: missing field 'hash'"},
        BadCase{"MissingKind", "path: data.csv\nhash: sha256:" + kHex + "\nsize: 1\n",
                "data.csv.forja: missing field 'kind'"},
        BadCase{"MissingSize", "path: data.csv\nkind: file\nhash: sha256:" + kHex + "\n",
                "data.csv.forja: missing field 'size'"},
        BadCase{"Empty", "", "data.csv.forja: missing field 'path'"},
        BadCase{"OnlyComments", "# just\n\n# comments\n", "data.csv.forja: missing field 'path'"},
        BadCase{"DuplicatePath", "path: data.csv\n# again:\npath: data.csv\n",
                "data.csv.forja:3: field 'path' appears twice"},
        BadCase{"DuplicateKind", "kind: file\nkind: dir\n",
                "data.csv.forja:2: field 'kind' appears twice"},
        BadCase{"DuplicateHash", "hash: sha256:" + kHex + "\nhash: sha256:" + kHex + "\n",
                "data.csv.forja:2: field 'hash' appears twice"},
        BadCase{"DuplicateSize", "size: 1\nsize: 1\n", "data.csv.forja:2: field 'size' appears twice"},
        BadCase{"DuplicateFiles", "files: 1\nfiles: 2\n",
                "data.csv.forja:2: field 'files' appears twice"},
        BadCase{"WrongPath", kPointerHead + "path: other.csv\n",
                "data.csv.forja:2: field 'path' is 'other.csv' but this pointer file tracks "
                "'data.csv'; rename the file or fix the field"},
        BadCase{"PathWithFolder", "path: sub/data.csv\n",
                "data.csv.forja:1: field 'path' is 'sub/data.csv' but this pointer file tracks "
                "'data.csv'; rename the file or fix the field"},
        BadCase{"EmptyPath", "path:\n",
                "data.csv.forja:1: field 'path' is '' but this pointer file tracks "
                "'data.csv'; rename the file or fix the field"},
        BadCase{"BadKind", "kind: symlink\n",
                "data.csv.forja:1: field 'kind' must be 'file' or 'dir', not 'symlink'"},
        BadCase{"KindCase", "kind: File\n",
                "data.csv.forja:1: field 'kind' must be 'file' or 'dir', not 'File'"},
        BadCase{"SizeNegative", "size: -1\n",
                "data.csv.forja:1: field 'size' must be a whole number of bytes"},
        BadCase{"SizeEmpty", "size:\n", "data.csv.forja:1: field 'size' must be a whole number of bytes"},
        BadCase{"SizeUnit", "size: 10MB\n",
                "data.csv.forja:1: field 'size' must be a whole number of bytes"},
        BadCase{"SizeOverflow", "size: 18446744073709551616\n",
                "data.csv.forja:1: field 'size' must be a whole number of bytes"},
        BadCase{"FilesNotNumber", "files: many\n",
                "data.csv.forja:1: field 'files' must be a whole number"},
        BadCase{"NoColon", "path data.csv\n",
                "data.csv.forja:1: expected 'field: value', got 'path data.csv'"},
        BadCase{"UnknownField", "path: data.csv\ncolor: blue\n",
                "data.csv.forja:2: unknown field 'color'"},
        BadCase{"UnknownFieldCrlf", "path: data.csv\r\nmd5: x\r\n",
                "data.csv.forja:2: unknown field 'md5'"},
        BadCase{"LineNumberWithoutFinalNewline", "path: data.csv\n\n\nbogus",
                "data.csv.forja:4: expected 'field: value', got 'bogus'"}),
    CaseName);

TEST(PointerParse, ParsesFileWithDefaults) {
  auto r = ParsePointer("path: data.csv\nkind: file\nhash: sha256:" + kHex + "\nsize: 1234\n",
                        "data.csv.forja", "data.csv");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->path, "data.csv");
  EXPECT_FALSE(r->is_dir);
  EXPECT_EQ(r->oid.Hex(), kHex);
  EXPECT_EQ(r->size, 1234u);
  EXPECT_EQ(r->files, 1u);  // a file is one file when the field is absent
}

TEST(PointerParse, ParsesDirCrlfUppercaseAnyOrder) {
  std::string upper;
  for (char c : kHex) upper += static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  auto r = ParsePointer("# comment\r\n  size :  18446744073709551615 \r\n\r\nhash:sha256:" + upper +
                            "\r\nkind:dir\r\npath:\timages\t\r\n",
                        "images.forja", "images");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->path, "images");
  EXPECT_TRUE(r->is_dir);
  EXPECT_EQ(r->oid.Hex(), kHex);
  EXPECT_EQ(r->size, 18446744073709551615u);
  EXPECT_EQ(r->files, 0u);  // unknown for a folder when absent
}

TEST(PointerParse, SerializeIsExactAndRoundTrips) {
  Pointer p;
  p.path = "images";
  p.is_dir = true;
  p.oid = *Oid::FromHex(kHex);
  p.size = 123456789;
  p.files = 100000;
  std::string text = p.Serialize();
  EXPECT_EQ(text,
            "# forja: this file is versioned in git; the data is in the forja cache and remotes.\n"
            "path: images\nkind: dir\nhash: sha256:" + kHex + "\nsize: 123456789\nfiles: 100000\n");
  auto r = ParsePointer(text, "images.forja", "images");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->path, p.path);
  EXPECT_EQ(r->is_dir, p.is_dir);
  EXPECT_EQ(r->oid, p.oid);
  EXPECT_EQ(r->size, p.size);
  EXPECT_EQ(r->files, p.files);
  EXPECT_EQ(r->Serialize(), text);
}

TEST(PointerParse, RoundTripsOddNames) {
  for (std::string name : {"a b.csv", "x:y", "#hash", "ünï.bin", "tab\tinside"}) {
    Pointer p;
    p.path = name;
    p.oid = Sha256::Of(name);
    p.size = 7;
    auto r = ParsePointer(p.Serialize(), name + ".forja", name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    EXPECT_EQ(r->Serialize(), p.Serialize()) << name;
  }
}

// ---------------------------------------------------------------------------
// forja.yaml

class ProjectConfigBad : public testing::TestWithParam<BadCase> {};

TEST_P(ProjectConfigBad, Message) {
  auto r = ParseProjectConfig(GetParam().text, "forja.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Parsers, ProjectConfigBad,
    testing::Values(
        BadCase{"UnclosedFlowSequence", "cache:\n  link: [reflink, copy\n",
                "forja.yaml:3:1: malformed YAML: end of sequence flow not found"},
        BadCase{"UnclosedFlowMap", "remotes: {a: {url: x}\n",
                "forja.yaml:2:1: malformed YAML: end of map flow not found"},
        BadCase{"BadIndentation", "cache:\n  link: copy\n bad: 1\n",
                "forja.yaml:3:2: malformed YAML: end of map not found"},
        BadCase{"UnknownAnchor", "cache: *nothing\n",
                "forja.yaml:1:8: malformed YAML: the referenced anchor is not defined"},
        BadCase{"NotAMapping", "- cache\n- remotes\n",
                "forja.yaml:1: the manifest must be a mapping of sections"},
        BadCase{"Scalar", "just text\n", "forja.yaml:1: the manifest must be a mapping of sections"},
        BadCase{"UnknownSection", "cache:\n  link: copy\n\ndatasets:\n  - a\n",
                "forja.yaml:5: datasets: unknown section (known: cache, remotes, default_remote, config, "
                "stages, params, executor, tracking, models, serving, monitoring, triggers, agent, plots)"},
        BadCase{"CacheNotMapping", "cache: copy\n", "forja.yaml:1: cache: must be a mapping"},
        BadCase{"CacheUnknownField", "cache:\n  link: copy\n  mode: fast\n",
                "forja.yaml:3: cache.mode: unknown field (known: link)"},
        BadCase{"LinkUnknownType", "cache:\n  link: [reflink, symlink]\n",
                "forja.yaml:2: cache.link: unknown link type 'symlink'; use reflink, hardlink or "
                "copy"},
        BadCase{"LinkUnknownTypeString", "cache:\n  link: reflink,  sym link ,copy\n",
                "forja.yaml:2: cache.link: unknown link type 'sym link'; use reflink, hardlink or "
                "copy"},
        BadCase{"LinkEmptyList", "cache:\n  link: []\n",
                "forja.yaml:2: cache.link: no link type given; use reflink, hardlink and/or copy"},
        BadCase{"LinkNestedList", "cache:\n  link: [[copy]]\n",
                "forja.yaml:2: cache.link: must be a single value"},
        BadCase{"SectionKeyNotPlain", "[a]: 1\n", "forja.yaml:1:1: keys must be plain names"},
        BadCase{"CacheKeyNotPlain", "cache:\n  [link]: copy\n",
                "forja.yaml:2:3: keys must be plain names"},
        BadCase{"RemoteNameNotPlain", "remotes:\n  [s3]: {url: x}\n",
                "forja.yaml:2:3: keys must be plain names"},
        BadCase{"RemoteOptionNotPlain", "remotes:\n  s3: {url: x, [a]: b}\n",
                "forja.yaml:2:16: keys must be plain names"},
        BadCase{"RemoteTwice", "remotes:\n  a: {url: /x}\n  a: {url: /y}\n",
                "forja.yaml:3:3: found duplicate key a"},
        BadCase{"RemotesNotMapping", "remotes: [a, b]\n",
                "forja.yaml:1: remotes: must be a mapping of name to settings"},
        BadCase{"RemoteNotMapping", "remotes:\n  store: /mnt/x\n",
                "forja.yaml:2: remotes.store: must be a mapping with url"},
        BadCase{"RemoteWithoutUrl", "remotes:\n  store:\n    endpoint: http://x\n",
                "forja.yaml:3: remotes.store: missing field 'url'"},
        BadCase{"RemoteEmptyUrl", "remotes:\n  s3: {url: \"\", region: x}\n",
                "forja.yaml:2: remotes.s3: missing field 'url'"},
        BadCase{"RemoteOptionNotScalar", "remotes:\n  s3:\n    url: s3://b\n    region: [a]\n",
                "forja.yaml:4: remotes.s3.region: must be a single value"},
        BadCase{"DefaultRemoteMissing",
                "remotes:\n  store: {url: /x}\ndefault_remote: other\n",
                "forja.yaml: default_remote 'other' is not one of the remotes; run forja remote "
                "default NAME"},
        BadCase{"DefaultRemoteWithoutRemotes", "remotes: {}\ndefault_remote: store\n",
                "forja.yaml: default_remote 'store' is not one of the remotes; run forja remote "
                "default NAME"},
        BadCase{"DefaultRemoteList", "default_remote: [a, b]\n",
                "forja.yaml:1: default_remote: must be a single value"}),
    CaseName);

TEST(ProjectConfigParse, EmptyAndCommentsGiveDefaults) {
  for (std::string text : {"", "# nothing\n", "---\n"}) {
    auto r = ParseProjectConfig(text, "forja.yaml");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->link_types,
              (std::vector<LinkType>{LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy}));
    EXPECT_TRUE(r->remotes.empty());
    EXPECT_EQ(r->default_remote, "");
  }
}

TEST(ProjectConfigParse, ParsesEverySection) {
  auto r = ParseProjectConfig(R"(# comment
cache:
  link: [hardlink]
remotes:
  store:
    url: /mnt/shared/forja
  s3: {url: "s3://bucket/prefix", endpoint: "http://127.0.0.1:9000", region: us-east-1}
default_remote: s3
stages: {train: {cmd: python train.py}}
params: {lr: 0.1}
models: []
)",
                              "forja.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->link_types, (std::vector<LinkType>{LinkType::kHardlink, LinkType::kCopy}));
  ASSERT_EQ(r->remotes.size(), 2u);
  EXPECT_EQ(r->remotes[0].name, "store");
  EXPECT_EQ(r->remotes[0].url, "/mnt/shared/forja");
  EXPECT_TRUE(r->remotes[0].options.empty());
  EXPECT_EQ(r->remotes[1].name, "s3");
  EXPECT_EQ(r->remotes[1].url, "s3://bucket/prefix");
  EXPECT_EQ(r->remotes[1].options,
            (std::map<std::string, std::string>{{"endpoint", "http://127.0.0.1:9000"},
                                                {"region", "us-east-1"}}));
  EXPECT_EQ(r->default_remote, "s3");
  ASSERT_NE(r->FindRemote("store"), nullptr);
  EXPECT_EQ(r->FindRemote("nope"), nullptr);
}

TEST(ProjectConfigParse, NullSectionsAreEmpty) {
  auto r = ParseProjectConfig("cache:\nremotes:\ndefault_remote: \"\"\n", "forja.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->link_types.size(), 3u);
  EXPECT_TRUE(r->remotes.empty());
}

}  // namespace
}  // namespace forja
