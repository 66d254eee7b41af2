// RunPredict, the entry point of forja predict: it checks the options, reads the column names
// (the CSV header or the first JSONL object's keys) and maps them to the model's inputs, finds
// this shard's rows, resumes from a checkpoint or starts the output afresh, runs the scoring
// pipeline, and publishes OUTPUT. The parts live beside it: csv.h and jsonl.h read rows,
// lines.h reads the file by lines, scorer.h scores a chunk, scoring_pipeline.h runs the
// threads, checkpoint.h keeps the resume record.
#include "forja/batch/predict.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "forja/batch/checkpoint.h"
#include "forja/batch/csv.h"
#include "forja/batch/jsonl.h"
#include "forja/batch/lines.h"
#include "forja/batch/scorer.h"
#include "forja/batch/scoring_pipeline.h"
#include "forja/core/fs.h"
#include "forja/core/progress.h"
#include "forja/runtime/model.h"

namespace forja::batch {

namespace {

std::string FormatOf(const std::string& given, const std::string& path) {
  if (!given.empty()) return given;
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  return ends(".jsonl") || ends(".ndjson") || ends(".json") ? "jsonl" : "csv";
}

// The column names from the first line `head`: CSV's header, or the first JSON object's keys.
Status ColumnNames(const std::string& input, const std::string& head, bool csv_in, std::vector<std::string>* names) {
  if (csv_in) {
    std::vector<std::string_view> raw;
    Status s = SplitCsv(head, &raw, names);
    if (!s.ok()) return Status::User(input + ":1: header: " + s.message());
    return Status::Ok();
  }
  JsonDoc doc;
  Status s = ParseJsonlObject(head, &doc);
  if (!s.ok()) return Status::User(input + ":1: " + s.message());
  *names = JsonlKeys(doc, doc.root());
  return Status::Ok();
}

}  // namespace

Result<PredictReport> RunPredict(const PredictOptions& o, runtime::Model& model) {
  const std::string in_fmt = FormatOf(o.input_format, o.input);
  const std::string out_fmt = FormatOf(o.output_format, o.output);
  if (in_fmt != "csv" && in_fmt != "jsonl") return Status::User("--input-format: use csv or jsonl");
  if (out_fmt != "csv" && out_fmt != "jsonl") return Status::User("--output-format: use csv or jsonl");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards) return Status::User("--shard: use i/n with 0 <= i < n");
  const bool csv_in = in_fmt == "csv", csv_out = out_fmt == "csv";

  Fd in;
  {
    int fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::User(o.input + ": " + std::strerror(errno));
    in = Fd(fd);
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::User(o.input + ": not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  std::string first;
  RETURN_IF_ERROR(PreadAll(in.get(), 0, std::min<uint64_t>(size, kChunkBytes), &first));
  size_t nl = first.find('\n');
  if (nl == std::string::npos && first.size() == kChunkBytes) return Status::User(o.input + ":1: a first line over 1 MiB");
  std::string head = first.substr(0, nl == std::string::npos ? first.size() : nl);
  if (head.empty()) return Status::User(o.input + ":1: empty; " + (csv_in ? "a header row is needed" : "no rows"));
  std::vector<std::string> names;
  RETURN_IF_ERROR(ColumnNames(o.input, head, csv_in, &names));
  Plan plan;
  RETURN_IF_ERROR(MakePlan(names, o, model, o.input + ":1", &plan));

  // This shard's rows start in [lo, hi).
  const uint64_t data_start = csv_in ? (nl == std::string::npos ? size : nl + 1) : 0;
  const uint64_t span = size - data_start;
  uint64_t lo = data_start + span * static_cast<uint64_t>(o.shard) / static_cast<uint64_t>(o.shards);
  uint64_t hi = data_start + span * static_cast<uint64_t>(o.shard + 1) / static_cast<uint64_t>(o.shards);
  if (lo > data_start) {
    ASSIGN_OR_RETURN(lo, NextLineStart(in.get(), lo - 1, size));
  }
  if (hi < size && hi > data_start) {
    ASSIGN_OR_RETURN(hi, NextLineStart(in.get(), hi - 1, size));
  }
  if (hi < lo) hi = lo;

  // Resume or start over.
  const std::string partial = o.output + ".partial", record = o.output + ".progress";
  const std::string fingerprint = Fingerprint(o, st, in_fmt, out_fmt);
  PredictReport report;
  Checkpoint cp;
  cp.fingerprint = fingerprint;
  cp.offset = lo;
  if (std::optional<Checkpoint> prev = LoadCheckpoint(record, partial, fingerprint, lo, hi)) {
    cp = *prev;
    report.resumed_rows = cp.rows;
    report.resumed_line = cp.line;
  }
  if (report.resumed_line == 0) {
    ASSIGN_OR_RETURN(uint64_t lines_before, CountLines(in.get(), lo));
    cp.line = lines_before + 1;
  }
  Fd out;
  {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (report.resumed_line ? 0 : O_TRUNC);
    int fd = ::open(partial.c_str(), flags, 0644);
    if (fd < 0) return Status::FromErrno("opening " + partial, errno);
    out = Fd(fd);
  }
  if (report.resumed_line) {
    if (::ftruncate(out.get(), static_cast<off_t>(cp.output_bytes)) != 0) return Status::FromErrno("truncating " + partial, errno);
    if (::lseek(out.get(), static_cast<off_t>(cp.output_bytes), SEEK_SET) < 0) return Status::FromErrno("seeking " + partial, errno);
  } else if (csv_out) {
    std::string h = CsvHeader(plan, model);
    RETURN_IF_ERROR(WriteAll(out.get(), h));
    cp.output_bytes = h.size();
  }

  Progress progress("Scoring " + Basename(o.input), 0, o.progress ? hi - lo : 0);
  if (report.resumed_line) progress.Add(cp.rows, cp.offset - lo);
  ScoringRun run{o, plan, model, csv_in, csv_out, in.get(), hi, out.get(), partial, record, progress};
  Status status = RunScoringPipeline(run, &cp, &report.errors);
  if (!status.ok()) {
    if (status.code() == Code::kUser) {  // a bad row or input: nothing to resume
      out.Reset();
      (void)RemoveFile(partial);
      (void)RemoveFile(record);
    }
    return status;
  }
  if (::fsync(out.get()) != 0) return Status::FromErrno("syncing " + partial, errno);
  out.Reset();
  if (::rename(partial.c_str(), o.output.c_str()) != 0) return Status::FromErrno("renaming " + partial, errno);
  (void)RemoveFile(record);
  RETURN_IF_ERROR(FsyncDir(Dirname(o.output)));
  report.rows = cp.rows;
  report.skipped = cp.skipped;
  return report;
}

}  // namespace forja::batch
