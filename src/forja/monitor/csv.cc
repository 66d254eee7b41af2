#include "forja/monitor/csv.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "forja/core/fs.h"
#include "forja/core/parallel.h"
#include "forja/core/utf8.h"

namespace forja::monitor {

Result<bool> CsvReader::Next(std::vector<std::string>* cells) {
  cells->clear();
  if (pos_ >= text_.size()) return false;
  ++line_;
  size_t start_line = line_;
  std::string cell;
  bool quoted = false, was_quoted = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_++];
    if (quoted) {
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          cell.push_back('"');
          ++pos_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (!cell.empty() || was_quoted) {
        return Status::User("line " + std::to_string(line_) + ": a quote inside an unquoted cell");
      }
      quoted = was_quoted = true;
    } else if (c == ',') {
      cells->push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      break;
    } else if (was_quoted) {
      return Status::User("line " + std::to_string(line_) + ": text after a closing quote");
    } else {
      cell.push_back(c);
    }
  }
  if (quoted) return Status::User("line " + std::to_string(start_line) + ": a quoted cell is never closed");
  cells->push_back(std::move(cell));
  return true;
}

namespace {

Status LineError(uint64_t line, const std::string& what) {
  return Status::User("line " + std::to_string(line) + ": " + what);
}

// The characters that end an unquoted cell (or make it an error).
constexpr std::array<bool, 256> kEndsUnquoted = [] {
  std::array<bool, 256> t{};
  t[','] = t['\n'] = t['\r'] = t['"'] = true;
  return t;
}();

// The first character at or after p that ends an unquoted cell, or end: eight bytes at a time
// (a byte equal to c is a zero byte of w ^ c..c; the lowest flagged byte is exact, the
// first in memory on a little-endian machine).
inline const char* SkipUnquoted(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  while (std::endian::native == std::endian::little && end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t hit = zero_bytes(w ^ (kOnes * ',')) | zero_bytes(w ^ (kOnes * '\n')) |
                   zero_bytes(w ^ (kOnes * '\r')) | zero_bytes(w ^ (kOnes * '"'));
    if (hit) return p + std::countr_zero(hit) / 8;
    p += 8;
  }
  while (p < end && !kEndsUnquoted[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// One row's cells, parsed from a block of text as CsvReader::Next parses them (the same
// rules and messages), as views into the text or, for quoted cells with "" in them, into
// scratch strings of their own. Nothing is allocated once the buffers have grown.
class RowParser {
 public:
  // The row at text[*pos] (which must be before the end), *pos moved past its line end; *line
  // counts lines as CsvReader does (one at the row's start, one per line end inside quotes).
  Status Next(std::string_view text, size_t* pos, uint64_t* line) {
    cells_.clear();
    ++*line;
    const uint64_t start_line = *line;
    const char* p = text.data() + *pos;
    const char* end = text.data() + text.size();
    while (true) {
      if (p < end && *p == '"') {
        std::string& scratch = Scratch();
        const char* begin = ++p;
        bool copied = false;
        while (true) {
          const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
          for (const char* c = p; c < (q ? q : end); ++c) *line += *c == '\n';
          if (!q) return LineError(start_line, "a quoted cell is never closed");
          if (q + 1 < end && q[1] == '"') {  // "" is one quote
            if (!copied) scratch.assign(begin, q), copied = true;
            else scratch.append(p, q);
            scratch.push_back('"');
            p = q + 2;
            continue;
          }
          if (copied) scratch.append(p, q);
          cells_.push_back(copied ? std::string_view(scratch) : std::string_view(begin, static_cast<size_t>(q - begin)));
          if (copied) ++scratch_used_;
          p = q + 1;
          break;
        }
        if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
          if (*p == '"') return LineError(*line, "a quote inside an unquoted cell");
          return LineError(*line, "text after a closing quote");
        }
      } else {
        const char* begin = p;
        p = SkipUnquoted(p, end);
        if (p < end && *p == '"') return LineError(*line, "a quote inside an unquoted cell");
        cells_.emplace_back(begin, static_cast<size_t>(p - begin));
      }
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      if (p < end) {  // a line end
        if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
        ++p;
      }
      break;
    }
    *pos = static_cast<size_t>(p - text.data());
    scratch_used_ = 0;
    return Status::Ok();
  }
  const std::vector<std::string_view>& cells() const { return cells_; }
  // A line with nothing on it, which pandas skips.
  bool blank() const { return cells_.size() == 1 && cells_[0].empty(); }

 private:
  std::string& Scratch() {
    if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
    return scratch_[scratch_used_];
  }
  std::vector<std::string_view> cells_;
  std::deque<std::string> scratch_;  // a deque: growing it leaves the earlier strings in place
  size_t scratch_used_ = 0;
};

// The columns a block's cells go to: builders[i] for the file's column i, nullptr to skip it.
struct BlockSink {
  std::vector<SampleBuilder*> builders;
  uint64_t rows = 0;
};

// Every row of `text` (which starts at a row) into the sink; *line as RowParser counts it.
Status ParseBlock(std::string_view text, RowParser* parser, BlockSink* sink, uint64_t* line) {
  const size_t width = sink->builders.size();
  size_t pos = 0;
  while (pos < text.size()) {
    RETURN_IF_ERROR(parser->Next(text, &pos, line));
    const std::vector<std::string_view>& cells = parser->cells();
    if (parser->blank()) continue;
    if (cells.size() != width) {
      return LineError(*line, std::to_string(cells.size()) + " cells, the header has " + std::to_string(width));
    }
    for (size_t i = 0; i < width; ++i)
      if (sink->builders[i]) sink->builders[i]->Add(cells[i]);
    ++sink->rows;
  }
  return Status::Ok();
}

// Where a block may be cut: just after its last line end outside quotes, so that it holds
// whole rows; 0 when it has none. Quotes toggle "inside" (a "" inside a quoted cell toggles it
// twice), which is exact for every file a one-pass read accepts; a file it refuses is refused
// by the block that holds the fault. A CR as the last byte is no cut: an LF may follow.
size_t LastRowEnd(const char* text, size_t n) {
  auto cut_after = [&](size_t i) { return text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] != '\n'); };
  if (!std::memchr(text, '"', n)) {
    for (size_t i = n; i-- > 0;)
      if (cut_after(i)) return i + 1;
    return 0;
  }
  size_t cut = 0;
  bool inside = false;
  for (size_t i = 0; i < n; ++i) {
    if (text[i] == '"') inside = !inside;
    else if (!inside && cut_after(i)) cut = i + 1;
  }
  return cut;
}

struct Block {
  std::unique_ptr<char[]> data;
  size_t size = 0, capacity = 0;
  std::string_view text() const { return {data.get(), size}; }
};

// Reads a file in blocks of whole rows; the last block holds whatever follows the last cut.
class BlockReader {
 public:
  BlockReader(int fd, size_t block_bytes) : fd_(fd), block_bytes_(std::max<size_t>(block_bytes, 64)) {}
  // The next block, or an empty one at the end.
  Result<Block> Next() {
    size_t capacity = std::max(block_bytes_, carry_.size() + block_bytes_ / 2);
    while (true) {
      Block b = Allocate(capacity);
      std::memcpy(b.data.get(), carry_.data(), carry_.size());
      b.size = carry_.size();
      carry_.clear();
      while (!eof_ && b.size < capacity) {
        ssize_t got = ::read(fd_, b.data.get() + b.size, capacity - b.size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return Status::FromErrno("reading", errno);
        if (got == 0) eof_ = true;
        b.size += static_cast<size_t>(got);
      }
      if (eof_) return b;  // everything left (empty at the end)
      size_t cut = LastRowEnd(b.data.get(), b.size);
      if (cut == 0) {  // one row longer than the block: read on with a larger one
        if (capacity >= kMaxRowBytes) {
          return Status::User("a row of more than " + std::to_string(kMaxRowBytes >> 20) + " MiB after byte " +
                              std::to_string(offset_) + " (a quoted cell never closed?)");
        }
        carry_.assign(b.data.get(), b.size);
        capacity *= 2;
        continue;
      }
      offset_ += cut;
      carry_.assign(b.data.get() + cut, b.size - cut);
      b.size = cut;
      return b;
    }
  }

  // A parsed block's buffer, for a later block (no new pages to fault in). Any thread.
  void Recycle(Block b) {
    std::lock_guard<std::mutex> lock(mu_);
    if (b.capacity == block_bytes_ && free_.size() < 8) free_.push_back(std::move(b.data));
  }

 private:
  Block Allocate(size_t capacity) {
    Block b;
    b.capacity = capacity;
    std::lock_guard<std::mutex> lock(mu_);
    if (capacity == block_bytes_ && !free_.empty()) {
      b.data = std::move(free_.back());
      free_.pop_back();
    } else {
      b.data.reset(new char[capacity]);
    }
    return b;
  }

  // A longer row is refused rather than held (an unclosed quote would make the rest of the
  // file one row).
  static constexpr size_t kMaxRowBytes = size_t{1} << 30;
  int fd_;
  size_t block_bytes_;
  uint64_t offset_ = 0;  // of the first byte not yet handed out in a block
  std::string carry_;
  bool eof_ = false;
  std::mutex mu_;
  std::vector<std::unique_ptr<char[]>> free_;
};

// The header row: names checked as ReadCsvColumns always did.
Result<std::vector<std::string>> ParseHeader(std::string_view text, size_t* pos, uint64_t* line) {
  RowParser parser;
  if (text.empty()) return Status::User("no header row");
  RETURN_IF_ERROR(parser.Next(text, pos, line));
  if (parser.blank()) return Status::User("no header row");
  std::vector<std::string> names(parser.cells().begin(), parser.cells().end());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return Status::User("line 1: column " + std::to_string(i + 1) + " has no name");
    if (!IsValidUtf8(names[i])) {
      return Status::User("line 1: the name of column " + std::to_string(i + 1) + " is not UTF-8");
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) return Status::User("line 1: column '" + names[i] + "' appears twice");
    }
  }
  return names;
}

// A bounded queue of blocks from the reading thread to the parsing ones.
class BlockQueue {
 public:
  explicit BlockQueue(size_t capacity) : capacity_(capacity) {}
  // False when the queue was closed (a parser failed): stop reading.
  bool Push(Block b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_ || closed_; });
    if (closed_) return false;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  // False at the end.
  bool Pop(Block* b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_ || closed_; });
    if (q_.empty() || closed_) return false;
    *b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Finish() {  // no more blocks
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    not_empty_.notify_all();
  }
  void Close() {  // a failure: everyone stops
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    q_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Block> q_;
  bool done_ = false, closed_ = false;
};

// A file's columns being read: names, which are read, and as what.
struct Plan {
  std::vector<std::string> names;
  std::vector<int> read;  // per file column: 1 to read it, 0 to skip it
  std::vector<std::optional<ColumnKind>> kinds;

  uint64_t expected_rows = 0;  // of the whole file, estimated from its first block

  // Builders for one of `readers` threads that share the file's rows.
  std::vector<SampleBuilder> NewBuilders(int readers = 1) const {
    std::vector<SampleBuilder> b;
    b.reserve(names.size());
    for (const auto& k : kinds) {
      b.push_back(k ? SampleBuilder(*k) : SampleBuilder());
      b.back().set_expected_rows(expected_rows / static_cast<uint64_t>(readers) * 11 / 10);
    }
    return b;
  }
  BlockSink SinkFor(std::vector<SampleBuilder>* builders) const {
    BlockSink sink;
    for (size_t i = 0; i < names.size(); ++i) sink.builders.push_back(read[i] ? &(*builders)[i] : nullptr);
    return sink;
  }
};

Result<Plan> MakePlan(std::vector<std::string> names, const CsvReadOptions& options) {
  Plan plan;
  plan.names = std::move(names);
  for (const std::string& n : plan.names) {
    bool wanted = options.only.empty() || std::find(options.only.begin(), options.only.end(), n) != options.only.end();
    plan.read.push_back(wanted ? 1 : 0);
    auto k = options.kinds.find(n);
    plan.kinds.push_back(k == options.kinds.end() ? std::nullopt : std::optional<ColumnKind>(k->second));
  }
  return plan;
}

// The rest of the file after the header, in one pass on this thread: exact row and line
// numbers in every message.
Status ReadSerial(BlockReader* reader, Block first, size_t first_pos, uint64_t line, const Plan& plan,
                  std::vector<SampleBuilder>* builders, const CsvReadOptions& options) {
  RowParser parser;
  BlockSink sink = plan.SinkFor(builders);
  Block b = std::move(first);
  size_t pos = first_pos;
  while (b.size > 0) {
    RETURN_IF_ERROR(ParseBlock(b.text().substr(pos), &parser, &sink, &line));
    if (options.on_bytes) options.on_bytes(b.size - pos);
    reader->Recycle(std::move(b));
    ASSIGN_OR_RETURN(b, reader->Next());
    pos = 0;
  }
  return Status::Ok();
}

// The same on `jobs` threads, each into builders of its own, merged into *builders. False
// when the one-pass read must decide (a failure, or counts that depend on the order).
Result<bool> ReadParallel(BlockReader* reader, Block first, size_t first_pos, const Plan& plan, int jobs,
                          std::vector<SampleBuilder>* builders, const CsvReadOptions& options) {
  BlockQueue queue(2 * static_cast<size_t>(jobs));
  std::vector<std::vector<SampleBuilder>> local(static_cast<size_t>(jobs));
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) {
    local[t] = plan.NewBuilders(jobs);
    threads.emplace_back([&, t] {
      RowParser parser;
      BlockSink sink = plan.SinkFor(&local[t]);
      Block b;
      uint64_t line = 0;  // not the file's: a failure is read again in one pass
      while (queue.Pop(&b)) {
        if (!ParseBlock(b.text(), &parser, &sink, &line).ok()) {
          failed = true;
          queue.Close();
          return;
        }
        if (options.on_bytes) options.on_bytes(b.size);
        reader->Recycle(std::move(b));
      }
    });
  }
  Status read_status;
  if (first_pos < first.size) {
    std::memmove(first.data.get(), first.data.get() + first_pos, first.size - first_pos);
    first.size -= first_pos;
    queue.Push(std::move(first));
  }
  while (true) {
    Result<Block> b = reader->Next();
    if (!b.ok()) {
      read_status = b.status();
      queue.Close();
      break;
    }
    if (b->size == 0 || !queue.Push(std::move(*b))) break;
  }
  queue.Finish();
  for (std::thread& t : threads) t.join();
  RETURN_IF_ERROR(read_status);
  if (failed) return false;
  std::atomic<bool> order_dependent{false};
  RETURN_IF_ERROR(ParallelFor(plan.names.size(), jobs, [&](size_t i) {
    if (!plan.read[i]) return Status::Ok();
    SampleBuilder merged = std::move(local[0][i]);
    for (size_t t = 1; t < local.size(); ++t) merged.Merge(std::move(local[t][i]));
    if (merged.order_dependent()) order_dependent = true;
    (*builders)[i] = std::move(merged);
    return Status::Ok();
  }));
  return !order_dependent;
}

// The file's rows, guessed from the line ends in its first block (after the header) and its
// size; 0 when there is nothing to go by.
uint64_t ExpectedRows(int fd, std::string_view sample) {
  struct stat st;
  if (sample.empty() || ::fstat(fd, &st) != 0 || st.st_size <= 0) return 0;
  uint64_t lines = static_cast<uint64_t>(std::count(sample.begin(), sample.end(), '\n'));
  double per_byte = static_cast<double>(std::max<uint64_t>(lines, 1)) / static_cast<double>(sample.size());
  return static_cast<uint64_t>(per_byte * static_cast<double>(st.st_size));
}

// Reads the file into one builder a column (plan.read's); *plan gets the header.
Status ReadColumns(const std::string& path, const CsvReadOptions& options, int jobs, Plan* plan,
                   std::vector<SampleBuilder>* builders) {
  ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
  BlockReader reader(fd.get(), options.block_bytes);
  ASSIGN_OR_RETURN(Block first, reader.Next());
  size_t pos = 0;
  uint64_t line = 0;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ParseHeader(first.text(), &pos, &line));
  ASSIGN_OR_RETURN(*plan, MakePlan(std::move(names), options));
  plan->expected_rows = ExpectedRows(fd.get(), first.text().substr(pos));
  for (const std::string& n : options.only) {
    if (std::find(plan->names.begin(), plan->names.end(), n) == plan->names.end())
      return Status::User("no column '" + n + "'");
  }
  *builders = plan->NewBuilders();
  if (jobs > 1) {
    ASSIGN_OR_RETURN(bool done, ReadParallel(&reader, std::move(first), pos, *plan, jobs, builders, options));
    if (done) return Status::Ok();
    // Again, in one pass: its message says where, or its counts follow the file's order.
    return ReadColumns(path, options, 1, plan, builders);
  }
  return ReadSerial(&reader, std::move(first), pos, line, *plan, builders, options);
}

}  // namespace

Result<CsvColumns> ReadCsvColumns(std::string_view text) {
  CsvColumns out;
  size_t pos = 0;
  uint64_t line = 0;
  ASSIGN_OR_RETURN(out.names, ParseHeader(text, &pos, &line));
  out.columns.resize(out.names.size());
  BlockSink sink;
  for (SampleBuilder& b : out.columns) sink.builders.push_back(&b);
  RowParser parser;
  RETURN_IF_ERROR(ParseBlock(text.substr(pos), &parser, &sink, &line));
  out.rows = sink.rows;
  return out;
}

Result<CsvColumns> ReadCsvFile(const std::string& path) {
  CsvReadOptions options;
  Plan plan;
  CsvColumns out;
  Status st = ReadColumns(path, options, 1, &plan, &out.columns);
  if (!st.ok()) return st.Wrap(path);
  out.names = std::move(plan.names);
  out.rows = out.columns.empty() ? 0 : out.columns.front().rows();
  return out;
}

Result<std::vector<ColumnSample>> ReadCsv(const std::string& path, const CsvReadOptions& options) {
  const int jobs = options.jobs > 0 ? options.jobs : DefaultJobs();
  Plan plan;
  std::vector<SampleBuilder> builders;
  for (int pass = 0;; ++pass) {
    Status st = ReadColumns(path, options, pass == 0 ? jobs : 1, &plan, &builders);
    if (!st.ok()) return st.Wrap(path);
    std::vector<size_t> columns;
    for (size_t i = 0; i < plan.names.size(); ++i)
      if (plan.read[i]) columns.push_back(i);
    std::vector<ColumnSample> samples(columns.size());
    // Sorting each column's values is most of the work left: every core.
    st = ParallelFor(columns.size(), jobs, [&](size_t k) -> Status {
      size_t i = columns[k];
      Result<ColumnSample> s = plan.kinds[i] ? std::move(builders[i]).Finish(plan.names[i], *plan.kinds[i])
                                             : std::move(builders[i]).Finish(plan.names[i]);
      if (!s.ok()) return s.status();
      samples[k] = std::move(*s);
      return Status::Ok();
    });
    if (st.ok()) return samples;
    // A column refused after a parallel read names the row of a one-pass read.
    if (pass > 0 || jobs == 1) return st.Wrap(path);
  }
}

Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path) { return ReadCsv(path, {}); }

Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path, const std::vector<ColumnSpec>& columns) {
  CsvReadOptions options;
  for (const ColumnSpec& c : columns) {
    options.kinds[c.name] = c.kind;
    options.only.push_back(c.name);
  }
  if (options.only.empty()) return std::vector<ColumnSample>();
  ASSIGN_OR_RETURN(std::vector<ColumnSample> read, ReadCsv(path, options));
  std::vector<ColumnSample> samples;
  for (const ColumnSpec& c : columns) {
    auto it = std::find_if(read.begin(), read.end(), [&](const ColumnSample& s) { return s.name == c.name; });
    samples.push_back(std::move(*it));
  }
  return samples;
}

Result<bool> IsBlankFile(const std::string& path) {
  ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
  char buf[1 << 16];
  while (true) {
    ssize_t got = ::read(fd.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::FromErrno("reading " + path, errno);
    if (got == 0) return true;
    for (ssize_t i = 0; i < got; ++i)
      if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') return false;
  }
}

}  // namespace forja::monitor
