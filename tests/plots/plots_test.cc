// forja_plots: the data readers (DVC's datapoints from CSV, TSV, JSON, YAML),
// plot building (x / y / template as DVC reads them) and the SVG a user opens.
#include <gtest/gtest.h>

#include <string>

#include "forja/plots/data.h"
#include "forja/plots/plots.h"
#include "lib/bad_case.h"

namespace forja::plots {
namespace {

using test::BadCase;

DataTable Parse(const std::string& text, const std::string& name) {
  auto t = ParseData(text, name, FormatOf(name));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : DataTable{};
}

TEST(Data, CsvWithQuotesAndCrlf) {
  DataTable t = Parse("step,\"a,b\"\r\n0,\"x \"\"y\"\"\"\r\n1,2\r\n", "f.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"step", "a,b"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "x \"y\"");
  EXPECT_EQ(t.rows[1][1], "2");
}

TEST(Data, CsvWithoutHeaderAsDvcNamesIt) {
  auto t = ParseData("1,0.5\n2,0.25\n", "f.csv", DataFormat::kCsv, /*header=*/false);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->columns, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][1], "0.5");
}

TEST(Data, Tsv) {
  DataTable t = Parse("a\tb\n1\t2\n", "f.tsv");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.rows[0][1], "2");
}

TEST(Data, JsonListsMergedByIndexAsDvcDoes) {
  // get_datapoints: every list of same-keyed objects, merged by index.
  DataTable t = Parse(R"({"roc": [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}], "extra": {"thr": [{"t": 0.5}]}})",
                      "roc.json");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"fpr", "tpr", "t"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][2], "0.5");
  EXPECT_EQ(t.rows[1][2], "");
  EXPECT_EQ(t.rows[1][1], "1");
}

TEST(Data, YamlScalarsAsWritten) {
  DataTable t = Parse("- {epoch: 1, acc: 0.5}\n- {epoch: 2, acc: 0.75}\n", "a.yaml");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"epoch", "acc"}));
  EXPECT_EQ(t.rows[1][1], "0.75");
}

TEST(Data, Numbers) {
  double v = 0;
  EXPECT_TRUE(ParseNumber("-1.5e3", &v));
  EXPECT_EQ(v, -1500);
  EXPECT_TRUE(ParseNumber(" 7 ", &v));
  EXPECT_FALSE(ParseNumber("nan", &v));
  EXPECT_FALSE(ParseNumber("inf", &v));
  EXPECT_FALSE(ParseNumber("1x", &v));
  EXPECT_FALSE(ParseNumber("", &v));
}

class BadData : public testing::TestWithParam<BadCase> {};

TEST_P(BadData, OneLine) {
  auto t = ParseData(GetParam().text, GetParam().label == "yaml_bad" ? "f.yaml" :
                                      GetParam().label.starts_with("json") ? "f.json" : "f.csv",
                     FormatOf(GetParam().label == "yaml_bad" ? "f.yaml" :
                              GetParam().label.starts_with("json") ? "f.json" : "f.csv"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), GetParam().message);
  EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Plots, BadData,
    testing::Values(BadCase{"csv_fields", "a,b\n1,2\n3\n", "f.csv:3: 1 fields, the header has 2"},
                    BadCase{"csv_empty", "", "f.csv:1: no header row; the first line names the columns (step,loss)"},
                    BadCase{"csv_quote", "a\n\"x\n", "f.csv:2: a quoted field is never closed"},
                    BadCase{"csv_after_quote", "a\n\"x\"y\n", "f.csv:2: text after a closing quote; quote the whole field"},
                    BadCase{"csv_twice", "a,a\n", "f.csv:1: column 'a' is named twice"},
                    BadCase{"json_syntax", "[{\"a\": 1,]", "f.json: not valid JSON: parse error at line 1, column 10: "
                            "syntax error while parsing object key - unexpected ']'; expected string literal"},
                    BadCase{"json_scalar", "3", "f.json: expected a list of datapoints ([{\"step\": 0, \"loss\": 1.5}, "
                            "...]) or an object holding one, got a single value"},
                    BadCase{"json_nested_value", "[{\"a\": [1]}]",
                            "f.json: datapoint 0 field 'a' is a list; a plot's values are numbers or strings"},
                    BadCase{"json_no_points", "{\"a\": 1}", "f.json: no list of datapoints (objects with the same "
                            "fields) in the document; write [{\"step\": 0, \"loss\": 1.5}, ...]"},
                    BadCase{"json_deep", std::string(100, '[') + std::string(100, ']'),
                            "f.json nests JSON more than 64 levels deep (byte 65); at most 64 levels are allowed"},
                    BadCase{"yaml_bad", "a: [1, 2\n", "f.yaml:2: not valid YAML: end of sequence flow not found"}),
    test::CaseName);

TEST(Data, RowLimit) {
  std::string text = "a\n";
  for (size_t i = 0; i <= kMaxRows; i++) text += "1\n";
  auto t = ParseData(text, "big.csv", DataFormat::kCsv);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "big.csv: 200001 rows; a plot reads at most 200000");
}

TEST(Data, YamlAliasBombRefused) {
  std::string text = "a: &a [1,1,1,1,1,1,1,1,1,1]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; c++) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; i++) text += std::string(i ? "," : "") + "*" + prev;
    text += "]\n";
    prev = c;
  }
  auto t = ParseData(text, "bomb.yaml", DataFormat::kYaml);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("values (after aliases); a plot reads at most"), std::string::npos)
      << t.status().message();
}

RevisionData Rev(const std::string& rev, const std::string& file, const std::string& text) {
  RevisionData r;
  r.rev = rev;
  r.files[file] = Parse(text, file);
  return r;
}

TEST(Build, DefaultsAreDvcs) {
  // No x: the step; no y: the file's last field; labels from the fields.
  PlotSpec spec{"loss.csv", "", "", {}, {}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("workspace", "loss.csv", "epoch,loss\n1,0.9\n2,0.5\n")});
  ASSERT_TRUE(plot.ok()) << plot.status().message();
  ASSERT_EQ(plot->series.size(), 1u);
  EXPECT_EQ(plot->series[0].xs, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(plot->series[0].ys, (std::vector<std::string>{"0.9", "0.5"}));
  EXPECT_EQ(plot->x_label, "step");
  EXPECT_EQ(plot->y_label, "loss");
  EXPECT_EQ(plot->title, "loss.csv");
  EXPECT_EQ(plot->template_name, "linear");
}

TEST(Build, YMappingAndRevisionsNamedByWhatDiffers) {
  PlotSpec spec{"roc", "dvc.yaml:3", "simple", {{"", "fpr"}}, {{"eval/roc.json", "tpr"}}, "", "", "ROC"};
  auto plot = BuildPlot(spec, {Rev("HEAD~1", "eval/roc.json", R"([{"fpr":0,"tpr":0},{"fpr":1,"tpr":1}])"),
                               Rev("workspace", "eval/roc.json", R"([{"fpr":0,"tpr":0.5},{"fpr":1,"tpr":1}])")});
  ASSERT_TRUE(plot.ok()) << plot.status().message();
  ASSERT_EQ(plot->series.size(), 2u);
  EXPECT_EQ(plot->series[0].name, "HEAD~1");
  EXPECT_EQ(plot->series[1].name, "workspace");
  EXPECT_EQ(plot->series[1].ys[0], "0.5");
  EXPECT_EQ(plot->x_label, "fpr");
  std::string svg = RenderSvg(*plot);
  EXPECT_NE(svg.find("class=\"chance\""), std::string::npos);  // ROC: the chance diagonal
  EXPECT_NE(svg.find("data-name=\"HEAD~1\""), std::string::npos);
}

TEST(Build, MissingFieldNamesFileAndFields) {
  PlotSpec spec{"loss.csv", "forja.yaml:7", "", {{"", "epoch"}}, {{"", "los"}}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("workspace", "loss.csv", "epoch,loss\n1,0.9\n")});
  ASSERT_FALSE(plot.ok());
  EXPECT_EQ(plot.status().message(),
            "forja.yaml:7: plot 'loss.csv': loss.csv (workspace) has no field 'los'; its fields: epoch, loss");
}

TEST(Build, UnknownTemplate) {
  PlotSpec spec{"loss.csv", "forja.yaml:7", "pie", {}, {}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("workspace", "loss.csv", "a\n1\n")});
  ASSERT_FALSE(plot.ok());
  EXPECT_EQ(plot.status().message().substr(0, 53), "forja.yaml:7: plot 'loss.csv': unknown template 'pie'");
}

TEST(Svg, LinePointsAndEscapedText) {
  PlotSpec spec{"l.csv", "", "linear", {}, {}, "", "<b>&\"'", "a<script>"};
  auto plot = BuildPlot(spec, {Rev("w", "l.csv", "loss\n0\n10\n")});
  ASSERT_TRUE(plot.ok());
  std::string svg = RenderSvg(*plot);
  EXPECT_NE(svg.find("<title>a&lt;script&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;&amp;&quot;&#39;"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  // Two points: x 0 and 1 on the nice scale [0, 1], y 0 and 10 on [0, 10].
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("data-points=\"2\""), std::string::npos);
}

TEST(Svg, ConfusionCounts) {
  PlotSpec spec{"c.csv", "", "confusion", {{"", "actual"}}, {{"", "predicted"}}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("w", "c.csv", "actual,predicted\ncat,cat\ncat,dog\ndog,dog\ndog,dog\n")});
  ASSERT_TRUE(plot.ok());
  std::string svg = RenderSvg(*plot);
  EXPECT_NE(svg.find("data-actual=\"dog\" data-predicted=\"dog\""), std::string::npos);
  EXPECT_NE(svg.find(">2</text>"), std::string::npos);  // dog -> dog twice
  EXPECT_NE(svg.find(">1</text>"), std::string::npos);
}

TEST(Svg, ConfusionNormalizedShares) {
  PlotSpec spec{"c.csv", "", "confusion_normalized", {{"", "a"}}, {{"", "p"}}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("w", "c.csv", "a,p\n1,1\n1,0\n1,1\n1,1\n")});
  ASSERT_TRUE(plot.ok());
  std::string svg = RenderSvg(*plot);
  EXPECT_NE(svg.find(">0.75</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.25</text>"), std::string::npos);
}

TEST(Svg, SortedBars) {
  PlotSpec spec{"imp.csv", "", "bar_horizontal_sorted", {{"", "importance"}}, {{"", "feature"}}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("w", "imp.csv", "feature,importance\nage,0.1\nincome,0.7\n")});
  ASSERT_TRUE(plot.ok());
  std::string svg = RenderSvg(*plot);
  EXPECT_LT(svg.find(">income</text>"), svg.find(">age</text>"));  // the larger bar first
  EXPECT_NE(svg.find("<title>income: 0.7</title>"), std::string::npos);
}

TEST(Build, ConfusionClassesBounded) {
  std::string text = "a,p\n";
  for (size_t i = 0; i <= kMaxClasses; i++) text += std::to_string(i) + ",0\n";
  PlotSpec spec{"c.csv", "", "confusion", {{"", "a"}}, {{"", "p"}}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("w", "c.csv", text)});
  ASSERT_FALSE(plot.ok());
  EXPECT_EQ(plot.status().message(),
            "plot 'c.csv': 201 classes; a confusion matrix draws at most 200 (is x or y the right field?)");
}

TEST(Svg, EveryTemplateDrawsAFileWithoutRows) {
  // Found by plots_data_fuzz: a confusion matrix of no datapoints indexed an empty label list.
  for (const auto& t : TemplateNames()) {
    PlotSpec spec{"e.csv", "", t, {{"", "a"}}, {{"", "b"}}, "", "", ""};
    auto plot = BuildPlot(spec, {Rev("w", "e.csv", "a,b\n")});
    ASSERT_TRUE(plot.ok()) << plot.status().message();
    EXPECT_TRUE(RenderSvg(*plot).ends_with("</svg>\n")) << t;
  }
}

TEST(Svg, SmoothIsAMovingAverage) {
  PlotSpec spec{"s.csv", "", "smooth", {}, {}, "", "", ""};
  auto plot = BuildPlot(spec, {Rev("w", "s.csv", "v\n0\n3\n0\n3\n0\n")});
  ASSERT_TRUE(plot.ok());
  std::string svg = RenderSvg(*plot);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity=\"0.35\""), std::string::npos);  // the raw points, faint
}

TEST(Escape, XmlForbiddenBytesReplaced) {
  EXPECT_EQ(XmlEscape("a\x01" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(XmlEscape("\xff"), "\xef\xbf\xbd");
  EXPECT_EQ(XmlEscape("\xef\xbf\xbf"), "\xef\xbf\xbd");
  EXPECT_EQ(XmlEscape("é<"), "é&lt;");
}

TEST(Html, SelfContained) {
  PageItem item;
  item.heading = "<img>";
  item.images.push_back({"workspace", "image/png", "\x89PNG"});
  std::string html = RenderHtml("t", {item});
  EXPECT_NE(html.find("src=\"data:image/png;base64,iVBORw==\"/>"), std::string::npos);
  EXPECT_NE(html.find("<h2>&lt;img&gt;</h2>"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(Names, SvgFileName) {
  EXPECT_EQ(SvgFileName("eval/roc.json"), "eval_roc.json.svg");
  EXPECT_EQ(SvgFileName("../x"), "_._x.svg");  // no hidden file, no folder
}

}  // namespace
}  // namespace forja::plots
