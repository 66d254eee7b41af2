#include "forja/serve/protocol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace forja::serve {
namespace {

std::vector<TensorSpec> Sig() { return {{"features", "FP32", {-1, 3}}}; }

std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

std::string Raw(const std::vector<float>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

TEST(ProtocolTest, JsonInferRequestFlatAndNested) {
  JsonDoc doc;
  for (const char* data : {"[1, 2, 3, 4, 5, 6]", "[[1, 2, 3], [4, 5, 6]]"}) {
    InferRequest req;
    std::string body = std::string(R"({"id": "r1", "inputs": [{"name": "features", "datatype": "FP32", "shape": [2, 3], "data": )") +
                       data + R"(}], "outputs": [{"name": "y"}]})";
    ASSERT_TRUE(ParseInferRequest(body, "", doc, &req).ok());
    EXPECT_EQ(req.id, "r1");
    ASSERT_EQ(req.inputs.size(), 1u);
    EXPECT_EQ(Floats(req.inputs[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    ASSERT_EQ(req.outputs.size(), 1u);
    EXPECT_FALSE(req.outputs[0].binary);
    auto rows = CheckInputs(Sig(), &req.inputs);
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(*rows, 2);
  }
}

TEST(ProtocolTest, BinaryInferRequest) {
  std::string json = R"({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 3], "parameters": {"binary_data_size": 12}}],
                         "parameters": {"binary_data_output": true}})";
  std::string body = json + Raw({1.5f, NAN, -2});
  JsonDoc doc;
  InferRequest req;
  ASSERT_TRUE(ParseInferRequest(body, std::to_string(json.size()), doc, &req).ok());
  EXPECT_TRUE(req.binary_output);
  auto f = Floats(req.inputs[0]);
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_TRUE(std::isnan(f[1]));
  EXPECT_TRUE(CheckInputs(Sig(), &req.inputs).ok());  // NaN is a missing value

  // Sizes that do not add up.
  EXPECT_FALSE(ParseInferRequest(body + "x", std::to_string(json.size()), doc, &req).ok());
  EXPECT_FALSE(ParseInferRequest(body.substr(0, body.size() - 1), std::to_string(json.size()), doc, &req).ok());
  EXPECT_FALSE(ParseInferRequest(body, "99999", doc, &req).ok());
  EXPECT_FALSE(ParseInferRequest(body, "12x", doc, &req).ok());
}

Status Check(const std::string& inputs_json) {
  JsonDoc doc;
  InferRequest req;
  RETURN_IF_ERROR(ParseInferRequest("{\"inputs\": " + inputs_json + "}", "", doc, &req));
  auto rows = CheckInputs(Sig(), &req.inputs);
  return rows.ok() ? Status::Ok() : rows.status();
}

TEST(ProtocolTest, BadInputsNameTheField) {
  struct Case {
    const char* inputs;
    const char* message;
  } cases[] = {
      {R"([{"name": "features", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}])", "datatype FP64, but the model takes FP32"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}])", "shape [1,4], but the model takes [-1,3]"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]}])", "shape [3], but the model takes [-1,3]"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [1, 2]}])", "has 3 elements but 'data' has 2"},
      {R"([{"name": "other", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}])", "unknown input 'other'"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [1, "a", 3]}])", "FP32 data must be numbers"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [1, 1e39, 3]}])", "out of FP32's range"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, 3]}])", "no 'data'"},
      {R"([{"name": "features", "datatype": "XX", "shape": [1, 3], "data": [1, 2, 3]}])", "unknown datatype 'XX'"},
      {R"([{"name": "features", "datatype": "FP32", "shape": [1, -3], "data": [1, 2, 3]}])", "'shape' must be a list of sizes"},
      {R"([])", "'inputs' must be a non-empty list"},
  };
  for (const auto& c : cases) {
    Status st = Check(c.inputs);
    ASSERT_FALSE(st.ok()) << c.inputs;
    EXPECT_EQ(st.code(), Code::kUser);
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
  std::vector<TensorSpec> two = {{"a", "FP32", {-1}}, {"b", "INT64", {-1}}};
  std::vector<Tensor> in(1);
  in[0] = {"a", "FP32", {1}, Raw({1})};
  auto r = CheckInputs(two, &in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing input 'b'"), std::string::npos);
  in = {{"a", "FP32", {1}, Raw({INFINITY})}, {"b", "INT64", {1}, std::string(8, '\0')}};
  r = CheckInputs(two, &in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 'a': element 0 is infinite"), std::string::npos);
  in = {{"b", "INT64", {2}, std::string(16, '\0')}, {"a", "FP32", {1}, Raw({1})}};
  r = CheckInputs(two, &in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rows"), std::string::npos);
}

TEST(ProtocolTest, ResponseJsonAndBinary) {
  std::vector<Tensor> outs = {{"y", "FP32", {2}, Raw({0.25f, 0.5f})}, {"k", "INT64", {2, 1}, std::string(16, '\0')}};
  InferRequest req;
  req.id = "x";
  InferResponse r;
  ASSERT_TRUE(EncodeInferResponse("m", "3", req, outs, &r).ok());
  EXPECT_EQ(r.header_length, 0u);
  EXPECT_EQ(r.body, R"({"model_name":"m","model_version":"3","id":"x","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[0.25,0.5]},)"
                    R"({"name":"k","datatype":"INT64","shape":[2,1],"data":[0,0]}]})");
  req.outputs = {{"y", true}};
  ASSERT_TRUE(EncodeInferResponse("m", "3", req, outs, &r).ok());
  ASSERT_GT(r.header_length, 0u);
  EXPECT_EQ(r.body.substr(r.header_length), Raw({0.25f, 0.5f}));
  EXPECT_NE(r.body.substr(0, r.header_length).find("\"binary_data_size\":8"), std::string::npos);
  req.outputs = {{"nope", false}};
  EXPECT_FALSE(EncodeInferResponse("m", "3", req, outs, &r).ok());
}

std::vector<float> Invocations(const std::string& ct, const std::string& body, Status* st = nullptr) {
  JsonDoc doc;
  std::vector<Tensor> in;
  Status s = ParseInvocations(ct, body, Sig(), doc, &in);
  if (s.ok()) {
    auto rows = CheckInputs(Sig(), &in);
    if (!rows.ok()) s = rows.status();
  }
  if (st) *st = s;
  if (!s.ok()) return {};
  return Floats(in[0]);
}

TEST(ProtocolTest, MlflowFormats) {
  std::vector<float> want = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(Invocations("application/json", R"({"dataframe_split": {"columns": ["a","b","c"], "data": [[1,2,3],[4,5,6]]}})"), want);
  EXPECT_EQ(Invocations("application/json", R"({"dataframe_records": [{"a":1,"b":2,"c":3},{"c":6,"b":5,"a":4}]})"), want);
  EXPECT_EQ(Invocations("application/json", R"({"instances": [[1,2,3],[4,5,6]]})"), want);
  EXPECT_EQ(Invocations("application/json", R"({"inputs": [[1,2,3],[4,5,6]]})"), want);
  EXPECT_EQ(Invocations("application/json", R"({"inputs": {"features": [[1,2,3],[4,5,6]]}})"), want);
  EXPECT_EQ(Invocations("application/json; charset=utf-8", R"({"instances": [1,2,3]})"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(Invocations("text/csv", "a,b,c\n1,2,3\r\n4,5,6\n"), want);
  EXPECT_EQ(Invocations("text/csv", "1,2,3\n4,5,6"), want);
  auto nan = Invocations("text/csv", "a,b,c\n1,,3\n");
  ASSERT_EQ(nan.size(), 3u);
  EXPECT_TRUE(std::isnan(nan[1]));
  Status st;
  Invocations("application/json", R"({"dataframe_split": {"columns": ["a","b"], "data": [[1,2],[4,5]]}})", &st);
  EXPECT_NE(st.message().find("takes 3 columns, the request has 2"), std::string::npos) << st.message();
  Invocations("application/json", R"({"instances": [[1,2,3],[4,5]]})", &st);
  EXPECT_NE(st.message().find("row 1 has 2 values"), std::string::npos) << st.message();
  Invocations("text/csv", "a,b,c\n1,x,3\n", &st);
  EXPECT_NE(st.message().find("'x' is not a number"), std::string::npos) << st.message();
  Invocations("application/json", R"({"foo": 1})", &st);
  EXPECT_NE(st.message().find("dataframe_split, dataframe_records, instances or inputs"), std::string::npos);
  Invocations("application/xml", "<a/>", &st);
  EXPECT_FALSE(st.ok());
}

TEST(ProtocolTest, Predictions) {
  EXPECT_EQ(EncodePredictions({{"y", "FP32", {2}, Raw({0.5f, 1})}}), R"({"predictions":[0.5,1]})");
  EXPECT_EQ(EncodePredictions({{"y", "FP32", {2, 2}, Raw({1, 2, 3, 4})}}), R"({"predictions":[[1,2],[3,4]]})");
  EXPECT_EQ(EncodePredictions({{"y", "FP32", {1}, Raw({1})}, {"z", "BOOL", {1}, std::string(1, '\1')}}),
            R"({"predictions":{"y":[1],"z":[true]}})");
}

}  // namespace
}  // namespace forja::serve
