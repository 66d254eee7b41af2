// What forja serve instances reported last (ServingReport, store.h) on SQL: one row per
// instance, replaced by its next report in one statement; a report also deletes the rows of
// instances silent for kServingReportExpireMs, so the table holds the live fleet only.
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

// An instance id is shown in the web UI and names a row: printable ASCII, no blanks.
Status CheckInstanceId(const std::string& id) {
  if (id.empty() || id.size() > kMaxServingInstanceIdBytes)
    return Status::User("serving report: instance id must be 1 to " + std::to_string(kMaxServingInstanceIdBytes) +
                        " characters, not " + std::to_string(id.size()));
  for (unsigned char ch : id)
    if (ch <= 0x20 || ch >= 0x7f)
      return Status::User("serving report: instance id '" + id.substr(0, 80) +
                          "' must be printable ASCII without blanks (host:port, a pod name)");
  return Status::Ok();
}

}  // namespace

Status SqlStore::PutServingReport(const ServingReport& r) {
  RETURN_IF_ERROR(CheckInstanceId(r.instance));
  if (r.report.empty() || r.report.size() > kMaxServingReportBytes)
    return Status::User("serving report of " + r.instance + " is " + std::to_string(r.report.size()) +
                        " bytes; it must be 1 to " + std::to_string(kMaxServingReportBytes));
  const int64_t now = NowMs();
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.Run("INSERT INTO serving_reports(instance, received, report) VALUES (?, ?, ?) "
                          "ON CONFLICT(instance) DO UPDATE SET received = excluded.received, report = excluded.report",
                          {r.instance, now, r.report}));
    return c.Run("DELETE FROM serving_reports WHERE received < ?", {now - kServingReportExpireMs});
  });
}

Result<std::vector<ServingReport>> SqlStore::ListServingReports() {
  std::vector<ServingReport> out;
  const int64_t since = NowMs() - kServingReportExpireMs;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT instance, received, report FROM serving_reports WHERE received >= ? "
                                           "ORDER BY received DESC, instance LIMIT ?",
                                           {since, static_cast<int64_t>(kMaxServingInstances)}));
    for (const SqlRow& row : rows) out.push_back({row[0].Text(), row[1].Int(), row[2].Text()});
    return Status::Ok();
  }));
  return out;
}

}  // namespace forja::meta
