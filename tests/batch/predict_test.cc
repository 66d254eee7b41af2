// forja predict end to end on a small in-process model: the options it refuses, the formats
// it picks, input order kept across many chunks and threads, shards that add up to the whole
// with true line numbers, and a model's refusal naming the rows.
#include "forja/batch/predict.h"

#include <gtest/gtest.h>

#include "batch_test.h"

namespace forja::batch {
namespace {

TEST(PredictTest, RefusesBadOptionsAndInputs) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.input_format = "xml";
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c\n", "out.csv", m, o).status.message(), "--input-format: use csv or jsonl");
  o = {};
  o.output_format = "parquet";
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c\n", "out.csv", m, o).status.message(), "--output-format: use csv or jsonl");
  o = {};
  o.shard = 3;
  o.shards = 3;
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c\n", "out.csv", m, o).status.message(), "--shard: use i/n with 0 <= i < n");

  o = {};
  o.input = dir.Path("nope.csv");
  o.output = dir.Path("out.csv");
  EXPECT_EQ(RunPredict(o, m).status().message(), dir.Path("nope.csv") + ": No such file or directory");
  o.input = dir.Path("");
  EXPECT_EQ(RunPredict(o, m).status().message(), dir.Path("") + ": not a regular file");
}

TEST(PredictTest, TheFormatComesFromTheExtensionUnlessGiven) {
  Scratch dir;
  SumModel m = Features3();
  const std::string row = "{\"features\": [1, 1, 1]}\n";
  EXPECT_EQ(Predict(dir, "in.ndjson", row, "out.json", m).output, "{\"y\":6}\n");
  EXPECT_EQ(Predict(dir, "in.json", row, "out.txt", m).output, "y\n6\n");
  PredictOptions o;
  o.input_format = "jsonl";
  o.output_format = "jsonl";
  EXPECT_EQ(Predict(dir, "in.txt", row, "out.csv", m, o).output, "{\"y\":6}\n");
}

TEST(PredictTest, ManyChunksOnManyThreadsKeepInputOrder) {
  Scratch dir;
  SumModel m = Features3();
  std::string in = "a,b,c\n";
  for (int i = 0; i < 300000; i++) in += std::to_string(i) + ",0.25,0\n";  // about 4 MiB: four chunks and more
  PredictOptions o;
  o.jobs = 4;
  o.batch_size = 1000;
  Scored s = Predict(dir, "in.csv", in, "out.csv", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.report.rows, 300000u);
  size_t pos = s.output.find('\n') + 1;
  for (int i = 0; i < 300000; i++) {
    size_t nl = s.output.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << i;
    ASSERT_EQ(std::stod(s.output.substr(pos, nl - pos)), static_cast<float>(i + 0.5)) << "row " << i;
    pos = nl + 1;
  }
  EXPECT_EQ(pos, s.output.size());
  o.jobs = 1;
  o.batch_size = 7;
  EXPECT_EQ(Predict(dir, "in.csv", in, "one.csv", m, o).output, s.output);
}

TEST(PredictTest, ShardsAddUpToTheWholeWithTrueLineNumbers) {
  Scratch dir;
  SumModel m = Features3();
  std::string in = "a,b,c\n";
  for (int i = 1; i <= 999; i++) in += i == 700 ? "bad,0,0\n" : std::to_string(i) + ",0,0\n";
  PredictOptions o;
  o.skip_errors = true;
  Scored whole = Predict(dir, "in.csv", in, "whole.csv", m, o);
  ASSERT_TRUE(whole.status.ok()) << whole.status.message();
  std::string joined = "y\n";
  std::vector<std::string> errors;
  uint64_t rows = 0;
  o.shards = 3;
  for (int i = 0; i < 3; i++) {
    o.shard = i;
    Scored part = Predict(dir, "in.csv", in, "part.csv", m, o);
    ASSERT_TRUE(part.status.ok()) << part.status.message();
    ASSERT_EQ(part.output.substr(0, 2), "y\n");
    joined += part.output.substr(2);
    rows += part.report.rows;
    errors.insert(errors.end(), part.report.errors.begin(), part.report.errors.end());
  }
  EXPECT_EQ(joined, whole.output);
  EXPECT_EQ(rows, 998u);
  EXPECT_EQ(errors, std::vector<std::string>{dir.Path("in.csv") + ":701: column 'a': 'bad' is not a number"});
}

TEST(PredictTest, AModelThatRefusesABatchNamesItsRows) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.batch_size = 2;
  Scored s = Predict(dir, "in.csv", "a,b,c\n1,0,0\n2,0,0\n3,0,0\n-999,0,0\n5,0,0\n", "out.csv", m, o);
  EXPECT_EQ(s.status.message(), "predicting rows 4-5: input 'features': -999 is refused by this model");
  EXPECT_EQ(s.output, "(missing)");
  EXPECT_FALSE(dir.Has("out.csv.partial"));
}

}  // namespace
}  // namespace forja::batch
