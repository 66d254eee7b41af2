// forja: one program for the infrastructure around machine-learning models.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "forja/cli/cli.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/workspace.h"

#ifndef FORJA_VERSION
#define FORJA_VERSION "dev"
#endif

namespace forja {

const char* const kExitCodesHelp =
    "Exit codes: 0 success; 1 a difference was found (status, verify) or a user error\n"
    "(bad input, missing path, refused to lose data, lock held, missing or unknown token);\n"
    "2 bad usage; 3 the environment failed (I/O, full disk, corrupt data, a remote or server\n"
    "unreachable, refusing, busy or timing out);\n"
    "4 an internal error (a bug: please report it).\n"
    "Global options, before or after the command: -C DIR, -q, -v, --wait (wait for the\n"
    "workspace lock instead of failing when another command holds it).";

int Fail(const Status& st) {
  LogError(st.message());
  return ExitCodeFor(st.code());
}

void Out(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

void OutJson(const nlohmann::json& j) { Out(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)); }

std::unique_ptr<Workspace> OpenWorkspaceOrReport(int* exit_code) {
  auto ws = Workspace::Open(CurrentDir());
  if (!ws.ok()) {
    // A DVC repository forja has not taken over yet: say how, instead of only "forja init".
    if (ws.status().code() == Code::kUser && !FindDvcRoot(CurrentDir()).empty()) {
      *exit_code = Fail(Status::User(ws.status().message() + "; this is a DVC repository: run forja import dvc "
                                     "to take over its .dvc files, dvc.lock and remotes"));
      return nullptr;
    }
    *exit_code = Fail(ws.status());
    return nullptr;
  }
  NoteDvcNotTakenOver((*ws)->root());
  return std::move(*ws);
}

Result<std::vector<std::string>> ResolveAll(Workspace& ws, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    ASSIGN_OR_RETURN(std::string rel, ws.Resolve(p));
    out.push_back(std::move(rel));
  }
  return out;
}

namespace {

// CLI11 reports a mistyped command as "A subcommand is required"; name it instead.
std::string UnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "-C") {
      i++;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    auto subs = cur->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return "";  // an argument of a command that takes arguments
    CLI::App* next = nullptr;
    for (auto* s : subs)
      if (s->check_name(a)) next = s;
    if (!next) {
      std::string names;
      for (auto* s : subs) names += (names.empty() ? "" : ", ") + s->get_name();
      return "unknown command '" + a + "'" + (cur == &app ? "" : " for forja " + cur->get_name()) +
             " (commands: " + names + ")";
    }
    cur = next;
  }
  return "";
}

int Run(int argc, char** argv) {
  CLI::App app{
      "forja: versioned data and models, reproducible pipelines, experiment tracking, a model\n"
      "registry and model serving, in one program.",
      "forja"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", std::string("forja ") + FORJA_VERSION);
  GlobalOptions g;
  app.add_option("-C", g.directory, "Run as if forja was started in DIR")->type_name("DIR");
  app.add_flag("-q,--quiet", g.quiet, "Print only errors (and requested output)");
  app.add_flag("-v,--verbose", g.verbose, "Print more detail");
  app.add_flag("--wait", g.wait, "Wait for the workspace lock instead of failing when it is held");

  Action action;
  RegisterDataCommands(app, g, &action);
  RegisterRemoteCommands(app, g, &action);
  RegisterConfigCommands(app, g, &action);
  RegisterDagCommand(app, g, &action);
  RegisterPipelineCommands(app, g, &action);
  RegisterExpCommands(app, g, &action);
  RegisterMetricsCommands(app, g, &action);
  RegisterTrackingCommands(app, g, &action);
  RegisterModelsCommands(app, g, &action);
  RegisterServerCommands(app, g, &action);
  RegisterServeCommands(app, g, &action);
  RegisterPredictCommand(app, g, &action);
  RegisterMonitorCommands(app, g, &action);
  RegisterMonitorExportCommands(app, g, &action);
  RegisterImportCommands(app, g, &action);
  RegisterPlotsCommands(app, g, &action);
  RegisterAgentCommands(app, g, &action);
  RegisterCiCommands(app, g, &action);
  RegisterRolloutCommands(app, g, &action);
  RegisterDeployCommands(app, g, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string unknown = UnknownCommand(app, argc, argv);
    if (!unknown.empty()) {
      LogError(unknown + "; see forja --help");
      return 2;
    }
    std::string where;
    for (auto* sub : app.get_subcommands()) where = " " + sub->get_name();
    LogError(std::string(e.what()) + "; see forja" + where + " --help");
    return 2;
  }
  SetVerbosity(g.quiet ? Verbosity::kQuiet : g.verbose ? Verbosity::kVerbose : Verbosity::kNormal);
  if (!g.directory.empty() && ::chdir(g.directory.c_str()) != 0)
    return Fail(Status::FromErrno("-C " + g.directory, errno));
  if (!action) return Fail(Status::Usage("no command given; see forja --help"));
  return action();
}

}  // namespace
}  // namespace forja

int main(int argc, char** argv) {
  try {
    return forja::Run(argc, argv);
  } catch (const std::exception& e) {
    forja::LogError(std::string("internal error: ") + e.what());
    return 4;
  }
}
