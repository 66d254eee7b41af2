// A fresh, empty store URI for the parameterized store tests ("sqlite" or "postgres"):
// SQLite in a new temporary folder; PostgreSQL as a new database of the throwaway cluster of
// the `postgres` fixture (tests/lib/postgres.sh), or "" when that fixture is not running.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace forja::meta::test_support {

// The output of a shell command, without trailing blanks.
inline std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// `tag` names the temporary folder (/tmp/forja-TAG-XXXXXX) so a leftover says whose it is.
inline std::string FreshUri(const std::string& kind, const std::string& tag) {
  static std::atomic<int> n{0};
  if (kind == "sqlite")
    return "sqlite:///" + Sh("mktemp -d /tmp/forja-" + tag + "-XXXXXX") + "/forja" + std::to_string(n++) + ".db";
  const char* state = std::getenv("FORJA_TEST_PG_STATE");
  if (!state) return "";
  return Sh(std::string(FORJA_SOURCE_DIR) + "/tests/lib/postgres.sh uri " + state);
}

}  // namespace forja::meta::test_support
