// Shared pieces of the command-line front end. Each command group lives in its
// own file and registers its subcommands here; commands parse, call the
// modules, and print — nothing more.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "forja/core/status.h"

namespace CLI {
class App;
}

namespace forja {

class Workspace;

struct GlobalOptions {
  std::string directory;  // -C
  bool quiet = false;
  bool verbose = false;
  bool wait = false;  // wait for the workspace lock
  int jobs = 0;       // -j, 0 = command's default
};

// What a command does once arguments are parsed; returns the process exit code.
using Action = std::function<int()>;

// Registers subcommands; each stores its Action in *action when selected.
void RegisterDataCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterRemoteCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterConfigCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterDagCommand(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterPipelineCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterExpCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterMetricsCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterTrackingCommands(CLI::App& app, GlobalOptions& g, Action* action);  // after RegisterExpCommands
void RegisterModelsCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterServerCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterServeCommands(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterPredictCommand(CLI::App& app, GlobalOptions& g, Action* action);
void RegisterMonitorCommands(CLI::App& app, GlobalOptions& g, Action* action);  // monitor profile, report
void RegisterMonitorExportCommands(CLI::App& app, GlobalOptions& g, Action* action);  // monitor alerts, grafana
void RegisterImportCommands(CLI::App& app, GlobalOptions& g, Action* action);  // import dvc (cmd_import.cc)
void RegisterPlotsCommands(CLI::App& app, GlobalOptions& g, Action* action);   // plots show, diff (cmd_plots.cc)
void RegisterAgentCommands(CLI::App& app, GlobalOptions& g, Action* action);   // agent, agent status (cmd_agent.cc)
void RegisterCiCommands(CLI::App& app, GlobalOptions& g, Action* action);      // ci report (cmd_ci.cc)
void RegisterRolloutCommands(CLI::App& app, GlobalOptions& g, Action* action);  // rollout, status, abort (cmd_rollout.cc)
void RegisterDeployCommands(CLI::App& app, GlobalOptions& g, Action* action);   // deploy nginx (cmd_deploy.cc)
// The nearest folder at or above `start` with a .dvc/ folder, or "" (cmd_import.cc).
std::string FindDvcRoot(const std::string& start);
// Prints a note (hidden by -q) when the workspace at `root` is a DVC repository with a .dvc
// file at its top that has no pointer file yet: forja import dvc was not run (cmd_import.cc).
void NoteDvcNotTakenOver(const std::string& root);
// The `monitor` group every Register*Monitor* function adds to: found, or made (cmd_monitor.cc).
CLI::App* MonitorGroup(CLI::App& app);

// forja status --pipeline: which stages would run, and why (cmd_pipeline.cc).
int DoPipelineStatus(GlobalOptions& g, const std::vector<std::string>& args, bool as_json);
// The same answer for `forja server`'s pipeline page: the DAG (stages with cmd, deps, outs,
// upstream; edges) and each stage's outcome and reasons, as JSON text (cmd_pipeline.cc).
Result<std::string> PipelineStatusJson(const std::string& root);

// Opens the workspace around the current folder; prints the error and returns null on failure.
std::unique_ptr<Workspace> OpenWorkspaceOrReport(int* exit_code);

// Resolves user-typed paths to repository-relative ones.
Result<std::vector<std::string>> ResolveAll(Workspace& ws, const std::vector<std::string>& paths);

// Splits command-line words into config overrides (they contain '=' or start
// with '~': Hydra's key=value, +key=value, ~key) and the rest (stage names).
void SplitOverrides(const std::vector<std::string>& args, std::vector<std::string>* rest,
                    std::vector<std::string>* overrides);

// Prints "forja: error: <message>" and returns the exit code for its kind.
int Fail(const Status& st);

// Writes to stdout with a trailing newline.
void Out(const std::string& line);
// Writes --json output (indented): always valid UTF-8, so a file name or a stored
// string that is not becomes U+FFFD instead of an exception (core/utf8.h's rule).
void OutJson(const nlohmann::json& j);

// "2026-12-03 07:00:02" (UTC) for milliseconds since the epoch; "-" for 0.
std::string FormatTime(int64_t ms);
// A metric for a table: 6 significant digits.
std::string FormatNumber(double v);

// The help epilog shared by every command: exit codes.
extern const char* const kExitCodesHelp;

}  // namespace forja
