// forja dag: the pipeline's stages and what each depends on.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "forja/cli/cli.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/pipeline/project.h"

namespace forja {

namespace {

enum class DagFormat { kText, kMermaid, kDot, kJson };

int DoDag(const std::vector<std::string>& args, DagFormat format) {
  std::vector<std::string> targets, overrides;
  SplitOverrides(args, &targets, &overrides);
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  auto project = pipeline::LoadProject(*root, overrides);
  if (!project.ok()) return Fail(project.status());
  const pipeline::Dag& dag = project->dag;
  auto sel = pipeline::SelectStages(dag, targets, /*single=*/false);
  if (!sel.ok()) return Fail(sel.status());
  std::string out;
  switch (format) {
    case DagFormat::kText: out = pipeline::DagText(dag, *sel); break;
    case DagFormat::kMermaid: out = pipeline::DagMermaid(dag, *sel); break;
    case DagFormat::kDot: out = pipeline::DagDot(dag, *sel); break;
    case DagFormat::kJson: out = pipeline::DagJson(dag, *sel); break;
  }
  if (format == DagFormat::kText && dag.stages.empty())
    LogInfo("No stages: forja.yaml has no stages section (stages: {train: {cmd: ..., deps: [...], outs: [...]}})");
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void RegisterDagCommand(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* c = app.add_subcommand("dag", "Show the pipeline's stages and what each depends on");
  auto args = std::make_shared<std::vector<std::string>>();
  auto mermaid = std::make_shared<bool>(false);
  auto dot = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  c->add_option("args", *args,
                "Stages to show with everything they depend on (default: all; a foreach or matrix name "
                "selects all its stages), and config overrides (key=value)")
      ->type_name("TARGET|OVERRIDE");
  auto* m = c->add_flag("--mermaid", *mermaid, "Print a Mermaid flowchart (for Markdown)");
  auto* d = c->add_flag("--dot", *dot, "Print a Graphviz digraph (forja dag --dot | dot -Tsvg > dag.svg)");
  auto* j = c->add_flag("--json", *as_json, "Print JSON: stages (name, cmd, deps, outs, upstream) and edges");
  m->excludes(d)->excludes(j);
  d->excludes(j);
  c->footer(std::string(
      "Reads the stages of forja.yaml, interpolates ${...} against the configuration composed\n"
      "with the overrides (conf/config.yaml, or config.root in forja.yaml), and checks the graph:\n"
      "stage B depends on stage A when one of B's deps is one of A's outs, lies inside one, or\n"
      "contains one. Without a format flag, one line per stage in the order they would run:\n"
      "  train <- prepare\n"
      "Arguments with '=' (or starting with '~') are overrides in Hydra's grammar (train.lr=0.1,\n"
      "+extra=1, ~key); the others are stage names. Errors (a malformed stage, two stages writing\n"
      "one path, a dep that does not exist and no stage writes, a cycle) are one line naming\n"
      "forja.yaml and the line.\n\n"
      "Examples:\n"
      "  forja dag                             every stage\n"
      "  forja dag train                       train (all of a foreach) and what it needs\n"
      "  forja dag model=large train.lr=0.1    the pipeline under these overrides\n"
      "  forja dag --mermaid > pipeline.md     a diagram for Markdown\n\n") +
      kExitCodesHelp);
  c->callback([=] {
    DagFormat f = *mermaid ? DagFormat::kMermaid : *dot ? DagFormat::kDot : *as_json ? DagFormat::kJson
                                                                                      : DagFormat::kText;
    *action = [=] { return DoDag(*args, f); };
  });
}

}  // namespace forja
