#include "forja/pipeline/executor.h"

#include "forja/config/node.h"

namespace forja::pipeline {

namespace {

using config::Node;

Status Bad(const Node& n, const std::string& field, const std::string& what) {
  return Status::User((n.origin().empty() ? std::string("forja.yaml") : n.origin()) + ": " + field + ": " + what);
}

// A name for sbatch (partition, account, qos): printable, no spaces, no leading '-'.
Result<std::string> Name(const Node& v, const std::string& field) {
  if (!v.is_string() || v.as_string().empty())
    return Bad(v, field, "expected a name (a string); write " + field.substr(field.find('.') + 1) + ": NAME");
  const std::string& s = v.as_string();
  bool ok = s[0] != '-';
  for (char c : s) ok = ok && static_cast<unsigned char>(c) > ' ' && c != 0x7f;
  if (!ok) return Bad(v, field, "'" + s + "' is not a Slurm name (no spaces or control characters, no leading '-')");
  return s;
}

}  // namespace

Result<ExecutorConfig> ParseExecutorConfig(const Node* section) {
  ExecutorConfig c;
  if (!section || section->is_null()) return c;
  c.origin = section->origin();
  const char* hint = "write executor: {kind: slurm, partition: NAME}";
  if (section->is_string()) {  // executor: slurm
    c.kind = section->as_string();
  } else if (!section->is_map()) {
    return Bad(*section, "executor", std::string("expected a mapping; ") + hint);
  }
  if (section->is_map()) {
    const Node* kind = section->Find("kind");
    if (!kind) return Bad(*section, "executor.kind", std::string("missing; ") + hint);
    if (!kind->is_string()) return Bad(*kind, "executor.kind", "expected local or slurm");
    c.kind = kind->as_string();
    for (const auto& [key, v] : section->entries()) {
      std::string f = "executor." + key;
      if (key == "kind") continue;
      if (key == "partition") {
        ASSIGN_OR_RETURN(c.partition, Name(v, f));
      } else if (key == "account") {
        ASSIGN_OR_RETURN(c.account, Name(v, f));
      } else if (key == "qos") {
        ASSIGN_OR_RETURN(c.qos, Name(v, f));
      } else if (key == "extra_args") {
        if (!v.is_list()) return Bad(v, f, "expected a list of sbatch options; write extra_args: [--exclusive]");
        for (const Node& a : v.items()) {
          if (!a.is_string() || a.as_string().empty() || a.as_string().find('\n') != std::string::npos)
            return Bad(a, f, "expected an sbatch option (a one-line string); write extra_args: [--exclusive]");
          if (a.as_string()[0] != '-')
            return Bad(a, f, "'" + a.as_string() + "' is not an option (options start with '-'; the script is forja's)");
          c.extra_args.push_back(a.as_string());
        }
      } else {
        return Bad(v, f, "unknown key; executor has kind, partition, account, qos and extra_args");
      }
    }
  }
  if (c.kind != "local" && c.kind != "slurm")
    return Bad(section->is_map() ? *section->Find("kind") : *section, "executor.kind",
               "'" + c.kind + "' is not an executor; write kind: local or kind: slurm");
  return c;
}

namespace {

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(bool quiet) : pool_(Options(quiet)) {}
  const char* name() const override { return "local"; }
  Result<int> Submit(const StageJob& job) override { return pool_.Start(job.spec); }
  size_t running() const override { return pool_.running(); }
  Event Wait(double deadline_s, JobEnd* end, int* signal_number) override {
    ProcessEnd e;
    auto ev = pool_.Wait(deadline_s, &e, signal_number);
    if (ev == ProcessPool::Event::kEnded) *end = Convert(std::move(e));
    return ev == ProcessPool::Event::kEnded ? Event::kEnded
           : ev == ProcessPool::Event::kTimeout ? Event::kTimeout
                                                 : Event::kInterrupted;
  }
  std::vector<JobEnd> CancelAll() override {
    std::vector<JobEnd> out;
    for (ProcessEnd& e : pool_.KillAll()) out.push_back(Convert(std::move(e)));
    return out;
  }

 private:
  static ProcessPool::Options Options(bool quiet) {
    ProcessPool::Options o;
    o.quiet = quiet;
    return o;
  }
  static JobEnd Convert(ProcessEnd e) {
    JobEnd j;
    j.id = e.id;
    j.exit_code = e.exit_code;
    j.timed_out = e.timed_out;
    j.seconds = e.seconds;
    j.tail = std::move(e.tail);
    return j;
  }
  ProcessPool pool_;
};

}  // namespace

std::unique_ptr<Executor> MakeLocalExecutor(bool quiet) { return std::make_unique<LocalExecutor>(quiet); }

}  // namespace forja::pipeline
