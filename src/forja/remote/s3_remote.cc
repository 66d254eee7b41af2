// The S3 remote: every operation is one or a few signed REST calls, each sent
// with retries (exponential backoff, full jitter) on the failures that pass:
// connection trouble, 5xx, 429 and SlowDown. Every other refusal becomes one
// message that says what to fix.
#include "forja/remote/s3_remote.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>

#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/strings.h"
#include "forja/net/http_client.h"
#include "forja/remote/s3_config.h"
#include "forja/remote/s3_xml.h"
#include "forja/remote/sigv4.h"

namespace forja {

namespace {

constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Up to this many oids, Has sends a HEAD each. Above it, Has estimates the
// remote's size from one shard (as DVC does) and lists when listing takes
// fewer requests than probing.
constexpr size_t kHeadUpTo = 1000;
constexpr size_t kShards = 256;        // sha256/00/ .. sha256/ff/
constexpr uint64_t kPageKeys = 1000;   // keys per ListObjectsV2 page
// Up to this many pages one listing of the whole prefix is quick enough;
// beyond it the shards are listed in parallel.
constexpr uint64_t kSequentialPages = 16;
constexpr uint64_t kMaxParts = 10000;  // S3's limit per upload
constexpr int kPartJobs = 4;           // parts of one object sent at once
constexpr double kMaxBackoffMs = 20000;
// What objects are to S3 (and to browsers fetching them): opaque bytes.
constexpr char kContentType[] = "application/octet-stream";

// One S3 request before signing.
struct S3Call {
  std::string method;
  std::string key;  // "" addresses the bucket itself
  KeyValues query;
  KeyValues headers;  // extra headers; all are signed
  std::string payload_sha256 = kEmptySha256;
  std::string body;
  int body_fd = -1;
  uint64_t body_offset = 0;
  uint64_t body_size = 0;
  int sink_fd = -1;  // GET: the object's bytes go here
};

// What came back, with S3's error document parsed.
struct S3Reply {
  HttpResponse http;
  std::string code;
  std::string message;
  int tries = 0;

  bool ok() const { return http.transport_ok && http.status / 100 == 2 && code.empty(); }
};

bool RetryableReply(const S3Reply& r) {
  if (!r.http.transport_ok) return r.http.retryable;
  if (r.http.status >= 500 || r.http.status == 429) return true;
  return r.code == "SlowDown" || r.code == "RequestTimeout" || r.code == "InternalError" ||
         r.code == "ServiceUnavailable";
}

bool CredentialCode(const std::string& code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "AccessDenied" || code == "InvalidToken" || code == "ExpiredToken" ||
         code == "TokenRefreshRequired" || code == "InvalidSecurity";
}

// HEAD replies carry no error document, so the status line is all there is.
std::string StatusName(long status) {
  switch (status) {
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "HTTP error";
  }
}

double RetryBaseMs() {
  const char* v = std::getenv("FORJA_S3_RETRY_BASE_MS");
  if (!v || !*v) return 200;
  char* end = nullptr;
  double ms = std::strtod(v, &end);
  return (*end == '\0' && ms >= 0) ? ms : 200;
}

// Full jitter: a uniform wait in [0, base * 2^(failures-1)], capped, so many
// clients retrying together spread out instead of hitting the server in waves.
void Backoff(int failures) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double cap = std::min(kMaxBackoffMs, RetryBaseMs() * std::pow(2.0, failures - 1));
  std::uniform_real_distribution<double> wait(0, cap);
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(wait(rng)));
}

std::string Tries(int n) { return std::to_string(n) + (n == 1 ? " try" : " tries"); }

// "ab/cdef..." (the part of a key after ".../sha256/") as an oid.
std::optional<Oid> OidFromKeyTail(std::string_view tail) {
  if (tail.size() != 65 || tail[2] != '/') return std::nullopt;
  std::string hex = std::string(tail.substr(0, 2)) + std::string(tail.substr(3));
  std::optional<Oid> oid = Oid::FromHex(hex);
  // Only the lower-case spelling is the object's key; another is not the object.
  if (oid && oid->Hex() != hex) return std::nullopt;
  return oid;
}

class S3Remote : public Remote {
 public:
  S3Remote(std::string name, S3Config cfg, S3Credentials creds)
      : name_(std::move(name)), cfg_(std::move(cfg)), creds_(std::move(creds)) {}

  std::string Describe() const override {
    return "s3://" + cfg_.bucket + (cfg_.prefix.empty() ? "" : "/" + cfg_.prefix) + " (" +
           cfg_.endpoint + ")";
  }

  Result<std::vector<bool>> Has(const std::vector<Oid>& oids, int jobs) override {
    if (oids.size() <= kHeadUpTo) return HasByHead(oids, jobs);
    ASSIGN_OR_RETURN(uint64_t pages, EstimateListPages(oids.size()));
    if (pages >= oids.size()) return HasByHead(oids, jobs);
    std::unordered_set<Oid, OidHash> present;
    if (pages <= kSequentialPages) {
      RETURN_IF_ERROR(ListOids(Under("sha256/"), [&](const Oid& o) { present.insert(o); }));
    } else {
      RETURN_IF_ERROR(ListShards(oids, jobs, &present));
    }
    std::vector<bool> has(oids.size());
    for (size_t i = 0; i < oids.size(); i++) has[i] = present.count(oids[i]) > 0;
    return has;
  }

  Status Put(const Oid& oid, const std::string& path, uint64_t size) override {
    ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
    if (size >= cfg_.multipart_threshold) return PutMultipart(oid, path, fd.get(), size);
    S3Call c{"PUT", KeyOf(oid)};
    // The object's name is its SHA-256, which is exactly the payload hash SigV4
    // wants: S3 then rejects any bytes that do not match the oid.
    c.payload_sha256 = oid.Hex();
    c.headers = {{"content-type", kContentType}};
    c.body_fd = fd.get();
    c.body_size = size;
    return Check(c);
  }

  Status Get(const Oid& oid, int fd) override {
    S3Call c{"GET", KeyOf(oid)};
    c.sink_fd = fd;
    return Check(c);
  }

  Status GetKey(const std::string& key, int fd) override {
    S3Call c{"GET", Under(key)};
    c.sink_fd = fd;
    return Check(c);
  }

  Result<std::vector<Oid>> List() override {
    std::vector<Oid> out;
    RETURN_IF_ERROR(ListOids(Under("sha256/"), [&](const Oid& o) { out.push_back(o); }));
    return out;
  }

  Status Remove(const Oid& oid) override {
    S3Call c{"DELETE", KeyOf(oid)};
    return Check(c);
  }

  Status Quarantine(const Oid& oid) override {
    std::string key = KeyOf(oid);
    S3Call copy{"PUT", Under("quarantine/" + oid.Hex())};
    copy.headers = {{"x-amz-copy-source", cfg_.bucket + "/" + UriEncode(key, true)}};
    Status st = Check(copy);
    if (st.code() == Code::kNotFound)  // about the source, not the copy's name
      return Status::NotFound("remote '" + name_ + "': " + key + " is not on " + Describe());
    RETURN_IF_ERROR(st);
    S3Call del{"DELETE", key};
    return Check(del);
  }

 private:
  std::string Under(const std::string& rel) const {
    return cfg_.prefix.empty() ? rel : cfg_.prefix + "/" + rel;
  }
  std::string KeyOf(const Oid& oid) const { return Under(ObjectKey(oid)); }
  std::string Host() const {
    return cfg_.virtual_host ? cfg_.bucket + "." + cfg_.authority : cfg_.authority;
  }
  std::string Origin() const { return cfg_.scheme + "://" + Host(); }
  std::string What(const S3Call& c) const {
    return c.method + " s3://" + cfg_.bucket + (c.key.empty() ? "" : "/" + c.key);
  }

  HttpRequest Sign(const S3Call& c) const;
  S3Reply SendOnce(const S3Call& c) const;
  S3Reply Send(const S3Call& c) const;
  Status Failure(const S3Call& c, const S3Reply& r) const;
  Status Check(const S3Call& c) const {
    S3Reply r = Send(c);
    return r.ok() ? Status::Ok() : Failure(c, r);
  }

  Result<bool> Head(const Oid& oid) const;
  Result<std::vector<bool>> HasByHead(const std::vector<Oid>& oids, int jobs) const;
  Result<uint64_t> EstimateListPages(size_t probes) const;
  Status ListShards(const std::vector<Oid>& oids, int jobs,
                    std::unordered_set<Oid, OidHash>* present) const;
  // Calls fn for every key under `key_prefix`. Stops after `max_pages` pages
  // (0: no limit), telling through `complete` whether the listing ended.
  Status ListKeys(const std::string& key_prefix,
                  const std::function<void(const std::string&)>& fn, size_t max_pages = 0,
                  bool* complete = nullptr) const;
  // The oids of the object keys under `key_prefix` (a ".../sha256/" or a shard of it).
  Status ListOids(const std::string& key_prefix, const std::function<void(const Oid&)>& fn) const;

  Status PutMultipart(const Oid& oid, const std::string& path, int fd, uint64_t size) const;
  Result<std::vector<std::string>> HashParts(const Oid& oid, const std::string& path, int fd,
                                             uint64_t size, uint64_t chunk) const;
  Result<std::string> CreateUpload(const std::string& key) const;
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int fd,
                                 size_t index, uint64_t chunk, uint64_t size,
                                 const std::string& sha256) const;
  Status CompleteUpload(const std::string& key, const std::string& upload_id,
                        const std::vector<std::string>& etags) const;
  void AbortUpload(const std::string& key, const std::string& upload_id) const;

  std::string name_;
  S3Config cfg_;
  S3Credentials creds_;
};

HttpRequest S3Remote::Sign(const S3Call& c) const {
  std::string path = cfg_.virtual_host
                         ? "/" + c.key
                         : "/" + cfg_.bucket + (c.key.empty() ? "" : "/" + c.key);
  // Signed per try: a retry after a long backoff must not carry a stale date.
  std::string date = AmzDate(std::time(nullptr));
  SigV4Request s{c.method, path, c.query, {}, c.payload_sha256};
  s.headers = {{"host", Host()}, {"x-amz-date", date}, {"x-amz-content-sha256", c.payload_sha256}};
  if (!creds_.keys.session_token.empty())
    s.headers.emplace_back("x-amz-security-token", creds_.keys.session_token);
  for (const auto& h : c.headers) s.headers.push_back(h);

  HttpRequest r;
  r.method = c.method;
  std::string query = CanonicalQuery(c.query);
  r.url = Origin() + UriEncode(path, true) + (query.empty() ? "" : "?" + query);
  r.headers = s.headers;
  r.headers.emplace_back("Authorization",
                         SigV4Authorization(s, creds_.keys, cfg_.region, "s3", date));
  r.body = c.body;
  r.body_fd = c.body_fd;
  r.body_offset = c.body_offset;
  r.body_size = c.body_size;
  r.sink_fd = c.sink_fd;
  r.ca_bundle = cfg_.ca_bundle;
  return r;
}

S3Reply S3Remote::SendOnce(const S3Call& c) const {
  S3Reply r;
  if (c.sink_fd >= 0 && (::ftruncate(c.sink_fd, 0) != 0 || ::lseek(c.sink_fd, 0, SEEK_SET) != 0)) {
    r.http.local_io_error = true;
    r.http.error = std::strerror(errno);
    return r;
  }
  r.http = HttpPerform(Sign(c));
  if (!r.http.transport_ok) return r;
  // Errors come as XML documents; CompleteMultipartUpload and CopyObject can
  // even send one with status 200 after the work failed.
  bool failed = r.http.status / 100 != 2;
  bool xml_body = c.sink_fd < 0 || failed;
  if (xml_body && (failed || XmlHas(r.http.body, "Error"))) {
    r.code = XmlValue(r.http.body, "Code");
    r.message = XmlValue(r.http.body, "Message");
  }
  return r;
}

S3Reply S3Remote::Send(const S3Call& c) const {
  for (int attempt = 1;; attempt++) {
    S3Reply r = SendOnce(c);
    r.tries = attempt;
    if (r.ok() || !RetryableReply(r) || attempt >= cfg_.tries) return r;
    std::string why = r.http.transport_ok
                          ? std::to_string(r.http.status) + " " + r.code
                          : r.http.error;
    LogVerbose("remote '" + name_ + "': " + What(c) + " failed (" + why + "), try " +
               std::to_string(attempt + 1) + " of " + std::to_string(cfg_.tries) + " follows");
    Backoff(attempt);
  }
}

Status S3Remote::Failure(const S3Call& c, const S3Reply& r) const {
  const std::string who = "remote '" + name_ + "': ";
  if (r.http.local_io_error) {
    return Status::Io(who + (c.sink_fd >= 0 ? "writing the download of " : "reading the upload of ") +
                      c.key + ": " + r.http.error);
  }
  if (!r.http.transport_ok) {
    return Status::Remote(who + "cannot reach " + Origin() + " (" + r.http.error + ")" +
                          (r.http.retryable ? " after " + Tries(r.tries) : ""));
  }
  std::string detail = std::to_string(r.http.status) + " " +
                       (r.code.empty() ? StatusName(r.http.status) : r.code) +
                       (r.message.empty() ? "" : ": " + r.message);
  if (RetryableReply(r)) {
    return Status::Remote(who + "S3 kept failing " + What(c) + " (" + detail + ") after " +
                          Tries(r.tries));
  }
  if (r.code == "NoSuchBucket") {
    return Status::Remote(who + "bucket '" + cfg_.bucket + "' does not exist at " +
                          cfg_.endpoint + "; create it first");
  }
  if (r.code == "NoSuchKey" || (r.http.status == 404 && r.code.empty() && !c.key.empty())) {
    return Status::NotFound(who + c.key + " is not on " + Describe());
  }
  if (CredentialCode(r.code) || (r.http.status == 403 && r.code.empty())) {
    return Status::Remote(who + "S3 refused the credentials (" + detail +
                          "); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile "
                          "(these came from " + creds_.source + ")");
  }
  std::string region = r.http.Header("x-amz-bucket-region");
  if (region.empty()) region = XmlValue(r.http.body, "Region");
  if (r.http.status == 301 || r.code == "PermanentRedirect" ||
      (r.code == "AuthorizationHeaderMalformed" && !region.empty())) {
    if (region.empty() || region == cfg_.region) {
      return Status::Remote(who + "bucket '" + cfg_.bucket + "' is not in region '" +
                            cfg_.region + "' (" + detail + "); set the remote's region option");
    }
    return Status::Remote(who + "bucket '" + cfg_.bucket + "' is in region '" + region +
                          "', not '" + cfg_.region + "'; set the remote's region option to " +
                          region);
  }
  return Status::Remote(who + "S3 refused " + What(c) + " (" + detail + ")");
}

Result<bool> S3Remote::Head(const Oid& oid) const {
  S3Call c{"HEAD", KeyOf(oid)};
  S3Reply r = Send(c);
  if (r.ok()) return true;
  if (r.http.transport_ok && r.http.status == 404) return false;
  return Failure(c, r);
}

Result<std::vector<bool>> S3Remote::HasByHead(const std::vector<Oid>& oids, int jobs) const {
  std::vector<char> found(oids.size());  // vector<bool> elements share bytes
  RETURN_IF_ERROR(ParallelFor(oids.size(), jobs, [&](size_t i) {
    ASSIGN_OR_RETURN(bool h, Head(oids[i]));
    found[i] = h;
    return Status::Ok();
  }));
  return std::vector<bool>(found.begin(), found.end());
}

// Pages a listing of the whole remote would take, from the size of shard 00
// (keys are uniform: they are hashes). Stops counting once the answer is "at
// least `probes`", so a huge remote costs a few pages here, not a full listing.
Result<uint64_t> S3Remote::EstimateListPages(size_t probes) const {
  size_t max_pages = (probes + kShards - 1) / kShards;
  uint64_t keys = 0;
  bool complete = false;
  RETURN_IF_ERROR(ListKeys(Under("sha256/00/"), [&](const std::string&) { keys++; }, max_pages,
                           &complete));
  if (!complete) return static_cast<uint64_t>(probes);
  return keys * kShards / kPageKeys + 1;
}

// Lists only the shards holding some of `oids`, several at once.
Status S3Remote::ListShards(const std::vector<Oid>& oids, int jobs,
                            std::unordered_set<Oid, OidHash>* present) const {
  std::vector<uint8_t> shards;
  std::vector<bool> wanted(kShards);
  for (const Oid& o : oids) wanted[o.bytes[0]] = true;
  for (size_t i = 0; i < kShards; i++)
    if (wanted[i]) shards.push_back(static_cast<uint8_t>(i));
  std::vector<std::vector<Oid>> found(shards.size());
  RETURN_IF_ERROR(ParallelFor(shards.size(), jobs, [&](size_t i) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string shard = {kHex[shards[i] >> 4], kHex[shards[i] & 15], '/'};
    return ListOids(Under("sha256/" + shard), [&](const Oid& o) { found[i].push_back(o); });
  }));
  for (const auto& v : found) present->insert(v.begin(), v.end());
  return Status::Ok();
}

Status S3Remote::ListKeys(const std::string& key_prefix,
                          const std::function<void(const std::string&)>& fn, size_t max_pages,
                          bool* complete) const {
  std::string token;
  size_t pages = 0;
  do {
    if (max_pages > 0 && pages == max_pages) break;
    S3Call c{"GET", ""};
    c.query = {{"list-type", "2"}, {"prefix", key_prefix}};
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    S3Reply r = Send(c);
    if (!r.ok()) return Failure(c, r);
    pages++;
    for (const std::string& key : XmlValues(r.http.body, "Key")) fn(key);
    bool truncated = XmlValue(r.http.body, "IsTruncated") == "true";
    token = truncated ? XmlValue(r.http.body, "NextContinuationToken") : "";
    if (truncated && token.empty())
      return Status::Remote("remote '" + name_ + "': S3 cut a listing short without a "
                            "continuation token");
  } while (!token.empty());
  if (complete) *complete = token.empty();
  return Status::Ok();
}

Status S3Remote::ListOids(const std::string& key_prefix,
                          const std::function<void(const Oid&)>& fn) const {
  std::string base = Under("sha256/");
  return ListKeys(key_prefix, [&](const std::string& key) {
    if (!key.starts_with(base)) return;
    if (auto oid = OidFromKeyTail(std::string_view(key).substr(base.size()))) fn(*oid);
  });
}

Status S3Remote::PutMultipart(const Oid& oid, const std::string& path, int fd,
                              uint64_t size) const {
  uint64_t chunk = std::max(cfg_.multipart_chunk, (size + kMaxParts - 1) / kMaxParts);
  size_t parts = static_cast<size_t>((size + chunk - 1) / chunk);
  ASSIGN_OR_RETURN(std::vector<std::string> hashes, HashParts(oid, path, fd, size, chunk));
  std::string key = KeyOf(oid);
  ASSIGN_OR_RETURN(std::string upload_id, CreateUpload(key));
  std::vector<std::string> etags(parts);
  Status st = ParallelFor(parts, std::min<int>(kPartJobs, static_cast<int>(parts)), [&](size_t i) {
    ASSIGN_OR_RETURN(etags[i], UploadPart(key, upload_id, fd, i, chunk, size, hashes[i]));
    return Status::Ok();
  });
  if (st.ok()) st = CompleteUpload(key, upload_id, etags);
  // An upload left open keeps its parts (and their cost) on the bucket.
  if (!st.ok()) AbortUpload(key, upload_id);
  return st;
}

// Each part is signed with its own SHA-256. S3 never checks a multipart object
// against its whole hash, so that is checked here while reading: a file that
// no longer matches its oid must not be stored under it.
Result<std::vector<std::string>> S3Remote::HashParts(const Oid& oid, const std::string& path,
                                                     int fd, uint64_t size,
                                                     uint64_t chunk) const {
  std::vector<std::string> out;
  Sha256 whole, part;
  std::string buf(1 << 20, '\0');
  uint64_t off = 0, in_part = 0;
  while (off < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>({buf.size(), size - off, chunk - in_part}));
    ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::FromErrno("reading " + path, errno);
    if (got == 0) return Status::Io("reading " + path + ": file is shorter than its " +
                                    std::to_string(size) + " bytes");
    whole.Update(buf.data(), static_cast<size_t>(got));
    part.Update(buf.data(), static_cast<size_t>(got));
    off += static_cast<uint64_t>(got);
    in_part += static_cast<uint64_t>(got);
    if (in_part == chunk || off == size) {
      out.push_back(part.Finish().Hex());
      in_part = 0;
    }
  }
  if (whole.Finish() != oid)
    return Status::Corrupt("remote '" + name_ + "': " + path + " no longer hashes to " +
                           oid.Hex() + "; not uploading it");
  return out;
}

Result<std::string> S3Remote::CreateUpload(const std::string& key) const {
  S3Call c{"POST", key};
  c.query = {{"uploads", ""}};
  c.headers = {{"content-type", kContentType}};  // else curl says form data
  S3Reply r = Send(c);
  if (!r.ok()) return Failure(c, r);
  std::string id = XmlValue(r.http.body, "UploadId");
  if (id.empty())
    return Status::Remote("remote '" + name_ + "': S3 started a multipart upload of " + key +
                          " without an UploadId");
  return id;
}

Result<std::string> S3Remote::UploadPart(const std::string& key, const std::string& upload_id,
                                         int fd, size_t index, uint64_t chunk, uint64_t size,
                                         const std::string& sha256) const {
  S3Call c{"PUT", key};
  c.query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}};
  c.payload_sha256 = sha256;
  c.body_fd = fd;
  c.body_offset = index * chunk;
  c.body_size = std::min(chunk, size - c.body_offset);
  S3Reply r = Send(c);
  if (!r.ok()) return Failure(c, r);
  std::string etag = r.http.Header("etag");
  if (etag.empty())
    return Status::Remote("remote '" + name_ + "': S3 accepted part " + std::to_string(index + 1) +
                          " of " + key + " without an ETag");
  return etag;
}

Status S3Remote::CompleteUpload(const std::string& key, const std::string& upload_id,
                                const std::vector<std::string>& etags) const {
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < etags.size(); i++) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(etags[i]) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3Call c{"POST", key};
  c.query = {{"uploadId", upload_id}};
  c.headers = {{"content-type", "application/xml"}};
  c.payload_sha256 = HexSha256(xml);
  c.body = std::move(xml);
  return Check(c);
}

void S3Remote::AbortUpload(const std::string& key, const std::string& upload_id) const {
  S3Call c{"DELETE", key};
  c.query = {{"uploadId", upload_id}};
  Status st = Check(c);
  if (!st.ok() && st.code() != Code::kNotFound)
    LogWarn("could not abort the multipart upload of " + key + " (" + st.message() +
            "); a bucket lifecycle rule for incomplete uploads would clean it up");
}

}  // namespace

Result<std::unique_ptr<Remote>> OpenS3Remote(const RemoteConfig& cfg) {
  ASSIGN_OR_RETURN(S3Config s3, ParseS3Config(cfg));
  ASSIGN_OR_RETURN(S3Credentials creds, LoadS3Credentials(cfg.name, s3));
  return std::unique_ptr<Remote>(new S3Remote(cfg.name, std::move(s3), std::move(creds)));
}

}  // namespace forja
