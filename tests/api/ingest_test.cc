// runs/log-batch and runs/log-metric read their usual bodies without building a tree
// (api/ingest.cc). Whatever the plain readers read must be exactly what the tree readers
// read; what they cannot be sure of they must decline, and the tree readers answer it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forja/api/server_impl.h"

namespace forja::api {
namespace {

// The tree's reading of a body, as Dispatch does it: parsed and checked, an object, the route's reader.
Result<LogBatchBody> TreeRead(const std::string& body, bool metric) {
  try {
    ASSIGN_OR_RETURN(Json j, ParseJsonText(body, "the request body"));
    if (!j.is_object()) return Status::User("the request body must be a JSON object");
    net::Request req;
    req.method = "POST";
    Params p(req, j);
    return metric ? ReadLogMetric(p) : ReadLogBatch(p);
  } catch (const std::exception& e) {  // nlohmann's refusal of 1e400 escapes ParseJsonText
    return Status::User(std::string("threw: ") + e.what());
  }
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void ExpectSame(const LogBatchBody& tree, const LogBatchBody& plain, const std::string& body) {
  EXPECT_EQ(tree.run_id, plain.run_id) << body;
  ASSERT_EQ(tree.metrics.size(), plain.metrics.size()) << body;
  for (size_t i = 0; i < tree.metrics.size(); i++) {
    const meta::Metric &t = tree.metrics[i], &p = plain.metrics[i];
    EXPECT_EQ(t.key, p.key) << body;
    EXPECT_TRUE(SameBits(t.value, p.value)) << body << ": " << t.value << " vs " << p.value;
    EXPECT_EQ(t.timestamp, p.timestamp) << body;
    EXPECT_EQ(t.step, p.step) << body;
  }
  ASSERT_EQ(tree.params.size(), plain.params.size()) << body;
  for (size_t i = 0; i < tree.params.size(); i++) {
    EXPECT_EQ(tree.params[i].key, plain.params[i].key) << body;
    EXPECT_EQ(tree.params[i].value, plain.params[i].value) << body;
  }
  ASSERT_EQ(tree.tags.size(), plain.tags.size()) << body;
  for (size_t i = 0; i < tree.tags.size(); i++) {
    EXPECT_EQ(tree.tags[i].key, plain.tags[i].key) << body;
    EXPECT_EQ(tree.tags[i].value, plain.tags[i].value) << body;
  }
}

// Reads `body` both ways. True when the plain reader read it, and then the tree reader must
// have read it too, to the same values.
bool Plain(const std::string& body, bool metric = false) {
  LogBatchBody plain;
  if (!(metric ? ReadPlainLogMetric : ReadPlainLogBatch)(body, &plain)) return false;
  Result<LogBatchBody> tree = TreeRead(body, metric);
  EXPECT_TRUE(tree.ok()) << body << " read plainly, but the tree reader says: " << tree.status().message();
  if (tree.ok()) ExpectSame(*tree, plain, body);
  return true;
}

const char* const kMetric = R"({"key": "loss", "value": 0.25, "timestamp": 1700000000000, "step": 3})";

std::string Batch(const std::string& metrics, const std::string& rest = "") {
  return R"({"run_id": "0123abcd", "metrics": [)" + metrics + "]" + rest + "}";
}

TEST(Ingest, ReadsWhatMlflowClientsSend) {
  // As MLflow's Python client sends them (json.dumps: non-ASCII as \u escapes).
  EXPECT_TRUE(Plain(Batch(kMetric, R"(, "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t", "value": "x"}])")));
  EXPECT_TRUE(Plain(Batch(R"({"key": "a", "value": "NaN", "timestamp": 1, "step": 0},
                             {"key": "b", "value": "Infinity", "timestamp": 1, "step": 0},
                             {"key": "c", "value": "-Infinity", "timestamp": 1, "step": 0},
                             {"key": "d", "value": 3, "timestamp": 1, "step": 0},
                             {"key": "e", "value": -0, "timestamp": 1, "step": -2},
                             {"key": "f", "value": -0.0, "timestamp": 1, "step": 0},
                             {"key": "g", "value": 1e-7, "timestamp": 1, "step": 0},
                             {"key": "h", "value": 18446744073709551615, "timestamp": 1, "step": 0},
                             {"key": "i", "value": 0.1, "timestamp": 1, "step": 0})")));
  EXPECT_TRUE(Plain(R"({"run_uuid": "r", "params": [], "tags": null})"));
  EXPECT_TRUE(Plain(R"({"run_id": "", "run_uuid": "r", "metrics": []})"));
  EXPECT_TRUE(Plain(R"({"run_id": "r", "params": [{"key": "caf\u00e9 \ud83d\ude00", "value": "a \"q\" \\ \n"}]})"));
  EXPECT_TRUE(Plain(R"({"run_id": "r", "tags": [{"key": "k"}, {"key": "k2", "value": null}]})"));
  EXPECT_TRUE(Plain(R"({"run_id": "r", "params": [{"key": "k"}]})"));
  // Java's clients write int64 as text; other fields are ignored; the last of a repeated name counts.
  EXPECT_TRUE(Plain(Batch(R"({"key": "j", "value": "nan", "timestamp": "1700000000000", "step": "-4"})")));
  EXPECT_TRUE(Plain(Batch(R"({"key": "m", "value": 1, "timestamp": 1, "step": 0, "dataset_name": null,
                             "model_id": "x", "more": {"a": [1, 2.5, "s", true]}})", R"(, "extra": [{}])")));
  EXPECT_TRUE(Plain(Batch(R"({"key": "a", "key": "b", "value": 1, "value": 2, "timestamp": 5, "timestamp": null})",
                          R"(, "run_id": "second", "metrics": [], "metrics": [{"key": "z", "value": 9}])")));
  EXPECT_TRUE(Plain(R"({"run_id": "r", "key": "auc", "value": 0.9, "timestamp": 1, "step": 0})", true));
  EXPECT_TRUE(Plain(R"({"run_uuid": "r", "key": "auc", "value": "NaN"})", true));
}

TEST(Ingest, DeclinesWhatOnlyTheTreeAnswers) {
  for (const std::string& body : {
           std::string("{not json"), std::string("[]"), std::string(" "), std::string("\xEF\xBB\xBF{}"),
           std::string(R"({"run_id": "r\xff"})"), "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}",
           // errors
           std::string(R"({"metrics": []})"), std::string(R"({"run_id": 5})"), std::string(R"({"run_id": ""})"),
           Batch("", R"(, "metrics": "no")"), Batch("", R"(, "metrics": null)"), Batch("", R"(, "params": null)"),
           Batch(R"({"key": "x", "value": "high", "timestamp": 1})"), Batch(R"({"key": "x", "value": null})"),
           Batch(R"({"key": "x"})"), Batch(R"({"value": 1})"), Batch(R"({"key": 7, "value": 1})"), Batch("1"),
           Batch(R"({"key": "x", "value": 1, "timestamp": 1.5})"), Batch(R"({"key": "x", "value": 1e400})"),
           Batch(kMetric, R"(, "tags": [{"key": "t", "value": 5}])"), Batch(kMetric, R"(, "params": [{"value": "v"}])"),
           // read by the tree, but in ways the plain reader does not copy
           Batch(kMetric, R"(, "params": [{"key": "k", "value": 5}])"),
           Batch(kMetric, R"(, "params": [{"key": "k", "value": null}])"),
           Batch(R"({"key": "x", "value": 1, "timestamp": "+5"})"), Batch(R"({"key": "x", "value": 1, "step": 1e2})"),
           Batch(R"({"key": "x", "value": "1.5"})"), Batch(R"({"key": "x", "value": 1, "step": 9223372036854775808})"),
           Batch(R"({"k\u0065y": "x", "value": 1})"),
           // nlohmann refuses these bodies, JsonDoc would not
           Batch(kMetric, R"(, "extra": 1e400)"), Batch(kMetric, R"(, "extra": "\udc00")"),
           Batch(kMetric, R"(, "tags": [{"key": "\ud800x", "value": ""}])"),
           Batch(R"({"key": "x", "value": 1e400, "value": 1})"),
       }) {
    EXPECT_FALSE(Plain(body)) << body;
    EXPECT_FALSE(Plain(body, true)) << body;
  }
}

// Every field of a batch and of a log-metric body, given each kind of value in turn: what the
// plain reader reads, the tree reader reads the same.
TEST(Ingest, AgreesOnEveryKindOfField) {
  const std::vector<std::string> values = {
      R"("s")", R"("")", "0", "5", "-0", "-7", "1.5", "1e2", "-0.0", "1e400", "1e-400", "null", "true", "false",
      "[]", "{}", R"(["s"])", R"({"key": "k"})", R"("NaN")", R"("Infinity")", R"("-inf")", R"("12")", R"("-12")",
      R"("+1")", R"(" 1")", R"("1.5")", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
      "18446744073709551616", R"("\u0041")", R"("\ud800")", R"("\ud83d\ude00")", R"("a\"b")",
      R"([{"key": "k", "value": "v"}])", R"([{"key": "k", "value": 1, "timestamp": 2, "step": 3}])", R"([1])"};
  // {} marks where each value goes in turn.
  const std::vector<std::string> batch_shapes = {
      R"({"run_id": {}, "metrics": [{"key": "k", "value": 1}]})",
      R"({"run_id": "", "run_uuid": {}})",
      R"({"run_id": "r", "run_uuid": {}})",
      R"({"run_id": "r", "metrics": {}})",
      R"({"run_id": "r", "params": {}})",
      R"({"run_id": "r", "tags": {}})",
      R"({"run_id": "r", "other": {}})",
      R"({"run_id": "r", "metrics": [{"key": {}, "value": 1}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": {}}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": 1, "timestamp": {}}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": 1, "step": {}}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": 1, "other": {}}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": {}, "value": 2}]})",
      R"({"run_id": "r", "metrics": [{"key": "k", "value": 2, "value": {}}]})",
      R"({"run_id": "r", "params": [{"key": {}, "value": "v"}]})",
      R"({"run_id": "r", "params": [{"key": "k", "value": {}}]})",
      R"({"run_id": "r", "params": [{}]})",
      R"({"run_id": "r", "tags": [{"key": {}, "value": "v"}]})",
      R"({"run_id": "r", "tags": [{"key": "k", "value": {}}]})",
      R"({"run_id": "r", "tags": [{}]})",
  };
  const std::vector<std::string> metric_shapes = {
      R"({"run_id": {}, "key": "k", "value": 1})",
      R"({"run_uuid": {}, "key": "k", "value": 1})",
      R"({"run_id": "r", "key": {}, "value": 1})",
      R"({"run_id": "r", "key": "k", "value": {}})",
      R"({"run_id": "r", "key": "k", "value": 1, "timestamp": {}})",
      R"({"run_id": "r", "key": "k", "value": 1, "step": {}})",
      R"({"run_id": "r", "key": "k", "value": 1, "metrics": {}})",
  };
  int read = 0;
  for (bool metric : {false, true})
    for (const std::string& shape : metric ? metric_shapes : batch_shapes)
      for (const std::string& v : values) {
        std::string body = shape;
        body.replace(body.find("{}", 1), 2, v);
        read += Plain(body, metric);
      }
  EXPECT_GT(read, 100);  // the plain readers read most of them
}

}  // namespace
}  // namespace forja::api
