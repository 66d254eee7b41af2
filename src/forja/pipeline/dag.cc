// The pipeline's graph (dag.h). Outs are indexed once, sorted by path, so that
// every question — which out is this path, which out contains it (walk up its
// parent folders), which outs lie inside it (a range from lower_bound) — is a
// binary search: building the graph of n stages is O(n log n).
#include "forja/core/json.h"
#include "forja/core/strings.h"
#include "forja/pipeline/dag.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_set>

namespace forja::pipeline {

namespace {

const char* FieldName(OutKind k) {
  switch (k) {
    case OutKind::kOut: return "outs";
    case OutKind::kMetrics: return "metrics";
    case OutKind::kPlots: return "plots";
  }
  return "outs";
}

bool IsInside(std::string_view path, std::string_view folder) {
  return path.size() > folder.size() && IsUnder(path, folder);
}

// "a/b/c" -> "a/b", "a"; stops early when `f` returns true.
template <typename F>
bool AnyParent(std::string_view path, F f) {
  for (size_t p = path.rfind('/'); p != std::string_view::npos && p > 0; p = path.rfind('/', p - 1)) {
    if (f(path.substr(0, p))) return true;
  }
  return false;
}

// Lookups in the sorted out index.
class OutIndex {
 public:
  OutIndex(const std::vector<Stage>& stages, const std::vector<std::pair<int, int>>& index)
      : stages_(stages), index_(index) {}

  const Out& At(size_t i) const { return stages_[index_[i].first].outs[index_[i].second]; }
  int StageAt(size_t i) const { return index_[i].first; }
  size_t size() const { return index_.size(); }

  // The first entry whose path is not less than `path`.
  size_t LowerBound(std::string_view path) const {
    auto it = std::lower_bound(index_.begin(), index_.end(), path,
                               [&](const std::pair<int, int>& e, std::string_view p) {
                                 return stages_[e.first].outs[e.second].path < p;
                               });
    return static_cast<size_t>(it - index_.begin());
  }
  // The entries whose path is `path`: [*first, *last).
  void Equal(std::string_view path, size_t* first, size_t* last) const {
    *first = *last = LowerBound(path);
    while (*last < size() && At(*last).path == path) ++*last;
  }
  // The first entry inside folder `path` (a contiguous range follows).
  size_t FirstInside(const std::string& path) const { return LowerBound(path + "/"); }

 private:
  const std::vector<Stage>& stages_;
  const std::vector<std::pair<int, int>>& index_;
};

std::string Where(const Stage& s, OutKind k) { return "stages." + s.name + "." + FieldName(k); }

// Two stages may not write the same path, nor one inside the other's. Each
// conflict is reported at the out declared later.
Status CheckOuts(const std::vector<Stage>& stages, const OutIndex& idx) {
  for (size_t s = 0; s < stages.size(); s++) {
    for (size_t o = 0; o < stages[s].outs.size(); o++) {
      const Out& out = stages[s].outs[o];
      auto earlier = [&](size_t i) {
        size_t s2 = idx.StageAt(i);
        if (s2 != s) return s2 < s;
        return &idx.At(i) < &out;  // the same stage: its outs are one vector
      };
      auto other = [&](size_t i) {
        const Stage& st = stages[idx.StageAt(i)];
        return ", an output of stage " + Quote(st.name) + " (" + idx.At(i).origin + ")";
      };
      std::string field = Where(stages[s], out.kind);
      size_t first, last;
      idx.Equal(out.path, &first, &last);
      for (size_t i = first; i < last; i++) {
        if (!earlier(i)) continue;
        if (static_cast<size_t>(idx.StageAt(i)) == s)
          return Status::User(out.origin + ": " + field + ": " + Quote(out.path) + " is listed twice (" +
                              idx.At(i).origin + "); list each output once");
        return Status::User(out.origin + ": " + field + ": " + Quote(out.path) + " is also an output of stage " +
                            Quote(stages[idx.StageAt(i)].name) + " (" + idx.At(i).origin + ")");
      }
      Status st;
      AnyParent(out.path, [&](std::string_view parent) {
        idx.Equal(parent, &first, &last);
        for (size_t i = first; i < last; i++) {
          if (!earlier(i)) continue;
          st = Status::User(out.origin + ": " + field + ": " + Quote(out.path) + " is inside " +
                            Quote(idx.At(i).path) + other(i));
          return true;
        }
        return false;
      });
      RETURN_IF_ERROR(st);
      for (size_t i = idx.FirstInside(out.path); i < idx.size() && IsInside(idx.At(i).path, out.path); i++) {
        if (!earlier(i)) continue;
        return Status::User(out.origin + ": " + field + ": " + Quote(out.path) + " contains " +
                            Quote(idx.At(i).path) + other(i));
      }
    }
  }
  return Status::Ok();
}

// A dep nobody writes must be there: a file or folder, or tracked data not
// checked out yet (its pointer file, or one of a folder that holds it).
bool Available(const std::string& root, const std::string& dep) {
  struct stat st;
  if (::lstat((root + "/" + dep).c_str(), &st) == 0) return true;
  if (::lstat((root + "/" + dep + ".forja").c_str(), &st) == 0) return true;
  return AnyParent(dep, [&](std::string_view parent) {
    return ::lstat((root + "/" + std::string(parent) + ".forja").c_str(), &st) == 0;
  });
}

// The stages whose outs dep `d` reads: an out equal to it or containing it (at
// most one, since outs do not nest), and every out inside it.
void Producers(const OutIndex& idx, const std::string& d, std::vector<std::pair<int, size_t>>* out) {
  out->clear();
  size_t first, last;
  idx.Equal(d, &first, &last);
  for (size_t i = first; i < last; i++) out->emplace_back(idx.StageAt(i), i);
  AnyParent(d, [&](std::string_view parent) {
    idx.Equal(parent, &first, &last);
    for (size_t i = first; i < last; i++) out->emplace_back(idx.StageAt(i), i);
    return first != last;
  });
  for (size_t i = idx.FirstInside(d); i < idx.size() && IsInside(idx.At(i).path, d); i++)
    out->emplace_back(idx.StageAt(i), i);
}

Status Link(Dag* dag, const OutIndex& idx, const std::string& root) {
  size_t n = dag->stages.size();
  dag->upstream.assign(n, {});
  dag->downstream.assign(n, {});
  std::unordered_set<std::string> present;  // deps found on disk, each checked once
  std::vector<std::pair<int, size_t>> producers;
  for (size_t s = 0; s < n; s++) {
    const Stage& stage = dag->stages[s];
    auto& up = dag->upstream[s];
    for (const Dep& d : stage.deps) {
      Producers(idx, d.path, &producers);
      for (auto [p, i] : producers) {
        if (static_cast<size_t>(p) != s) {
          up.push_back(p);
          continue;
        }
        const Out& o = idx.At(i);
        std::string what = " contains " + Quote(o.path) + ", an output";
        if (o.path == d.path) {
          what = " is also an output";
        } else if (IsInside(d.path, o.path)) {
          what = " is inside " + Quote(o.path) + ", an output";
        }
        what += " of this stage (" + o.origin + ")";
        return Status::User(d.origin + ": stages." + stage.name + ".deps: " + Quote(d.path) + what +
                            "; a stage cannot read its own outputs (list the inputs one by one)");
      }
      if (producers.empty() && !present.count(d.path)) {
        if (!Available(root, d.path))
          return Status::User(d.origin + ": stages." + stage.name + ".deps: " + Quote(d.path) +
                              " does not exist and no stage writes it");
        present.insert(d.path);
      }
    }
    std::sort(up.begin(), up.end());
    up.erase(std::unique(up.begin(), up.end()), up.end());
    for (int p : up) dag->downstream[p].push_back(static_cast<int>(s));
  }
  return Status::Ok();
}

// Every stage still waiting in Kahn's algorithm has a waiting upstream stage:
// walking upstream from one must come back to a stage already seen.
std::string DescribeCycle(const Dag& dag, const std::vector<int>& waiting) {
  int start = -1;
  for (size_t i = 0; i < waiting.size() && start < 0; i++)
    if (waiting[i] > 0) start = static_cast<int>(i);
  std::vector<int> path;
  std::vector<int> pos(dag.stages.size(), -1);
  int cur = start;
  while (pos[cur] < 0) {
    pos[cur] = static_cast<int>(path.size());
    path.push_back(cur);
    for (int u : dag.upstream[cur]) {
      if (waiting[u] > 0) {
        cur = u;
        break;
      }
    }
  }
  // path[pos[cur]..] goes against the data flow; reverse it, and start at the
  // stage declared first.
  std::vector<int> cycle(path.begin() + pos[cur], path.end());
  std::reverse(cycle.begin(), cycle.end());
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string msg = "pipeline has a cycle: ";
  for (int c : cycle) msg += dag.stages[c].name + " -> ";
  return msg + dag.stages[cycle[0]].name;
}

// Kahn's algorithm; among ready stages, the one declared first runs first.
Status Order(Dag* dag) {
  size_t n = dag->stages.size();
  std::vector<int> waiting(n);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t i = 0; i < n; i++) {
    waiting[i] = static_cast<int>(dag->upstream[i].size());
    if (waiting[i] == 0) ready.push(static_cast<int>(i));
  }
  dag->order.clear();
  dag->order.reserve(n);
  while (!ready.empty()) {
    int s = ready.top();
    ready.pop();
    dag->order.push_back(s);
    for (int d : dag->downstream[s])
      if (--waiting[d] == 0) ready.push(d);
  }
  if (dag->order.size() < n) return Status::User(DescribeCycle(*dag, waiting));
  return Status::Ok();
}

// Names of the pipeline for an error: foreach/matrix stages by their base name.
std::string ListNames(const Dag& dag) {
  constexpr size_t kMax = 20;
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  size_t more = 0;
  for (const Stage& s : dag.stages) {
    std::string base = s.name.substr(0, s.name.find('@'));
    if (!seen.insert(base).second) continue;
    if (names.size() < kMax) {
      names.push_back(std::move(base));
    } else {
      more++;
    }
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  if (more) out += " and " + std::to_string(more) + " more";
  return out;
}

std::vector<char> Membership(const Dag& dag, const std::vector<int>& sel) {
  std::vector<char> in(dag.stages.size(), 0);
  for (int s : sel) in[s] = 1;
  return in;
}

// Calls f(from, to) for each edge between selected stages, in selection order.
template <typename F>
void ForEachEdge(const Dag& dag, const std::vector<int>& sel, F f) {
  std::vector<char> in = Membership(dag, sel);
  for (int s : sel)
    for (int u : dag.upstream[s])
      if (in[u]) f(u, s);
}

// A name as a Mermaid label: "..." with quotes as #quot;.
std::string MermaidLabel(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("#quot;") : std::string(1, c);
  return out + "\"";
}

// A name as a Graphviz ID: "..." with \ and " escaped.
std::string DotId(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void AppendJsonList(const std::vector<std::string>& items, std::string* out) {
  *out += '[';
  for (size_t i = 0; i < items.size(); i++) {
    if (i) *out += ", ";
    AppendJsonString(out, items[i]);
  }
  *out += ']';
}

}  // namespace

int Dag::Find(const std::string& name) const {
  auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                             [&](int i, const std::string& n) { return stages[i].name < n; });
  if (it == by_name.end() || stages[*it].name != name) return -1;
  return *it;
}

int Dag::Producer(const std::string& path) const {
  OutIndex idx(stages, out_index);
  size_t first, last;
  idx.Equal(path, &first, &last);
  if (first != last) return idx.StageAt(first);
  int found = -1;
  AnyParent(path, [&](std::string_view parent) {
    idx.Equal(parent, &first, &last);
    if (first != last) found = idx.StageAt(first);
    return first != last;
  });
  return found;
}

Result<Dag> BuildDag(std::vector<Stage> stages, const std::string& root) {
  Dag dag;
  dag.stages = std::move(stages);
  size_t n = dag.stages.size();
  dag.by_name.resize(n);
  for (size_t i = 0; i < n; i++) dag.by_name[i] = static_cast<int>(i);
  std::sort(dag.by_name.begin(), dag.by_name.end(),
            [&](int a, int b) { return dag.stages[a].name < dag.stages[b].name; });
  for (size_t i = 1; i < n; i++) {
    const Stage& a = dag.stages[std::min(dag.by_name[i - 1], dag.by_name[i])];
    const Stage& b = dag.stages[std::max(dag.by_name[i - 1], dag.by_name[i])];
    if (a.name == b.name)
      return Status::User(b.origin + ": stages." + b.name + ": declared twice (also at " + a.origin +
                          "); rename one of them");
  }
  for (size_t s = 0; s < n; s++)
    for (size_t o = 0; o < dag.stages[s].outs.size(); o++)
      dag.out_index.emplace_back(static_cast<int>(s), static_cast<int>(o));
  // Stable: equal paths stay in declaration order.
  std::stable_sort(dag.out_index.begin(), dag.out_index.end(),
                   [&](const std::pair<int, int>& a, const std::pair<int, int>& b) {
                     return dag.stages[a.first].outs[a.second].path < dag.stages[b.first].outs[b.second].path;
                   });
  OutIndex idx(dag.stages, dag.out_index);
  RETURN_IF_ERROR(CheckOuts(dag.stages, idx));
  RETURN_IF_ERROR(Link(&dag, idx, root));
  RETURN_IF_ERROR(Order(&dag));
  return dag;
}

Result<std::vector<int>> SelectStages(const Dag& dag, const std::vector<std::string>& targets, bool single) {
  if (targets.empty()) return dag.order;
  std::vector<char> in(dag.stages.size(), 0);
  std::vector<int> todo;
  for (const std::string& t : targets) {
    int i = dag.Find(t);
    if (i >= 0) {
      todo.push_back(i);
      continue;
    }
    // A foreach or matrix base name: every "t@..." (a contiguous range by name).
    std::string prefix = t + "@";
    auto it = std::lower_bound(dag.by_name.begin(), dag.by_name.end(), prefix,
                               [&](int s, const std::string& p) { return dag.stages[s].name < p; });
    size_t before = todo.size();
    for (; it != dag.by_name.end() && dag.stages[*it].name.starts_with(prefix); ++it)
      todo.push_back(*it);
    if (todo.size() == before) {
      if (dag.stages.empty())
        return Status::User("unknown stage " + Quote(t) + ": forja.yaml has no stages; add a stages: section");
      return Status::User("unknown stage " + Quote(t) + " (stages: " + ListNames(dag) +
                          "); forja dag lists the pipeline");
    }
  }
  while (!todo.empty()) {
    int s = todo.back();
    todo.pop_back();
    if (in[s]) continue;
    in[s] = 1;
    if (!single)
      for (int u : dag.upstream[s]) todo.push_back(u);
  }
  std::vector<int> out;
  for (int s : dag.order)
    if (in[s]) out.push_back(s);
  return out;
}

std::string DagText(const Dag& dag, const std::vector<int>& sel) {
  std::vector<char> in = Membership(dag, sel);
  std::string out;
  for (int s : sel) {
    out += dag.stages[s].name;
    const char* sep = " <- ";
    for (int u : dag.upstream[s]) {
      if (!in[u]) continue;
      out += sep;
      out += dag.stages[u].name;
      sep = ", ";
    }
    out += '\n';
  }
  return out;
}

std::string DagMermaid(const Dag& dag, const std::vector<int>& sel) {
  std::string out = "flowchart TD\n";
  for (int s : sel) out += "  s" + std::to_string(s) + "[" + MermaidLabel(dag.stages[s].name) + "]\n";
  ForEachEdge(dag, sel, [&](int a, int b) { out += "  s" + std::to_string(a) + " --> s" + std::to_string(b) + "\n"; });
  return out;
}

std::string DagDot(const Dag& dag, const std::vector<int>& sel) {
  auto id = [&](int s) { return DotId(dag.stages[s].name); };
  std::string out = "digraph pipeline {\n";
  for (int s : sel) out += "  " + id(s) + ";\n";
  ForEachEdge(dag, sel, [&](int a, int b) { out += "  " + id(a) + " -> " + id(b) + ";\n"; });
  return out + "}\n";
}

std::string DagJson(const Dag& dag, const std::vector<int>& sel) {
  std::vector<char> in = Membership(dag, sel);
  std::string out = "{\n  \"stages\": [";
  for (size_t k = 0; k < sel.size(); k++) {
    const Stage& s = dag.stages[sel[k]];
    std::vector<std::string> deps, outs, up;
    for (const Dep& d : s.deps) deps.push_back(d.path);
    for (const Out& o : s.outs) outs.push_back(o.path);
    for (int u : dag.upstream[sel[k]])
      if (in[u]) up.push_back(dag.stages[u].name);
    out += k ? ",\n    {\"name\": " : "\n    {\"name\": ";
    AppendJsonString(&out, s.name);
    out += ", \"cmd\": ";
    AppendJsonList(s.cmd, &out);
    out += ", \"deps\": ";
    AppendJsonList(deps, &out);
    out += ", \"outs\": ";
    AppendJsonList(outs, &out);
    out += ", \"upstream\": ";
    AppendJsonList(up, &out);
    out += "}";
  }
  out += sel.empty() ? "],\n  \"edges\": [" : "\n  ],\n  \"edges\": [";
  bool any = false;
  ForEachEdge(dag, sel, [&](int a, int b) {
    out += any ? ",\n    " : "\n    ";
    AppendJsonList({dag.stages[a].name, dag.stages[b].name}, &out);
    any = true;
  });
  out += any ? "\n  ]\n}\n" : "]\n}\n";
  return out;
}

}  // namespace forja::pipeline
