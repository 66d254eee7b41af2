#include <fcntl.h>
#include <pthread.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>

#include "forja/core/fs.h"
#include "forja/core/parallel.h"
#include "forja/core/path.h"
#include "forja/core/sha256.h"
#include "forja/core/strings.h"
#include "forja/core/subprocess.h"

namespace forja {
namespace {

std::string MakeTempDir() {
  char tmpl[] = "/tmp/forja-test-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256::Of("").Hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::Of("abc").Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Oid, HexRoundTripAndRejects) {
  Oid o = Sha256::Of("forja");
  auto back = Oid::FromHex(o.Hex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, o);
  EXPECT_FALSE(Oid::FromHex("abc").has_value());
  EXPECT_FALSE(Oid::FromHex(std::string(64, 'g')).has_value());
}

TEST(Fs, WriteFileAtomicReplacesAndLeavesNoTemp) {
  std::string dir = MakeTempDir();
  std::string p = dir + "/f.txt";
  ASSERT_TRUE(WriteFileAtomic(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two").ok());
  EXPECT_EQ(*ReadFile(p), "two");
  auto ls = RunProcess({"ls", "-A", dir});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->out, "f.txt\n");
  ASSERT_TRUE(RemoveTree(dir).ok());
  EXPECT_FALSE(Exists(dir));
}

TEST(Fs, TempFileIsRemovedWhenNotPublished) {
  std::string dir = MakeTempDir();
  {
    auto t = TempFile::CreateBeside(dir + "/x");
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t->Write("partial").ok());
  }
  auto ls = RunProcess({"ls", "-A", dir});
  EXPECT_EQ(ls->out, "");
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(Path, NormalizeAbsolute) {
  EXPECT_EQ(NormalizeAbsolute("/a//b/./c/../d/"), "/a/b/d");
  EXPECT_EQ(NormalizeAbsolute("/.."), "/");
}

TEST(Path, ResolveInRepoRefusesEscapes) {
  std::string root = MakeTempDir();
  ASSERT_TRUE(MakeDirs(root + "/data/sub").ok());
  ASSERT_EQ(::symlink("/etc", (root + "/data/out").c_str()), 0);
  ASSERT_EQ(::symlink("sub", (root + "/data/in").c_str()), 0);

  auto ok = ResolveInRepo(root, root + "/data", "sub/../sub/x.csv");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, "data/sub/x.csv");
  EXPECT_TRUE(ResolveInRepo(root, root, "data/in/x").ok());

  auto outside = ResolveInRepo(root, root, "../elsewhere");
  EXPECT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("outside the repository"), std::string::npos);
  auto git = ResolveInRepo(root, root, ".git/config");
  EXPECT_FALSE(git.ok());
  EXPECT_FALSE(ResolveInRepo(root, root, ".forja").ok());
  auto link = ResolveInRepo(root, root, "data/out/passwd");
  EXPECT_FALSE(link.ok());
  EXPECT_NE(link.status().message().find("symlink"), std::string::npos);
  ASSERT_TRUE(RemoveTree(root).ok());
}

TEST(Path, GitReservedNamesAsGitRefusesThem) {
  for (const char* n : {".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1", ".git::$INDEX_ALLOCATION",
                        ".\xe2\x80\x8cgit", ".g\xef\xbb\xbfit", ".git\\x"})
    EXPECT_TRUE(IsGitReservedName(n)) << n;
  for (const char* n : {"git", ".gitignore", ".gitattributes", "a.git", ".gi", "", ".", "..", "git~2", ".forja"})
    EXPECT_FALSE(IsGitReservedName(n)) << n;
}

TEST(Path, CheckUntrustedPath) {
  for (const char* ok : {"a", "a/b.csv", "data/.gitignore", "x/.forja/y", "a b/c"})
    EXPECT_TRUE(CheckUntrustedPath(ok).ok()) << ok;
  struct Bad {
    const char* path;
    const char* message;
  };
  for (const Bad& b : std::initializer_list<Bad>{
           {"", "the path is empty"},
           {"/etc/passwd", "'/etc/passwd' is an absolute path; only paths inside the repository are allowed"},
           {"../x", "'../x' has a '..' component; only normalized paths are allowed"},
           {"a/./b", "'a/./b' has a '.' component; only normalized paths are allowed"},
           {"a//b", "'a//b' has an empty component (a leading, doubled or trailing '/')"},
           {"a/", "'a/' has an empty component (a leading, doubled or trailing '/')"},
           {".git/config", "'.git/config' is inside .git, which belongs to git"},
           {"d/.GIT/hooks/x", "'d/.GIT/hooks/x' has the component '.GIT', which git refuses in a tree (it names .git on "
                              "some file systems)"},
           {".forja/cache", "'.forja/cache' is inside .forja, which belongs to forja"},
       }) {
    Status s = CheckUntrustedPath(b.path);
    EXPECT_EQ(s.message(), b.message) << b.path;
  }
  EXPECT_FALSE(CheckUntrustedPath(std::string_view("a\0b", 3)).ok());
  // Inside a tracked folder, ".forja" is a name like any other; ".git" is not.
  EXPECT_TRUE(CheckUntrustedPath(".forja/x", PathBase::kFolder).ok());
  EXPECT_FALSE(CheckUntrustedPath("x/.git", PathBase::kFolder).ok());
}

TEST(Fs, OpenDirNoFollowRefusesSymlinksOnTheWay) {
  std::string root = MakeTempDir();
  std::string outside = MakeTempDir();
  ASSERT_TRUE(MakeDirs(root + "/a/b").ok());
  ASSERT_EQ(::symlink(outside.c_str(), (root + "/a/link").c_str()), 0);
  auto ok = OpenDirNoFollow(root, "a/b", false);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  auto made = OpenDirNoFollow(root, "a/new/deeper", true);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_TRUE(Exists(root + "/a/new/deeper"));
  auto missing = OpenDirNoFollow(root, "a/none", false);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  for (bool create : {false, true}) {
    auto link = OpenDirNoFollow(root, "a/link/sub", create);
    ASSERT_FALSE(link.ok());
    EXPECT_EQ(link.status().message(),
              "a/link is a symlink; forja never writes through a symlink (remove it, then run the command again)");
  }
  EXPECT_FALSE(Exists(outside + "/sub"));
  // RemoveTreeAt removes a symlink, never what it points to.
  ASSERT_EQ(::close(::open((outside + "/keep").c_str(), O_CREAT | O_WRONLY, 0644)), 0);
  auto a = OpenDirNoFollow(root, "a", false);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(RemoveTreeAt(a->get(), "link", "a/link").ok());
  EXPECT_FALSE(Exists(root + "/a/link"));
  EXPECT_TRUE(Exists(outside + "/keep"));
  ASSERT_TRUE(RemoveTreeAt(a->get(), "new", "a/new").ok());
  EXPECT_FALSE(Exists(root + "/a/new"));
  ASSERT_TRUE(RemoveTree(root).ok());
  ASSERT_TRUE(RemoveTree(outside).ok());
}

TEST(Parallel, RunsEveryItemAndReportsFirstError) {
  std::atomic<int> sum{0};
  ASSERT_TRUE(ParallelFor(1000, 4, [&](size_t i) {
                sum += static_cast<int>(i);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
  Status st = ParallelFor(100, 2, [](size_t i) {
    return i == 50 ? Status::User("item 50 failed") : Status::Ok();
  });
  EXPECT_EQ(st.code(), Code::kUser);
  EXPECT_EQ(st.message(), "item 50 failed");
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = RunProcess({"sh", "-c", "cat; echo err >&2; exit 3"}, "", "hello");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "hello");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

// A child must be stoppable whatever its parent blocks or ignores: forja agent blocks
// SIGTERM while it waits for `forja models register`, and servers ignore SIGPIPE.
TEST(Subprocess, ChildStartsWithCleanSignalState) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  auto previous = std::signal(SIGPIPE, SIG_IGN);
  auto r = RunProcess({"sh", "-c", "grep -E '^Sig(Blk|Ign):' /proc/self/status"});
  std::signal(SIGPIPE, previous);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok());
  // Nothing blocked; SIGPIPE (bit 13) not ignored. (sh itself may ignore nothing else here.)
  EXPECT_NE(r->out.find("SigBlk:\t0000000000000000"), std::string::npos) << r->out;
  auto ign = r->out.find("SigIgn:\t");
  ASSERT_NE(ign, std::string::npos);
  unsigned long long mask = std::stoull(r->out.substr(ign + 8, 16), nullptr, 16);
  EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0ull) << r->out;
}

TEST(Strings, HelpersDoWhatTheirNamesSay) {
  EXPECT_TRUE(EqualsNoCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(EqualsNoCase("abc", "abd"));
  EXPECT_EQ(ToLowerAscii("MiXeD 123 \xc3\x89"), "mixed 123 \xc3\x89");  // bytes >= 0x80 untouched
  EXPECT_EQ(Trim("  a b \r\n"), "a b");
  EXPECT_TRUE(IsUnder("data/x.csv", "data"));
  EXPECT_FALSE(IsUnder("database/x.csv", "data"));
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(PercentEncode("a b/c~", "/"), "a%20b/c~");
  // Valid in XML (S3's CompleteMultipartUpload) and in HTML (monitor reports) alike.
  EXPECT_EQ(XmlEscape("\"etag\"&<a href='x'>"), "&quot;etag&quot;&amp;&lt;a href=&#39;x&#39;&gt;");
}

}  // namespace
}  // namespace forja
