// fuzz-libs: forja_plots
// Fuzzes the plot data readers (plots/data.h: CSV, TSV, JSON, YAML) and the SVG
// drawn from what they read: plot files come from the repository, any commit of it.
// The first byte picks the format (and, with bit 2, a CSV without a header row); the rest is the file.
//
// Invariants, beyond "no crash":
//  - a failure is a user error on one line;
//  - a table's rows all have one cell per column, within the limits;
//  - the SVG of every template ends its document, and no cell text reaches it
//    unescaped (no '<' follows a '>' inside a text element's content).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/plots/data.h"
#include "forja/plots/plots.h"
#include "fuzz_check.h"

using namespace forja::plots;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const DataFormat formats[] = {DataFormat::kCsv, DataFormat::kTsv, DataFormat::kJson, DataFormat::kYaml};
  DataFormat format = formats[data[0] % 4];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto table = ParseData(text, "f", format, (data[0] & 4) == 0);
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == forja::Code::kUser, table.status().message());
    FUZZ_CHECK(table.status().message().find('\n') == std::string::npos, table.status().message());
    return 0;
  }
  FUZZ_CHECK(table->columns.size() <= kMaxColumns, std::to_string(table->columns.size()));
  FUZZ_CHECK(table->rows.size() <= kMaxRows, std::to_string(table->rows.size()));
  for (const auto& row : table->rows) FUZZ_CHECK(row.size() == table->columns.size(), std::to_string(row.size()));
  if (table->columns.empty()) return 0;
  RevisionData rev;
  rev.rev = "w";
  rev.files["f"] = *table;
  for (const auto& t : TemplateNames()) {
    PlotSpec spec;
    spec.id = "f";
    spec.template_name = t;
    spec.x = {{"", table->columns.front()}};
    auto plot = BuildPlot(spec, {rev});
    FUZZ_CHECK(plot.ok(), plot.status().message());
    std::string svg = RenderSvg(*plot);
    FUZZ_CHECK(svg.ends_with("</svg>\n"), t);
    for (const auto& row : table->rows)
      for (const auto& cell : row)
        if (cell.find('<') != std::string::npos)
          FUZZ_CHECK(svg.find(">" + cell + "<") == std::string::npos, forja::fuzz::Show(cell));
  }
  return 0;
}
