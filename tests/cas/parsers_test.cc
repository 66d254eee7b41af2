// The cas module's parsers of outside input: directory manifests and cache.link.
// Table-driven: each bad input with the exact message the user sees, plus round
// trips of good input. (fuzz/ checks the same parsers' invariants on random
// input; tests/data/parsers_test.cc has the pointer file's and forja.yaml's.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "lib/bad_case.h"

namespace forja {
namespace {

using test::BadCase;
using test::CaseName;

const std::string kHex = "4f1c2b7e9a0d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";
const std::string kHex2 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---------------------------------------------------------------------------
// Directory manifests

std::string Entry(const std::string& hex, const std::string& size, const std::string& mode,
                  const std::string& path) {
  return hex + " " + size + " " + mode + " " + path + "\n";
}

const std::string kManifestHead = "forja-manifest 1\n";

class ManifestBad : public testing::TestWithParam<BadCase> {};

TEST_P(ManifestBad, Message) {
  auto r = ParseManifest(GetParam().text, "sha256/4f/1c2b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  EXPECT_EQ(r.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Parsers, ManifestBad,
    testing::Values(
        BadCase{"Empty", "", "sha256/4f/1c2b:0: empty manifest"},
        BadCase{"WrongHeader", "forja-manifest 2\n",
                "sha256/4f/1c2b:1: not a forja manifest (expected 'forja-manifest 1')"},
        BadCase{"HeaderCrlf", "forja-manifest 1\r\n",
                "sha256/4f/1c2b:1: not a forja manifest (expected 'forja-manifest 1')"},
        BadCase{"HeaderNotTerminated", "forja-manifest 1",
                "sha256/4f/1c2b:1: line is not terminated"},
        BadCase{"EntryNotTerminated", kManifestHead + kHex + " 1 644 a",
                "sha256/4f/1c2b:2: line is not terminated"},
        BadCase{"ShortLine", kManifestHead + kHex + " 1 64\n",
                "sha256/4f/1c2b:2: expected '<sha256> <size> <mode> <path>'"},
        BadCase{"EmptyPath", kManifestHead + kHex + " 1 644 \n", "sha256/4f/1c2b:2: bad path ''"},
        BadCase{"BlankLine", kManifestHead + "\n",
                "sha256/4f/1c2b:2: expected '<sha256> <size> <mode> <path>'"},
        BadCase{"BadHash", kManifestHead + Entry(std::string(64, 'g'), "1", "644", "a"),
                "sha256/4f/1c2b:2: bad sha256 '" + std::string(64, 'g') + "'"},
        BadCase{"BadSize", kManifestHead + Entry(kHex, "x", "644", "a"), "sha256/4f/1c2b:2: bad size"},
        BadCase{"NegativeSize", kManifestHead + Entry(kHex, "-1", "644", "a"),
                "sha256/4f/1c2b:2: bad size"},
        BadCase{"SizeOverflow", kManifestHead + Entry(kHex, "18446744073709551616", "644", "a"),
                "sha256/4f/1c2b:2: bad size"},
        BadCase{"ModeNotOctal", kManifestHead + Entry(kHex, "1", "648", "a"),
                "sha256/4f/1c2b:2: bad mode"},
        BadCase{"ModeTooBig", kManifestHead + Entry(kHex, "1", "10000", "a"),
                "sha256/4f/1c2b:2: bad mode"},
        BadCase{"DotDot", kManifestHead + Entry(kHex, "1", "644", "a/../b"),
                "sha256/4f/1c2b:2: bad path 'a/../b'"},
        BadCase{"DotDotAlone", kManifestHead + Entry(kHex, "1", "644", ".."),
                "sha256/4f/1c2b:2: bad path '..'"},
        BadCase{"Dot", kManifestHead + Entry(kHex, "1", "644", "./a"),
                "sha256/4f/1c2b:2: bad path './a'"},
        BadCase{"Absolute", kManifestHead + Entry(kHex, "1", "644", "/etc/passwd"),
                "sha256/4f/1c2b:2: bad path '/etc/passwd'"},
        BadCase{"EmptyComponent", kManifestHead + Entry(kHex, "1", "644", "a//b"),
                "sha256/4f/1c2b:2: bad path 'a//b'"},
        BadCase{"TrailingSlash", kManifestHead + Entry(kHex, "1", "644", "a/"),
                "sha256/4f/1c2b:2: bad path 'a/'"},
        BadCase{"UnknownEscape", kManifestHead + Entry(kHex, "1", "644", "a\\tb"),
                "sha256/4f/1c2b:2: bad path 'a\\tb'"},
        BadCase{"DanglingEscape", kManifestHead + Entry(kHex, "1", "644", "ab\\"),
                "sha256/4f/1c2b:2: bad path 'ab\\'"},
        BadCase{"EscapedNewlineMakesDotDot",
                kManifestHead + Entry(kHex, "1", "644", "a") + Entry(kHex, "1", "644", "..\\n/.."),
                "sha256/4f/1c2b:3: bad path '..\\n/..'"},
        // One directory has exactly one manifest (its hash names the directory), so
        // only SerializeManifest's own encoding is accepted.
        BadCase{"UppercaseHash", kManifestHead + Entry("4F1C" + kHex.substr(4), "1", "644", "a"),
                "sha256/4f/1c2b:2: entry is not in canonical form"},
        BadCase{"SizeLeadingZero", kManifestHead + Entry(kHex, "01", "644", "a"),
                "sha256/4f/1c2b:2: entry is not in canonical form"},
        BadCase{"ModeLeadingZero", kManifestHead + Entry(kHex, "1", "0644", "a"),
                "sha256/4f/1c2b:2: entry is not in canonical form"},
        BadCase{"RawCarriageReturn", kManifestHead + Entry(kHex, "1", "644", "a\r"),
                "sha256/4f/1c2b:2: entry is not in canonical form"},
        BadCase{"Unsorted",
                kManifestHead + Entry(kHex, "1", "644", "b") + Entry(kHex, "1", "644", "a"),
                "sha256/4f/1c2b:3: entries are not sorted or repeat"},
        BadCase{"Duplicate",
                kManifestHead + Entry(kHex, "1", "644", "a/b") + Entry(kHex2, "2", "600", "a/b"),
                "sha256/4f/1c2b:3: entries are not sorted or repeat"},
        BadCase{"DuplicateAfterUnescape",
                kManifestHead + Entry(kHex, "1", "644", "a\\\\b") + Entry(kHex, "1", "644", "a\\\\b"),
                "sha256/4f/1c2b:3: entries are not sorted or repeat"}),
    CaseName);

TEST(ManifestParse, EmptyDirectoryRoundTrips) {
  auto r = ParseManifest(kManifestHead, "m");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(SerializeManifest(*r), kManifestHead);
}

TEST(ManifestParse, EscapesRoundTripByteExact) {
  std::vector<ManifestEntry> entries = {
      {"z/last", *Oid::FromHex(kHex), 18446744073709551615u, 07777},
      {"back\\slash", *Oid::FromHex(kHex2), 0, 0},
      {"new\nline/and\rreturn", *Oid::FromHex(kHex), 5, 0755},
      {"sp ace/ü", *Oid::FromHex(kHex2), 42, 0644},
  };
  SortManifest(&entries);
  std::string text = SerializeManifest(entries);
  EXPECT_EQ(text, kManifestHead + Entry(kHex2, "0", "0", "back\\\\slash") +
                      Entry(kHex, "5", "755", "new\\nline/and\\rreturn") +
                      Entry(kHex2, "42", "644", "sp ace/ü") +
                      Entry(kHex, "18446744073709551615", "7777", "z/last"));
  auto r = ParseManifest(text, "m");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), entries.size());
  for (size_t i = 0; i < entries.size(); i++) {
    EXPECT_EQ((*r)[i].path, entries[i].path);
    EXPECT_EQ((*r)[i].oid, entries[i].oid);
    EXPECT_EQ((*r)[i].size, entries[i].size);
    EXPECT_EQ((*r)[i].mode, entries[i].mode);
  }
  EXPECT_EQ(SerializeManifest(*r), text);
}

TEST(ManifestParse, SortIsByteOrder) {
  // Bytes >= 0x80 sort after ASCII, and '/' (0x2f) before letters: "a/b" < "a0" < "ab".
  std::vector<ManifestEntry> entries = {{"ü"}, {"ab"}, {"a0"}, {"a/b"}, {"A"}};
  SortManifest(&entries);
  std::vector<std::string> paths;
  for (const auto& e : entries) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"A", "a/b", "a0", "ab", "ü"}));
  auto r = ParseManifest(SerializeManifest(entries), "m");
  EXPECT_TRUE(r.ok()) << r.status().message();
}

// ---------------------------------------------------------------------------
// cache.link

TEST(LinkTypesParse, ParsesAndEndsWithCopy) {
  struct Case {
    std::string text;
    std::vector<LinkType> want;
  };
  for (const auto& c : std::vector<Case>{
           {"copy", {LinkType::kCopy}},
           {"reflink", {LinkType::kReflink, LinkType::kCopy}},
           {" hardlink , reflink ", {LinkType::kHardlink, LinkType::kReflink, LinkType::kCopy}},
           {"reflink,hardlink,copy", {LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy}},
           {"copy,hardlink", {LinkType::kCopy, LinkType::kHardlink, LinkType::kCopy}},
       }) {
    auto r = ParseLinkTypes(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(*r, c.want) << c.text;
  }
}

TEST(LinkTypesParse, RejectsUnknown) {
  struct Case {
    std::string text, message;
  };
  for (const auto& c : std::vector<Case>{
           {"symlink", "unknown link type 'symlink'; use reflink, hardlink or copy"},
           {"Copy", "unknown link type 'Copy'; use reflink, hardlink or copy"},
           {"reflink,,copy", "unknown link type ''; use reflink, hardlink or copy"},
           {"reflink,", "unknown link type ''; use reflink, hardlink or copy"},
           {"", "no link type given; use reflink, hardlink and/or copy"},
           {"copy\t", "unknown link type 'copy\t'; use reflink, hardlink or copy"},
       }) {
    auto r = ParseLinkTypes(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kUser);
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
}

TEST(LinkTypesParse, NamesRoundTrip) {
  for (LinkType t : {LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy}) {
    auto r = ParseLinkTypes(LinkTypeName(t));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->front(), t);
  }
}

}  // namespace
}  // namespace forja
