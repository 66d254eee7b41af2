// The JSON of a run's datasets (codec.cc) both ways: what forja server writes for runs/get
// and runs/search, RestStore reads back unchanged; a runs/log-inputs dataset that is not
// MLflow's shape is refused naming the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "forja/api/codec.h"

namespace forja::api {
namespace {

meta::DatasetInput Train() {
  meta::DatasetInput in;
  in.dataset = {"train", "abc123", "local", R"({"uri": "/data/train.csv"})", std::string(R"({"mlflow_colspec": []})"),
                std::nullopt};
  in.tags = {{"mlflow.data.context", "training"}};
  return in;
}

TEST(DatasetCodecTest, ARunsInputsReadBackAsWritten) {
  meta::Run run;
  run.info.run_id = std::string(32, 'a');
  run.inputs = {Train()};
  Json j = ToJson(run);
  ASSERT_TRUE(j["inputs"].contains("dataset_inputs"));
  const Json& d = j["inputs"]["dataset_inputs"][0];
  EXPECT_EQ(d["dataset"]["name"], "train");
  EXPECT_EQ(d["dataset"]["schema"], R"({"mlflow_colspec": []})");
  EXPECT_FALSE(d["dataset"].contains("profile")) << "an absent profile is left out, as MLflow's JSON does";
  EXPECT_EQ(d["tags"][0]["key"], "mlflow.data.context");

  auto back = RunFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->inputs.size(), 1u);
  EXPECT_EQ(back->inputs[0].dataset.source, R"({"uri": "/data/train.csv"})");
  EXPECT_EQ(back->inputs[0].dataset.schema, Train().dataset.schema);
  EXPECT_FALSE(back->inputs[0].dataset.profile.has_value());
  EXPECT_EQ(back->inputs[0].tags[0].value, "training");

  meta::Run none;
  EXPECT_EQ(ToJson(none)["inputs"], Json::object()) << "no inputs: an empty object, as before";
}

TEST(DatasetCodecTest, MalformedDatasetsNameTheField) {
  auto refused = [](const char* text, const std::string& field) {
    auto r = DatasetInputFromJson(Json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kUser);
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  };
  refused(R"("train")", "datasets");
  refused(R"({"tags": []})", "'dataset'");
  refused(R"({"dataset": "train"})", "'dataset'");
  refused(R"({"dataset": {"digest": "a", "source_type": "local", "source": "{}"}})", "dataset.name");
  refused(R"({"dataset": {"name": 7, "digest": "a", "source_type": "local", "source": "{}"}})", "dataset.name");
  refused(R"({"dataset": {"name": "t", "digest": "a", "source_type": "local"}})", "dataset.source");
  refused(R"({"dataset": {"name": "t", "digest": "a", "source_type": "local", "source": "{}", "schema": {}}})",
          "dataset.schema");
  refused(R"({"dataset": {"name": "t", "digest": "a", "source_type": "local", "source": "{}"}, "tags": {}})", "tags");
  refused(R"({"dataset": {"name": "t", "digest": "a", "source_type": "local", "source": "{}"}, "tags": [{}]})",
          "'key'");
}

}  // namespace
}  // namespace forja::api
