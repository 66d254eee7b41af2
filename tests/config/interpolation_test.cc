// Interpolation (forja/config/interpolation.h). The table of cases,
// tests/config/interpolation_cases.json, is shared with
// tests/config/check_interpolation_omegaconf.py, which checks every expectation
// against OmegaConf itself (CTest config.omegaconf_interpolation); here forja
// must meet the same expectations. Below the table: what the table cannot say
// (columns, limits, time, speed).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "forja/config/interpolation.h"
#include "forja/config/node.h"

namespace forja::config {
namespace {

using Json = nlohmann::ordered_json;

Node FromJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return Node::Null();
    case Json::value_t::boolean: return Node::Bool(j.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return Node::Int(j.get<int64_t>());
    case Json::value_t::number_float: return Node::Float(j.get<double>());
    case Json::value_t::string: return Node::String(j.get<std::string>());
    case Json::value_t::array: {
      Node list = Node::List();
      for (const auto& item : j) list.items().push_back(FromJson(item));
      return list;
    }
    case Json::value_t::object: {
      Node map = Node::Map();
      for (const auto& [k, v] : j.items()) map.entries().emplace_back(k, FromJson(v));
      return map;
    }
    default: return Node::String("<unsupported json>");
  }
}

// Types are compared too (1 != 1.0 != true), and key order.
bool SameTyped(const Node& a, const Node& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_list()) {
    if (a.items().size() != b.items().size()) return false;
    for (size_t i = 0; i < a.items().size(); i++)
      if (!SameTyped(a.items()[i], b.items()[i])) return false;
    return true;
  }
  if (a.is_map()) {
    if (a.entries().size() != b.entries().size()) return false;
    for (size_t i = 0; i < a.entries().size(); i++)
      if (a.entries()[i].first != b.entries()[i].first ||
          !SameTyped(a.entries()[i].second, b.entries()[i].second))
        return false;
    return true;
  }
  return a == b;
}

Node* At(Node& root, const std::string& path) { return root.Select(path); }

ResolveOptions EnvOnly(std::map<std::string, std::string> env) {
  ResolveOptions o;
  o.getenv = [env = std::move(env)](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

Result<Node> Resolve(const std::string& yaml, const ResolveOptions& o = EnvOnly({})) {
  auto cfg = ParseYaml(yaml, "test.yaml");
  if (!cfg.ok()) return cfg.status();
  Status st = ResolveAll(*cfg, o);
  if (!st.ok()) return st;
  return *cfg;
}

std::string ErrorOf(const std::string& yaml, const ResolveOptions& o = EnvOnly({})) {
  auto r = Resolve(yaml, o);
  return r.ok() ? "<no error>" : r.status().message();
}

TEST(ConfigInterpolation, ConformanceTableSharedWithOmegaConf) {
  std::ifstream in(std::string(FORJA_SOURCE_DIR) + "/tests/config/interpolation_cases.json");
  ASSERT_TRUE(in) << "missing tests/config/interpolation_cases.json";
  Json doc = Json::parse(in);
  const Json& cases = doc["cases"];
  ASSERT_GE(cases.size(), 40u);
  int checked = 0;
  for (const Json& c : cases) {
    std::string name = c["name"].get<std::string>();
    SCOPED_TRACE(name);
    std::map<std::string, std::string> env;
    if (c.contains("env"))
      for (const auto& [k, v] : c["env"].items()) env[k] = v.get<std::string>();
    ResolveOptions opts = EnvOnly(env);
    auto cfg = ParseYaml(c["config"].get<std::string>(), name + ".yaml");
    ASSERT_TRUE(cfg.ok()) << cfg.status().message();
    Result<Node> got = Status::Internal("unset");
    if (c.contains("select")) {
      got = ResolveValue(*cfg, c["select"].get<std::string>(), opts);
    } else {
      Node copy = *cfg;
      Status st = ResolveAll(copy, opts);
      if (st.ok()) got = std::move(copy);
      else got = st;
      if (!st.ok()) {
        EXPECT_TRUE(copy == *cfg) << "a failed ResolveAll changed the tree";
      }
    }
    if (c.contains("error")) {
      std::string want = c["error"].get<std::string>();
      ASSERT_FALSE(got.ok()) << "expected an error containing '" << want << "', got\n"
                             << ToJson(*got);
      EXPECT_EQ(got.status().code(), Code::kUser);
      EXPECT_NE(got.status().message().find(want), std::string::npos)
          << "message: " << got.status().message() << "\nwanted: " << want;
      EXPECT_EQ(got.status().message().find('\n'), std::string::npos) << "one line";
    } else {
      ASSERT_TRUE(got.ok()) << got.status().message();
      Node want = FromJson(c["expected"]);
      Node value = *got;
      if (c.contains("regex")) {
        for (const auto& [path, pattern] : c["regex"].items()) {
          Node* v = At(value, path);
          ASSERT_TRUE(v && v->is_string()) << path;
          EXPECT_TRUE(std::regex_match(v->as_string(), std::regex(pattern.get<std::string>())))
              << path << " = " << v->as_string();
          *v = Node::String("<regex>");
          *At(want, path) = Node::String("<regex>");
        }
      }
      EXPECT_TRUE(SameTyped(value, want)) << "got:\n" << ToJson(value) << "\nwant:\n" << ToJson(want);
    }
    checked++;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

TEST(ConfigInterpolation, ResolveValueMatchesResolveAll) {
  const std::string yaml =
      "a:\n  x: 1\n  y: ${.x}\nb: ${a}\nc: ${b.y}\nd: x${c}\nl:\n  - ${c}\n  - ${a}\n";
  auto cfg = ParseYaml(yaml, "t.yaml");
  ASSERT_TRUE(cfg.ok());
  Node all = *cfg;
  ASSERT_TRUE(ResolveAll(all).ok());
  for (const char* path : {"a", "a.y", "b", "b.y", "c", "d", "l", "l.0", "l.1.x", "l[1].y", ""}) {
    SCOPED_TRACE(path);
    auto v = ResolveValue(*cfg, path);
    ASSERT_TRUE(v.ok()) << v.status().message();
    const Node* want = std::string(path) == "l[1].y" ? all.Select("l.1.y") : all.Select(path);
    ASSERT_NE(want, nullptr);
    EXPECT_TRUE(SameTyped(*v, *want)) << ToJson(*v) << " vs " << ToJson(*want);
  }
  auto missing = ResolveValue(*cfg, "a.nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "key 'a.nope' not found");
}

TEST(ConfigInterpolation, MissingValueMessageNamesTheKeyAndTheFix) {
  auto cfg = ParseYaml("db:\n  password: ???\nurl: x:${db.password}\n", "t.yaml");
  ASSERT_TRUE(cfg.ok());
  auto direct = ResolveValue(*cfg, "db.password");
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.status().message(),
            "db.password: missing mandatory value (?\?\?); set it with an override such as "
            "db.password=VALUE");
  auto via = ResolveValue(*cfg, "url");
  ASSERT_FALSE(via.ok());
  EXPECT_EQ(via.status().message(),
            "db.password: missing mandatory value (?\?\?), read by ${db.password} at url; set it "
            "with an override such as db.password=VALUE");
  // ResolveAll leaves both as "???" (reading them is the error).
  Node all = *cfg;
  ASSERT_TRUE(ResolveAll(all).ok());
  EXPECT_EQ(all.Select("url")->as_string(), "???");
  EXPECT_EQ(all.Select("db.password")->as_string(), "???");
}

TEST(ConfigInterpolation, ErrorMessagesAreExact) {
  EXPECT_EQ(ErrorOf("a:\n  b: 1\nx:\n  y: ${a.c}\n"),
            "interpolation ${a.c} at x.y: key 'a.c' not found");
  EXPECT_EQ(ErrorOf("a: ${b}\nb: ${c}\nc: ${a}\n"), "interpolation cycle: a -> b -> c -> a");
  EXPECT_EQ(ErrorOf("a:\n  x: ${b}\nb: ${a}\n"), "interpolation cycle: a.x -> b -> a, which contains a.x");
  EXPECT_EQ(ErrorOf("x:\n  y: pre ${a.b\n"),
            "malformed interpolation at x.y, column 10 of \"pre ${a.b\": missing '}' to close the "
            "'${' at column 5");
  EXPECT_EQ(ErrorOf("x: ${oc.env:A B,d}\n"), "<no error>");  // spaces inside an argument are text
  EXPECT_EQ(ErrorOf("x: '${a:b}'\n"),
            "interpolation ${a:b} at x: unknown resolver 'a' (known: now, oc.create, oc.decode, "
            "oc.deprecated, oc.dict.keys, oc.dict.values, oc.env, oc.select)");
  EXPECT_EQ(ErrorOf("x: ${oc.env:FORJA_NOT_SET}\n"),
            "interpolation ${oc.env:FORJA_NOT_SET} at x: environment variable 'FORJA_NOT_SET' is not "
            "set and has no default (write ${oc.env:FORJA_NOT_SET,DEFAULT})");
  // A value spanning lines stays one line in the message.
  auto cfg = ParseYaml("x: \"a\\n${b\"\n", "t.yaml");
  ASSERT_TRUE(cfg.ok());
  Status st = ResolveAll(*cfg);
  EXPECT_EQ(st.message(),
            "malformed interpolation at x, column 6 of \"a\\n${b\": missing '}' to close the '${' at "
            "column 3");
}

TEST(ConfigInterpolation, SyntaxCheckGivesTheColumn) {
  EXPECT_TRUE(CheckInterpolationSyntax("plain text").ok());
  EXPECT_TRUE(CheckInterpolationSyntax("${a.b}/${oc.env:X,[1, {a: 'b'}]}").ok());
  EXPECT_TRUE(CheckInterpolationSyntax("\\${not an interpolation").ok());
  struct Bad {
    const char* text;
    const char* message;
  } bad[] = {
      {"${}", "column 3 of \"${}\": empty interpolation '${}'"},
      {"${a b}", "column 4 of \"${a b}\": unexpected space inside '${...}'"},
      {"${a.}", "column 5 of \"${a.}\": missing a key after '.'"},
      {"${a[}", "column 5 of \"${a[}\": missing a key after '['"},
      {"${a[b}", "column 6 of \"${a[b}\": missing ']'"},
      {"${a[b}c]}", "column 6 of \"${a[b}c]}\": missing ']'"},
      {"${a(b)}", "column 4 of \"${a(b)}\": unexpected '(' inside '${...}'"},
      {"${f:[1,2}", "column 9 of \"${f:[1,2}\": unexpected '}', expected ',' or ']'"},
      {"${f:'x}", "column 5 of \"${f:'x}\": unterminated string: missing the closing '"},
      {"${f:{a}}", "column 7 of \"${f:{a}}\": unexpected '}' in a dict key, expected ':'"},
      {"${f:{a:}}", "column 8 of \"${f:{a:}}\": missing the value of a dict key"},
      {"${f:a=b}", "column 6 of \"${f:a=b}\": unexpected '=' in a value"},
      {"${oc.env:x,99999999999999999999}", "integer 99999999999999999999 is out of range"},
      {"${a[b]:x}", "column 4 of \"${a[b]:x}\": bad resolver name"},
  };
  for (const Bad& b : bad) {
    Status st = CheckInterpolationSyntax(b.text, "k");
    ASSERT_FALSE(st.ok()) << b.text;
    EXPECT_EQ(st.code(), Code::kUser);
    EXPECT_NE(st.message().find(b.message), std::string::npos)
        << st.message() << "\nwanted: " << b.message;
    EXPECT_EQ(st.message().rfind("malformed interpolation at k, column ", 0), 0u) << st.message();
  }
  // Dotted resolver names and ids with dashes are fine.
  EXPECT_TRUE(CheckInterpolationSyntax("${a-b.c:x}").ok());
}

TEST(ConfigInterpolation, NowFormatsLocalTimeLikePython) {
  ResolveOptions o;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 9;
  tm.tm_hour = 7;
  tm.tm_min = 5;
  tm.tm_sec = 3;
  tm.tm_isdst = -1;
  auto t = std::chrono::system_clock::from_time_t(std::mktime(&tm)) + std::chrono::microseconds(42);
  o.now = t;
  auto r = Resolve(
      "a: ${now:%Y-%m-%d}\nb: '${now:%H:%M:%S.%f}'\nc: '${now:%%f%z%Z}'\nd: ${now:%Y}\ne: ${now:x}\n"
      "f: ${now:%Y}_${now:%m}\n",
      o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Select("a")->as_string(), "2024-03-09");
  EXPECT_EQ(r->Select("b")->as_string(), "07:05:03.000042");
  EXPECT_EQ(r->Select("c")->as_string(), "%f");  // a naive time: %z and %Z are empty
  EXPECT_EQ(r->Select("d")->as_string(), "2024");  // a string, as Python's strftime gives
  EXPECT_EQ(r->Select("e")->as_string(), "x");
  EXPECT_EQ(r->Select("f")->as_string(), "2024_03");
}

TEST(ConfigInterpolation, EnvFallsBackToTheProcessEnvironment) {
  setenv("FORJA_INTERP_TEST", "from-env", 1);
  auto r = Resolve("a: ${oc.env:FORJA_INTERP_TEST}\n", ResolveOptions{});
  unsetenv("FORJA_INTERP_TEST");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Select("a")->as_string(), "from-env");
}

TEST(ConfigInterpolation, HostileInputIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 5000; i++) deep += "${";
  Status st = CheckInterpolationSyntax(deep, "k");
  EXPECT_NE(st.message().find("nested too deeply"), std::string::npos) << st.message();
  std::string brackets = "${oc.env:X," + std::string(5000, '[') + "}";
  st = CheckInterpolationSyntax(brackets, "k");
  EXPECT_NE(st.message().find("nested too deeply"), std::string::npos) << st.message();

  // A chain longer than the limit (a0 -> a1 -> ... -> a999).
  std::string yaml;
  for (int i = 0; i < 1000; i++) yaml += "a" + std::to_string(i) + ": ${a" + std::to_string(i + 1) + "}\n";
  yaml += "a1000: 1\n";
  std::string msg = ErrorOf(yaml);
  EXPECT_NE(msg.find("interpolations lead to one another"), std::string::npos) << msg;

  // Cycles through resolvers.
  EXPECT_NE(ErrorOf("a: ${oc.select:b}\nb: ${oc.select:a}\n").find("interpolation cycle: a -> b -> a"),
            std::string::npos);
  EXPECT_NE(ErrorOf("a:\n  x: ${oc.select:a}\n").find("interpolation cycle: a -> a.x -> a"),
            std::string::npos)
      << ErrorOf("a:\n  x: ${oc.select:a}\n");
  EXPECT_NE(ErrorOf("a: ${oc.select:''}\n").find("interpolation cycle"), std::string::npos);
  EXPECT_NE(ErrorOf("a: \"${oc.decode:'${a}'}\"\n").find("interpolation cycle: a -> a"), std::string::npos);
}

TEST(ConfigInterpolation, FiveHundredKeysWithAHundredInterpolationsResolveFast) {
  // The benchmark's shape: 500 keys in 50 groups, 100 of them interpolations
  // (whole-value ones, and strings with a relative and an absolute one each).
  std::string yaml;
  for (int g = 0; g < 50; g++) {
    yaml += "g" + std::to_string(g) + ":\n";
    for (int k = 0; k < 10; k++) {
      std::string key = "k" + std::to_string(k);
      if (k == 0) yaml += "  " + key + ": ${g" + std::to_string((g + 1) % 50) + ".k1}\n";
      else if (k == 2) yaml += "  " + key + ": data/${.k1}/${g0.k3}.csv\n";
      else yaml += "  " + key + ": " + std::to_string(g * 10 + k) + "\n";
    }
  }
  auto cfg = ParseYaml(yaml, "bench.yaml");
  ASSERT_TRUE(cfg.ok());
  Node first = *cfg;
  ASSERT_TRUE(ResolveAll(first).ok());
  EXPECT_EQ(first.Select("g49.k0")->as_int(), 1);
  EXPECT_EQ(first.Select("g7.k2")->as_string(), "data/71/3.csv");
  // The best of a few batches, so that a busy machine does not fail the test.
  double best_ms = 1e9;
  for (int batch = 0; batch < 5; batch++) {
    std::vector<Node> copies(10, *cfg);
    auto start = std::chrono::steady_clock::now();
    for (Node& c : copies) ASSERT_TRUE(ResolveAll(c).ok());
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
                static_cast<double>(copies.size());
    best_ms = std::min(best_ms, ms);
  }
  // The issue's budget is 5 ms for the whole composition; resolving takes ~0.2 ms.
  EXPECT_LT(best_ms, 5.0) << "ResolveAll of 500 keys with 100 interpolations took " << best_ms << " ms";
}

}  // namespace
}  // namespace forja::config
