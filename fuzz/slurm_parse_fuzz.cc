// fuzz-libs: forja_pipeline
// Fuzzes what the Slurm executor reads from the cluster's commands: sbatch --parsable's
// output, squeue's lines, and job state names (slurm_executor.h).
//
// Input: the whole text is given to each parser.
//
// Invariants, beyond "no crash":
//  - a job id from sbatch is positive, and its digits appear in the text;
//  - every parsed squeue job's id is "N" or "N_M" (digits), and it has a non-empty state without '|' or a newline, and an exit
//    code that is -1 (unknown), 0..255, or -1..-127 (a signal);
//  - MapSlurmState gives one of its fates for any text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "forja/pipeline/slurm_executor.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
namespace p = forja::pipeline;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto id = p::ParseSbatchJobId(text)) {
    FUZZ_CHECK(*id > 0, Show(text));
    FUZZ_CHECK(text.find(std::to_string(*id)) != std::string::npos, Show(text));
  }
  int skipped = 0;
  for (const auto& [id, job] : p::ParseSqueue(text, &skipped)) {
    FUZZ_CHECK(!id.empty() && id.find_first_not_of("0123456789_") == std::string::npos, id + " from " + Show(text));
    FUZZ_CHECK(!job.state.empty() && job.state.find('|') == std::string::npos &&
                   job.state.find('\n') == std::string::npos,
               Show(job.state) + " from " + Show(text));
    FUZZ_CHECK(job.exit_code >= -127 && job.exit_code <= 255, std::to_string(job.exit_code) + " from " + Show(text));
    auto fate = p::MapSlurmState(job.state);
    FUZZ_CHECK(fate >= p::SlurmFate::kInFlight && fate <= p::SlurmFate::kUnknown, Show(job.state));
  }
  FUZZ_CHECK(skipped >= 0, Show(text));
  for (const auto& [id, job] : p::ParseSacct(text, &skipped)) {
    FUZZ_CHECK(!id.empty() && id.find_first_not_of("0123456789_") == std::string::npos, id + " from " + Show(text));
    FUZZ_CHECK(!job.state.empty() && job.state.find('|') == std::string::npos &&
                   job.state.find('\n') == std::string::npos,
               Show(job.state) + " from " + Show(text));
    FUZZ_CHECK(job.exit_code >= -127 && job.exit_code <= 255, std::to_string(job.exit_code) + " from " + Show(text));
  }
  FUZZ_CHECK(skipped >= 0, Show(text));
  (void)p::MapSlurmState(text);
  return 0;
}
