// Writes one SVG per template into argv[1], each with two revisions and hostile
// text in the title, labels, series names and categories; svg_xml_test.py parses them.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "forja/plots/plots.h"

using namespace forja::plots;

namespace {

const char kHostile[] = "<b>&amp;\"quote\" 'x' \x01]]>";

RevisionData Rev(const std::string& name, const std::string& text) {
  RevisionData r;
  r.rev = name;
  r.files["d.csv"] = *ParseData(text, "d.csv", DataFormat::kCsv);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: forja_plots_render_tool OUTDIR\n";
    return 2;
  }
  std::string a = "x,y,label,actual,predicted\n0,1,<a>,cat,cat\n1,3,b&c,cat,dog\n2,2,<a>,dog,dog\n";
  std::string b = "x,y,label,actual,predicted\n0,2,<a>,cat,cat\n1,1,b&c,dog,dog\n2,5,\"q\"\"\",dog,dog\n";
  for (const auto& t : TemplateNames()) {
    PlotSpec spec;
    spec.id = "d.csv";
    spec.template_name = t;
    spec.title = kHostile;
    spec.x_label = kHostile;
    spec.y_label = kHostile;
    if (t.starts_with("confusion")) spec.x = {{"", "actual"}}, spec.y = {{"", "predicted"}};
    else if (t.starts_with("bar")) spec.x = {{"", "y"}}, spec.y = {{"", "label"}};
    else spec.x = {{"", "x"}}, spec.y = {{"", "y"}};
    auto plot = BuildPlot(spec, {Rev(std::string("rev ") + kHostile, a), Rev("workspace", b)});
    if (!plot.ok()) {
      std::cerr << plot.status().message() << "\n";
      return 1;
    }
    std::ofstream(std::string(argv[1]) + "/" + t + ".svg") << RenderSvg(*plot);
    PageItem item;
    item.heading = kHostile;
    item.svg = RenderSvg(*plot);
    std::ofstream(std::string(argv[1]) + "/" + t + ".html") << RenderHtml(kHostile, {item});
  }
  return 0;
}
