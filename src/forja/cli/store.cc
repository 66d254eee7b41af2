#include "forja/cli/store.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "forja/api/rest_store.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/redact.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/project.h"
#include "forja/pipeline/tracking.h"

namespace forja {

void AddStoreOption(CLI::App* c, std::string* uri) {
  c->add_option("--store", *uri,
                "The metadata store: sqlite:////abs/path.db, postgresql://user@host/db, or http://host:port (a\n"
                "forja server). Default: FORJA_TRACKING_URI, else forja.yaml's tracking.uri, else the\n"
                "workspace's .forja/forja.db")
      ->type_name("URI");
}

std::string StoreUriOf(const std::string& text) {
  // A libpq key=value string ("host=h dbname=d") is PostgreSQL, never a file name.
  if (text.find("://") != std::string::npos || text.starts_with("sqlite:") || IsLibpqKeyValue(text)) return text;
  std::string abs = text[0] == '/' ? text : CurrentDir() + "/" + text;
  return "sqlite:///" + NormalizeAbsolute(abs);
}

namespace {

Result<std::unique_ptr<meta::MetaStore>> OpenStoreUriRaw(const std::string& uri) {
  if (IsLibpqKeyValue(uri)) {
    // README: "any libpq URI or key=value string"; the same keywords as URI parameters.
    std::string pg, error;
    if (!LibpqKeyValueToUri(uri, &pg, &error))
      return Status::User("invalid PostgreSQL connection string: " + error +
                          "; write keyword=value pairs (host=h dbname=d user=u) or postgresql://user@host/db");
    return meta::OpenSqlStore(pg);
  }
  if (uri.starts_with("http://") || uri.starts_with("https://")) {
    ASSIGN_OR_RETURN(auto rest, api::RestStore::Open(uri, api::TokenFromEnvironment()));
    return std::unique_ptr<meta::MetaStore>(std::move(rest));
  }
  if (uri.starts_with("sqlite:") || uri.starts_with("postgresql://") || uri.starts_with("postgres://"))
    return meta::OpenSqlStore(uri);
  return Status::User("unknown store URI '" + RedactUri(uri) +
                      "': use sqlite:////abs/path.db, postgresql://user@host/db or http://host:port");
}

}  // namespace

Result<std::unique_ptr<meta::MetaStore>> OpenStoreUri(const std::string& uri) {
  auto store = OpenStoreUriRaw(uri);
  // Every error that may quote the URI or the server's words shows it redacted.
  if (!store.ok()) return Status(store.status().code(), RedactSecretsOf(store.status().message(), uri));
  return store;
}

Result<std::unique_ptr<meta::MetaStore>> OpenStore(const std::string& flag, StoreContext* ctx) {
  StoreContext local;
  StoreContext& c = ctx ? *ctx : local;
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (root.ok()) {
    c.root = *root;
    ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(c.root));
    ASSIGN_OR_RETURN(pipeline::TrackingSettings s, pipeline::ReadTrackingSettings(c.root, doc.root));
    c.uri = s.uri;
    c.experiment = s.experiment;
  } else if (const char* env = std::getenv("FORJA_TRACKING_URI"); env && *env) {
    c.uri = env;
  }
  if (!flag.empty()) c.uri = StoreUriOf(flag);
  if (c.uri.empty())
    return Status::User("no metadata store: run inside a forja workspace, set FORJA_TRACKING_URI, or pass --store URI");
  if (c.uri.starts_with("sqlite:///") && !c.root.empty() && c.uri == "sqlite:///" + c.root + "/.forja/forja.db")
    RETURN_IF_ERROR(MakeDirs(c.root + "/.forja"));  // a fresh clone has no local state yet
  return OpenStoreUri(c.uri);
}

}  // namespace forja
