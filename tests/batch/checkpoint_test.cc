// The resume record: written and read back, refused when torn, corrupt or another run's, and
// forja predict resuming from one to the same bytes, or starting over from one it must not use.
#include "forja/batch/checkpoint.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "batch_test.h"

namespace forja::batch {
namespace {

Checkpoint Sample() {
  Checkpoint cp;
  cp.fingerprint = "ab12";
  cp.offset = 1000;
  cp.output_bytes = 500;
  cp.line = 42;
  cp.rows = 40;
  cp.skipped = 1;
  return cp;
}

bool Same(const Checkpoint& a, const Checkpoint& b) {
  return a.fingerprint == b.fingerprint && a.offset == b.offset && a.output_bytes == b.output_bytes &&
         a.line == b.line && a.rows == b.rows && a.skipped == b.skipped;
}

TEST(CheckpointTest, ReadsBackWhatItWrites) {
  Checkpoint cp = Sample();
  EXPECT_EQ(cp.Serialize(), "forja-predict 1\nfingerprint ab12\noffset 1000\noutput_bytes 500\nline 42\nrows 40\nskipped 1\n");
  auto back = Checkpoint::Parse(cp.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(Same(*back, cp));
}

TEST(CheckpointTest, RefusesATornOrCorruptRecord) {
  const std::string good = Sample().Serialize();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  for (const std::string& bad : std::vector<std::string>{
           "", good.substr(0, good.size() - 1), good.substr(0, good.size() / 2), with("forja-predict 1", "forja-predict 2"),
           with("skipped 1\n", ""), with("offset 1000", "offset abc"), with("offset 1000", "offset -1"),
           with("offset 1000", "offset 99999999999999999999999"), with("line 42", "line"), with("rows 40", "rows "),
           with("offset 1000", "offset 1000x"), with("rows 40", "rows 40 1"), with("skipped 1", "skipped +1")}) {
    EXPECT_FALSE(Checkpoint::Parse(bad).has_value()) << bad;
  }
}

TEST(CheckpointTest, SavesAfterSyncingThePartialOutput) {
  Scratch dir;
  Fd out(::open(dir.Path("out.partial").c_str(), O_WRONLY | O_CREAT, 0644));
  ASSERT_GE(out.get(), 0);
  ASSERT_TRUE(SaveCheckpoint(out.get(), dir.Path("out.partial"), dir.Path("out.progress"), Sample()).ok());
  EXPECT_EQ(dir.Read("out.progress"), Sample().Serialize());
  Status st = SaveCheckpoint(-1, "out.partial", dir.Path("out.progress"), Sample());
  EXPECT_EQ(st.message().rfind("syncing out.partial", 0), 0u) << st.message();
}

TEST(CheckpointTest, TheFingerprintCoversTheInputTheModelAndTheOptions) {
  PredictOptions o;
  o.input = "in.csv";
  o.model_id = "m@1";
  struct stat st {};
  st.st_size = 100;
  st.st_ino = 7;
  const std::string base = Fingerprint(o, st, "csv", "csv");
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(Fingerprint(o, st, "csv", "csv"), base);
  PredictOptions jobs = o;
  jobs.jobs = 8;  // the same output
  jobs.batch_size = 7;
  EXPECT_EQ(Fingerprint(jobs, st, "csv", "csv"), base);

  EXPECT_NE(Fingerprint(o, st, "jsonl", "csv"), base);
  EXPECT_NE(Fingerprint(o, st, "csv", "jsonl"), base);
  struct stat grown = st;
  grown.st_size = 101;
  EXPECT_NE(Fingerprint(o, grown, "csv", "csv"), base);
  struct stat touched = st;
  touched.st_mtim.tv_nsec = 1;
  EXPECT_NE(Fingerprint(o, touched, "csv", "csv"), base);
  for (auto change : std::vector<void (*)(PredictOptions*)>{
           [](PredictOptions* p) { p->model_id = "m@2"; }, [](PredictOptions* p) {
             p->shard = 1;
             p->shards = 2;
           },
           [](PredictOptions* p) { p->skip_errors = true; }, [](PredictOptions* p) { p->keep = {"id"}; },
           [](PredictOptions* p) { p->exclude = {"id"}; }, [](PredictOptions* p) { p->input = "other.csv"; }}) {
    PredictOptions changed = o;
    change(&changed);
    EXPECT_NE(Fingerprint(changed, st, "csv", "csv"), base);
  }
  // Which option names a column counts: --keep id writes it, --exclude id does not.
  PredictOptions keep = o, exclude = o, keep2 = o;
  keep.keep = {"id"};
  exclude.exclude = {"id"};
  keep2.keep = {"i", "d"};
  EXPECT_NE(Fingerprint(keep, st, "csv", "csv"), Fingerprint(exclude, st, "csv", "csv"));
  EXPECT_NE(Fingerprint(keep, st, "csv", "csv"), Fingerprint(keep2, st, "csv", "csv"));
}

// ---- resuming --------------------------------------------------------------------------

// An input of rows y = 1..100, and a record made as a run killed after row 40 leaves it.
class ResumeTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string text = "a,b,c\n";
    for (int i = 1; i <= 100; i++) {
      if (i == 41) row41_ = text.size();
      text += std::to_string(i) + ",0,0\n";
    }
    o_.input = dir_.Write("in.csv", text);
    o_.output = dir_.Path("out.csv");
    o_.progress = false;
    o_.jobs = 2;
    o_.batch_size = 8;
    for (int i = 1; i <= 100; i++) whole_ += std::to_string(i) + "\n";
    whole_ = "y\n" + whole_;
  }

  // The record after row 40, and OUTPUT.partial with its output and `extra` bytes past it.
  Checkpoint Killed(const std::string& extra = "") {
    struct stat st {};
    EXPECT_EQ(::stat(o_.input.c_str(), &st), 0);
    std::string written = whole_.substr(0, whole_.find("\n41\n") + 1);
    dir_.Write("out.csv.partial", written + extra);
    Checkpoint cp;
    cp.fingerprint = Fingerprint(o_, st, "csv", "csv");
    cp.offset = row41_;
    cp.output_bytes = written.size();
    cp.line = 42;
    cp.rows = 40;
    return cp;
  }

  Result<PredictReport> Run(const Checkpoint& cp) {
    dir_.Write("out.csv.progress", cp.Serialize());
    return RunPredict(o_, model_);
  }

  Scratch dir_;
  SumModel model_ = Features3();
  PredictOptions o_;
  uint64_t row41_ = 0;
  std::string whole_;  // the output of an uninterrupted run
};

TEST_F(ResumeTest, GoesOnFromTheRecordToTheSameBytes) {
  auto r = Run(Killed("half a line that was never record"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->resumed_line, 42u);
  EXPECT_EQ(r->resumed_rows, 40u);
  EXPECT_EQ(r->rows, 100u);
  EXPECT_EQ(dir_.Read("out.csv"), whole_);
  EXPECT_FALSE(dir_.Has("out.csv.partial") || dir_.Has("out.csv.progress"));
}

TEST_F(ResumeTest, StartsOverFromARecordItMustNotUse) {
  std::vector<std::pair<std::string, std::function<void(Checkpoint*)>>> cases = {
      {"another run's", [](Checkpoint* c) { c->fingerprint = std::string(64, '0'); }},
      {"past the input", [](Checkpoint* c) { c->offset = 1 << 20; }},
      {"before this shard", [](Checkpoint* c) { c->offset = 0; }},
      {"more output than the partial file holds", [](Checkpoint* c) { c->output_bytes += 1000; }},
  };
  for (auto& [what, spoil] : cases) {
    Checkpoint cp = Killed("garbage");
    spoil(&cp);
    auto r = Run(cp);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status().message();
    EXPECT_EQ(r->resumed_line, 0u) << what;
    EXPECT_EQ(r->rows, 100u) << what;
    EXPECT_EQ(dir_.Read("out.csv"), whole_) << what;
  }
  Killed("garbage");
  dir_.Write("out.csv.progress", "forja-predict 1\nfingerprint ");  // torn
  auto r = RunPredict(o_, model_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->resumed_line, 0u);
  EXPECT_EQ(dir_.Read("out.csv"), whole_);
}

TEST_F(ResumeTest, ABadRowLeavesNothingToResume) {
  dir_.Write("in.csv", "a,b,c\n1,0,0\nx,0,0\n");
  auto r = RunPredict(o_, model_);
  EXPECT_EQ(r.status().message(), o_.input + ":3: column 'a': 'x' is not a number; fix the row, or pass --on-error skip");
  EXPECT_FALSE(dir_.Has("out.csv") || dir_.Has("out.csv.partial") || dir_.Has("out.csv.progress"));
}

}  // namespace
}  // namespace forja::batch
