#include "forja/config/hydra_runtime.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>

#include "forja/config/defaults_list.h"
#include "forja/config/override.h"
#include "forja/core/log.h"
#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/path.h"
#include "forja/core/strings.h"

namespace forja::config {

namespace {

// The keys a `hydra.KEY=VALUE` override may set: those forja acts on.
constexpr const char* kSupportedKeys[] = {
    "run.dir",      "sweep.dir",   "sweep.subdir", "job.chdir",     "job.name",
    "job.num",      "job.id",      "mode",         "output_subdir", "verbose",
    "job.config.override_dirname.kv_sep", "job.config.override_dirname.item_sep",
    "job.config.override_dirname.exclude_keys",
};

// Hydra's own groups and their default options, in the order Hydra lists
// them in hydra.runtime.choices (after the app's groups).
constexpr std::pair<const char*, const char*> kHydraGroups[] = {
    {"env", "default"},         {"callbacks", nullptr},    {"job_logging", "default"},
    {"hydra_logging", "default"}, {"hydra_help", "default"}, {"help", "default"},
    {"sweeper", "basic"},       {"launcher", "basic"},     {"output", "default"},
};

// Keys of a config's `hydra:` section that configure machinery forja does not have.
constexpr const char* kIgnoredSections[] = {"launcher", "sweeper", "job_logging", "hydra_logging",
                                            "callbacks", "searchpath", "help", "hydra_help", "env"};

// The parts of the hydra node forja resolves (and reads).
constexpr const char* kResolvedSections[] = {"run", "sweep", "job", "runtime", "mode", "output_subdir", "verbose"};

const char* const kDefaultsYaml =
    "run:\n"
    "  dir: outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}\n"
    "sweep:\n"
    "  dir: multirun/${now:%Y-%m-%d}/${now:%H-%M-%S}\n"
    "  subdir: ${hydra.job.num}\n"
    "mode: null\n"
    "output_subdir: .hydra\n"
    "overrides:\n"
    "  hydra: []\n"
    "  task: []\n"
    "job:\n"
    "  name: ???\n"
    "  chdir: null\n"
    "  override_dirname: ???\n"
    "  id: ???\n"
    "  num: ???\n"
    "  config_name: ???\n"
    "  env_set: {}\n"
    "  env_copy: []\n"
    "  config:\n"
    "    override_dirname:\n"
    "      kv_sep: '='\n"
    "      item_sep: ','\n"
    "      exclude_keys: []\n"
    "runtime:\n"
    "  version_base: '1.3'\n"
    "  cwd: ???\n"
    "  output_dir: ???\n"
    "  choices: {}\n"
    "verbose: false\n";

// OmegaConf.merge for untyped configs, without the checks Compose makes
// (the hydra section has no struct flag in forja).
void MergeInto(Node& d, const Node& s) {
  if (d.is_map() && s.is_map()) {
    for (const auto& [k, v] : s.entries()) {
      if (Node* x = d.Find(k)) MergeInto(*x, v);
      else d.Set(k, v);
    }
    return;
  }
  if (s.is_missing()) return;
  d = s;
}

// Sets a dotted key, making the maps on the way.
void SetPath(Node& root, const std::string& key, Node value) {
  Node* at = &root;
  size_t start = 0;
  for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
    std::string part = key.substr(start, dot - start);
    Node* next = at->Find(part);
    if (!next || !next->is_map()) next = &at->Set(part, Node::Map());
    at = next;
  }
  at->Set(key.substr(start), std::move(value));
}

std::string StringAt(const Node& n, const char* key, const std::string& fallback) {
  const Node* v = n.Select(key);
  return v && v->is_string() ? v->as_string() : fallback;
}

// Resolves every interpolated string under `n` (at `path` of root): a value
// that needs a ??? becomes ???, as OmegaConf.resolve() leaves it.
Status ResolveStrings(Node& n, const std::string& path, const Node& root, const ResolveOptions& ro,
                      std::vector<std::pair<Node*, Node>>* out) {
  if (n.is_map()) {
    for (auto& [k, v] : n.entries()) {
      // Only what forja reads is resolved: the override texts stay as typed (as Hydra records
      // them), and the sections of Hydra's machinery (launcher, sweeper, logging, ...), which
      // may name what only those plugins provide, stay as written.
      const std::string& key = k;  // (clang before 16 cannot capture a structured binding)
      if (path == "hydra" && !std::any_of(std::begin(kResolvedSections), std::end(kResolvedSections),
                                          [&](const char* r) { return key == r; }))
        continue;
      RETURN_IF_ERROR(ResolveStrings(v, path + "." + k, root, ro, out));
    }
  } else if (n.is_list()) {
    for (size_t i = 0; i < n.items().size(); i++)
      RETURN_IF_ERROR(ResolveStrings(n.items()[i], path + "." + std::to_string(i), root, ro, out));
  } else if (n.has_interpolation()) {
    auto v = ResolveValue(root, path, ro);
    if (!v.ok()) {
      if (v.status().message().find("???") != std::string::npos) {
        out->emplace_back(&n, Node::String("???"));
        return Status::Ok();
      }
      return Status::User((n.origin().empty() ? path : n.origin()) + ": " + v.status().message());
    }
    out->emplace_back(&n, std::move(*v));
  }
  return Status::Ok();
}

}  // namespace

bool IsSupportedHydraKey(const std::string& key) {
  if (!key.starts_with("hydra.")) return false;
  std::string rest = key.substr(6);
  return std::any_of(std::begin(kSupportedKeys), std::end(kSupportedKeys),
                     [&](const char* k) { return rest == k; });
}

Status CheckHydraOverride(const Override& o) {
  if (o.key.starts_with("hydra/")) return Status::Ok();  // a Hydra group: ignored with a notice
  if (IsSupportedHydraKey(o.key) && !o.is_delete() && !o.is_sweep()) return Status::Ok();
  std::string known;
  for (const char* k : kSupportedKeys) known += std::string(known.empty() ? "" : ", ") + "hydra." + k;
  return Status::User("override '" + o.input + "': forja does not implement " +
                      (o.is_sweep() ? std::string("sweeping over Hydra settings") : "'" + o.key + "'") +
                      "; the hydra settings it honours are " + known);
}

std::string OverrideDirname(const std::vector<std::string>& texts, const std::vector<std::string>& keys,
                            const std::vector<std::string>& exclude_keys, const std::string& item_sep,
                            const std::string& kv_sep) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < texts.size(); i++) {
    if (i < keys.size() && std::find(exclude_keys.begin(), exclude_keys.end(), keys[i]) != exclude_keys.end())
      continue;
    lines.push_back(texts[i]);
  }
  std::sort(lines.begin(), lines.end());  // Python sorts str by code point, as std::string by byte (UTF-8)
  std::string joined = Join(lines, item_sep), out;
  for (char ch : joined) {
    if (ch == '=') out += kv_sep;
    else out += ch;
  }
  return out;
}

Result<Node> BuildHydraNode(const HydraInputs& in, const HydraRunInfo& run) {
  static const Result<Node> defaults = ParseYaml(kDefaultsYaml, "hydra defaults");  // parsed once
  if (!defaults.ok()) return defaults.status();
  Node h = *defaults;
  if (in.user_hydra && in.user_hydra->is_map()) MergeInto(h, *in.user_hydra);
  for (const char* k : {"run", "sweep", "job", "runtime"}) {
    const Node* n = h.Find(k);
    if (!n->is_map())
      return Status::User((n->origin().empty() ? std::string("hydra.") + k : n->origin()) + ": hydra." + k +
                          " must be a mapping, as in Hydra's config (e.g. hydra: {run: {dir: outputs/x}})");
  }
  Node hydra_texts = Node::List();
  for (const Override* o : in.hydra_overrides) {
    hydra_texts.items().push_back(Node::String(o->input));
    if (!o->key.starts_with("hydra.")) continue;  // hydra/GROUP=X: a choice (hydra_choices)
    Node v = o->value ? o->value->node() : Node::Null();
    v.SetOriginDeep("override '" + o->input + "'");
    SetPath(h, o->key.substr(6), std::move(v));
  }
  std::string mode = run.multirun ? "MULTIRUN" : "RUN";
  if (const Node* m = h.Find("mode"); m && !m->is_null()) {
    if (!m->is_string() || (m->as_string() != "RUN" && m->as_string() != "MULTIRUN"))
      return Status::User((m->origin().empty() ? std::string("hydra.mode") : m->origin()) +
                          ": hydra.mode must be RUN or MULTIRUN, not " + ToJson(*m, 0));
    mode = m->as_string();
  } else {
    h.Set("mode", Node::String(mode));
  }
  hydra_texts.items().push_back(Node::String("hydra.mode=" + mode));
  Node task = Node::List();
  for (const auto& t : in.task_overrides) task.items().push_back(Node::String(t));
  h.Set("overrides", Node::Map({{"hydra", std::move(hydra_texts)}, {"task", std::move(task)}}));

  Node& job = *h.Find("job");
  if (!job.Find("name") || job.Find("name")->is_missing())
    job.Set("name", Node::String(run.job_name.empty() ? in.config_name : run.job_name));
  if (run.job_num) {  // a multirun's job: its index, whatever the config says (as Hydra's launcher sets it)
    job.Set("num", Node::Int(*run.job_num));
    job.Set("id", Node::String(std::to_string(*run.job_num)));
  }
  job.Set("config_name", Node::String(in.config_name));
  const Node* od = job.Select("config.override_dirname");
  std::vector<std::string> exclude;
  if (const Node* ex = od ? od->Find("exclude_keys") : nullptr; ex && ex->is_list())
    for (const Node& k : ex->items())
      if (k.is_scalar()) exclude.push_back(k.is_string() ? k.as_string() : ScalarToString(k));
  job.Set("override_dirname",
          Node::String(OverrideDirname(in.task_overrides, in.override_keys, exclude,
                                       od ? StringAt(*od, "item_sep", ",") : ",",
                                       od ? StringAt(*od, "kv_sep", "=") : "=")));

  Node& rt = *h.Find("runtime");
  rt.Set("cwd", Node::String(run.cwd.empty() ? CurrentDir() : run.cwd));
  Node choices = Node::Map();
  if (in.user_choices)
    for (const Choice& c : *in.user_choices) choices.Set(c.key, c.option ? Node::String(*c.option) : Node::Null());
  for (const auto& [g, def] : kHydraGroups) {
    std::string key = std::string("hydra/") + g;
    std::optional<std::string> opt = def ? std::optional<std::string>(def) : std::nullopt;
    for (const auto& [k, v] : in.hydra_choices)
      if (k == key) opt = v == "null" ? std::nullopt : std::optional<std::string>(v);
    choices.Set(key, opt ? Node::String(*opt) : Node::Null());
  }
  rt.Set("choices", std::move(choices));
  return h;
}

Status FinishHydraNode(Node& root, const ResolveOptions& ro, const std::string& output_base) {
  Node* h = root.Find("hydra");
  if (!h || !h->is_map()) return Status::Internal("no hydra node to finish");
  std::vector<std::pair<Node*, Node>> values;
  RETURN_IF_ERROR(ResolveStrings(*h, "hydra", root, ro, &values));
  for (auto& [node, value] : values) *node = std::move(value);
  bool multirun = StringAt(*h, "mode", "RUN") == "MULTIRUN";
  std::string dir = StringAt(*h, multirun ? "sweep.dir" : "run.dir", "");
  if (multirun) {
    const Node* sub = h->Select("sweep.subdir");
    std::string s = sub && sub->is_scalar() && !sub->is_null() && !sub->is_missing()
                        ? (sub->is_string() ? sub->as_string() : ScalarToString(*sub))
                        : "";
    if (!s.empty()) dir = JoinPath(dir, s);
  }
  if (dir.empty() || dir == "???")
    return Status::User(std::string("hydra.") + (multirun ? "sweep.dir" : "run.dir") +
                        " is empty; set it in the config's hydra: section or with hydra." +
                        (multirun ? "sweep.dir" : "run.dir") + "=DIR");
  std::string base = output_base.empty() ? StringAt(*h, "runtime.cwd", CurrentDir()) : output_base;
  h->Find("runtime")->Set("output_dir", Node::String(NormalizeAbsolute(dir[0] == '/' ? dir : base + "/" + dir)));
  return Status::Ok();
}

Node HydraSelect(const Node& hydra, const std::string& key) {
  const Node* n = key.empty() ? &hydra : hydra.Select(key);
  if (!n || n->is_missing()) return Node::Null();
  return *n;
}

namespace {

// A whole number in an environment variable, or nothing.
std::optional<int64_t> EnvInt(const char* text) {
  std::string_view t(text);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v < 0) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

Status HydraRunFromEnvironment(HydraRunInfo* run, std::optional<std::chrono::system_clock::time_point>* now) {
  if (const char* base = std::getenv("FORJA_HYDRA_OUTPUT_BASE"); base && *base) {
    if (base[0] != '/')
      return Status::User("FORJA_HYDRA_OUTPUT_BASE must be an absolute folder, not " + JsonQuote(base) +
                          " (forja exp run sets it; unset it)");
    run->output_base = base;
  }
  if (const char* num = std::getenv("FORJA_HYDRA_JOB_NUM"); num && *num) {
    auto v = EnvInt(num);
    if (!v) return Status::User("FORJA_HYDRA_JOB_NUM must be a job number (0, 1, ...), not " + JsonQuote(num) +
                                " (forja exp run -m sets it; unset it)");
    run->multirun = true;
    run->job_num = *v;
  }
  if (const char* t = std::getenv("FORJA_HYDRA_NOW"); t && *t) {
    auto v = EnvInt(t);
    if (!v || *v > (int64_t{1} << 40))
      return Status::User("FORJA_HYDRA_NOW must be seconds since 1970, not " + JsonQuote(t) +
                          " (forja exp run sets it; unset it)");
    *now = std::chrono::system_clock::time_point(std::chrono::seconds(*v));
  }
  return Status::Ok();
}

bool MentionsHydra(const Node& n) {
  if (n.is_string()) return n.has_interpolation() && n.as_string().find("hydra:") != std::string::npos;
  for (const Node& c : n.items())
    if (MentionsHydra(c)) return true;
  for (const auto& e : n.entries())
    if (MentionsHydra(e.second)) return true;
  return false;
}

Node HydraLockView(const Node& hydra) {
  Node v = hydra;
  if (!v.is_map()) return v;
  auto text = [](const std::string& key) { return Node::String("${hydra:" + key + "}"); };
  // Each leaf of run and sweep by its own key, so ${hydra:run.dir} reads as written.
  for (const char* group : {"run", "sweep"}) {
    Node* g = v.Find(group);
    if (!g || !g->is_map()) continue;
    for (auto& [k, leaf] : g->entries())
      if (leaf.is_scalar()) leaf = text(std::string(group) + "." + k);
  }
  if (Node* rt = v.Find("runtime"); rt && rt->is_map())
    for (const char* k : {"output_dir", "cwd"})
      if (rt->Find(k)) rt->Set(k, text(std::string("runtime.") + k));
  if (Node* job = v.Find("job"); job && job->is_map())
    for (const char* k : {"num", "id"})
      if (job->Find(k)) job->Set(k, text(std::string("job.") + k));
  return v;
}

std::vector<std::string> IgnoredHydraSections(const Node* user_hydra) {
  std::vector<std::string> out;
  if (!user_hydra || !user_hydra->is_map()) return out;
  for (const char* k : kIgnoredSections)
    if (user_hydra->Find(k)) out.push_back(std::string("hydra.") + k);
  return out;
}

void NoteIgnoredHydra(const std::vector<std::string>& what) {
  static std::atomic<bool> said{false};
  if (what.empty() || said.exchange(true)) return;
  std::vector<std::string> uniq;
  for (const auto& w : what)
    if (std::find(uniq.begin(), uniq.end(), w) == uniq.end()) uniq.push_back(w);
  LogWarn("ignoring Hydra settings forja does not implement: " + Join(uniq, ", ") +
          " (forja runs the job itself, without Hydra's launchers, sweepers, logging or callbacks; "
          "see docs/hydra-compat.md)");
}

}  // namespace forja::config
