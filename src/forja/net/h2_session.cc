// HTTP/2 over nghttp2 (h2_session.h). nghttp2 does the framing, HPACK, flow control and the
// protocol's own checks (pseudo-headers, stream states, floods); this file keeps each
// stream's request while it arrives, applies forja's limits, and turns answers into frames.
//
// Notes on the less obvious choices:
//  - Streams live in a map owned by the session, not only in nghttp2's stream user data:
//    nghttp2_session_del does not call on_stream_close, so a connection that dies with
//    streams open would otherwise leak them.
//  - A refused stream (431, 413, the head check's refusal) is answered and, once the answer
//    has left, reset with NO_ERROR, which RFC 9113 section 8.1 allows and which tells the
//    client to stop sending the body.
//  - Flow-control windows are raised from 64 KiB to 1 MiB per stream and 16 MiB per
//    connection: a 64-row request must not wait a round trip for a WINDOW_UPDATE. Memory
//    stays bounded by the per-stream body limit times SETTINGS_MAX_CONCURRENT_STREAMS.
//  - nghttp2 allocates a dozen small blocks per call (the stream, each outgoing frame, copies
//    of header fields); they come from the session's own free lists (BlockCache), so a call
//    reuses the blocks of the one before instead of going through malloc and free each time.
#include "forja/net/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "forja/core/log.h"

namespace forja::net::detail {

// nghttp2's memory (nghttp2_mem) for one session: blocks of 64 bytes to 2 KiB in size classes,
// each class keeping up to kKept freed blocks for the next request of its size; larger blocks
// go straight to malloc. A block starts with a 16-byte head (its class and capacity), which
// keeps the caller's part aligned as malloc's is.
class H2Session::BlockCache {
 public:
  BlockCache() {
    for (auto& list : free_) list.reserve(kKept);
  }
  ~BlockCache() {
    for (auto& list : free_)
      for (void* b : list) std::free(b);
  }
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  nghttp2_mem* mem() { return &mem_; }

 private:
  struct Head {
    uint32_t size_class;  // kClasses: not cached
    uint64_t capacity;
  };
  static_assert(sizeof(Head) == 16);
  static constexpr int kClasses = 6;  // 64 << 0 .. 64 << 5 = 2 KiB
  static constexpr size_t kKept = 32;

  void* Alloc(size_t n) {
    uint32_t c = 0;
    while (c < kClasses && (size_t{64} << c) < n) c++;
    void* block;
    if (c < kClasses && !free_[c].empty()) {
      block = free_[c].back();
      free_[c].pop_back();
    } else {
      size_t capacity = c < kClasses ? size_t{64} << c : n;
      block = std::malloc(sizeof(Head) + capacity);
      if (block == nullptr) return nullptr;
      *static_cast<Head*>(block) = Head{c, capacity};
    }
    return static_cast<Head*>(block) + 1;
  }
  void Free(void* p) {
    if (p == nullptr) return;
    Head* h = static_cast<Head*>(p) - 1;
    if (h->size_class < kClasses && free_[h->size_class].size() < kKept) {
      free_[h->size_class].push_back(h);
    } else {
      std::free(h);
    }
  }
  void* Realloc(void* p, size_t n) {
    if (p == nullptr) return Alloc(n);
    Head* h = static_cast<Head*>(p) - 1;
    if (n <= h->capacity) return p;
    void* q = Alloc(n);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, h->capacity);
    Free(p);
    return q;
  }

  static BlockCache* Self(void* p) { return static_cast<BlockCache*>(p); }
  static void* Malloc(size_t n, void* self) { return Self(self)->Alloc(n); }
  static void FreeBlock(void* p, void* self) { Self(self)->Free(p); }
  static void* Calloc(size_t count, size_t size, void* self) {
    if (size != 0 && count > SIZE_MAX / size) return nullptr;
    void* p = Self(self)->Alloc(count * size);
    if (p != nullptr) std::memset(p, 0, count * size);
    return p;
  }
  static void* ReallocBlock(void* p, size_t n, void* self) { return Self(self)->Realloc(p, n); }

  std::array<std::vector<void*>, kClasses> free_;
  nghttp2_mem mem_{this, Malloc, FreeBlock, Calloc, ReallocBlock};
};

struct H2Session::Stream {
  Request req;
  size_t header_bytes = 0;
  size_t fields = 0;  // req.headers in use: the rest are kept fields whose strings are reused
  uint64_t limit = 0;
  bool length_prefixed = false;  // HeadDecision::length_prefixed
  bool receiving = true;   // the request has not all arrived (and was not refused)
  bool refused = false;    // answered by the session itself: later bytes are dropped
  bool responded = false;
  bool reset_after = false;  // send RST_STREAM(NO_ERROR) once the answer has left
  uint64_t charged = 0;      // req.body's bytes counted against the budget
  std::string body;          // the answer's body, as it leaves
  size_t sent = 0;
  std::vector<std::pair<std::string, std::string>> trailers;
};

namespace {

// `once`: a value unlikely to repeat (a request id) stays out of HPACK's dynamic table, where
// it would only push out the fields that do repeat.
nghttp2_nv Nv(const std::string& name, const std::string& value, bool once = false) {
  nghttp2_nv nv;
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = once ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE;
  return nv;
}

// A handler's header is sent only if it is a valid HTTP/2 field: lower-case name, no CR, LF
// or NUL, none of the connection-specific fields HTTP/2 forbids.
bool SendableField(std::string* name, std::string_view value) {
  if (name->empty()) return false;
  for (char& ch : *name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
    if (c >= 'A' && c <= 'Z') ch = static_cast<char>(c + 32);
  }
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == 0) return false;
  return *name != "connection" && *name != "transfer-encoding" && *name != "keep-alive" && *name != "upgrade" &&
         *name != "content-length";
}

// An answer's header fields for nghttp2 (which copies them): on the stack up to 8, as many
// as a gRPC answer has, instead of a vector allocated per answer.
class FieldList {
 public:
  explicit FieldList(size_t most) {
    if (most > fixed_.size()) more_.reserve(most);
  }
  void Add(const nghttp2_nv& nv) {
    if (more_.capacity() > 0) {
      more_.push_back(nv);
    } else {
      fixed_[size_++] = nv;
    }
  }
  const nghttp2_nv* data() const { return more_.capacity() > 0 ? more_.data() : fixed_.data(); }
  size_t size() const { return more_.capacity() > 0 ? more_.size() : size_; }

 private:
  std::array<nghttp2_nv, 8> fixed_;
  size_t size_ = 0;
  std::vector<nghttp2_nv> more_;
};

// How many closed streams and used requests a connection keeps for reuse, and the largest
// body buffer kept with a request (a 64-row call's is about 8 KiB): at most 128 KiB per
// connection, and only after that many calls were in flight on it at once.
constexpr size_t kSpares = 8;
constexpr size_t kKeptBody = 16 * 1024;

// Empties a request for reuse, keeping its buffers. Its header fields stay (Stream::fields
// counts those in use): a later stream assigns into their strings instead of allocating a
// value such as "application/grpc" (over the small-string size) per call.
void Empty(Request* r) {
  r->method.clear();
  r->target.clear();
  r->path.clear();
  r->query.clear();
  if (r->body.capacity() > kKeptBody) std::string().swap(r->body);
  r->body.clear();
  r->request_id.clear();
  r->peer.clear();
  r->minor_version = 1;
  r->keep_alive = true;
}

// X-Request-Id's rules (http_parser.cc): 1-128 visible ASCII characters.
bool SaneRequestId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (unsigned char c : v)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

// nghttp2's callbacks, friends of the session.
struct H2Callbacks {
  static H2Session* Self(void* p) { return static_cast<H2Session*>(p); }

  static int BeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Session* self = Self(p);
    std::unique_ptr<H2Session::Stream> s;
    if (self->spare_streams_.empty()) {
      s = std::make_unique<H2Session::Stream>();
    } else {
      s = std::move(self->spare_streams_.back());
      self->spare_streams_.pop_back();
    }
    if (!self->spare_requests_.empty()) {
      s->req = std::move(self->spare_requests_.back());
      self->spare_requests_.pop_back();
    }
    s->limit = self->limits_.max_body_bytes;
    self->streams_.push_back({frame->hd.stream_id, std::move(s)});
    self->receiving_++;
    return 0;
  }

  static int Header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                    const uint8_t* value, size_t valuelen, uint8_t, void* p) {
    H2Session* self = Self(p);
    H2Session::Stream* s = self->Find(frame->hd.stream_id);
    if (s == nullptr || s->refused) return 0;
    s->header_bytes += namelen + valuelen + 32;  // HPACK's size of a field
    if (s->header_bytes > self->limits_.max_header_bytes) {
      s->req.headers.clear();
      s->fields = 0;
      s->header_bytes = self->limits_.max_header_bytes + 1;  // stays over; answered when the block ends
      return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: counted, not kept
    std::string_view n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    Request& req = s->req;
    if (n == ":method") {
      req.method = v;
    } else if (n == ":path") {
      req.target = v;
      std::string_view path = v.substr(0, v.find('?'));
      if (v.size() > path.size()) req.query = v.substr(path.size() + 1);
      if (!PercentDecode(path, false, &req.path) || req.path.find('\0') != std::string::npos) req.path.clear();
    } else if (!n.empty() && n[0] != ':') {
      if (n == "x-request-id" && SaneRequestId(v)) req.request_id = v;
      if (s->fields < req.headers.size()) {
        req.headers[s->fields].first.assign(n);
        req.headers[s->fields].second.assign(v);
      } else {
        req.headers.emplace_back(n, v);
      }
      s->fields++;
    }
    return 0;
  }

  static int FrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    H2Session* self = Self(p);
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    int32_t id = frame->hd.stream_id;
    H2Session::Stream* s = self->Find(id);
    if (s == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self->HeadersDone(id, s, end);
    } else if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end) {
      self->Complete(id, s);
    }
    return 0;
  }

  static int DataChunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* p) {
    H2Session* self = Self(p);
    H2Session::Stream* s = self->Find(id);
    if (s == nullptr || !s->receiving) return 0;
    uint64_t size = s->req.body.size() + len;
    if (size > s->limit) {
      self->Refuse(id, s, 413, "the request body is over the limit of " + std::to_string(s->limit) + " bytes",
                   /*end_stream=*/false);
      return 0;
    }
    if (BodyBudget* b = self->limits_.budget; b != nullptr && !b->Grow(&s->charged, size)) {
      self->Refuse(id, s, 503, OverBudget(*b, size), /*end_stream=*/false);
      return 0;
    }
    size_t before = s->req.body.size();
    s->req.body.append(reinterpret_cast<const char*>(data), len);
    if (s->length_prefixed && before < 5 && s->req.body.size() >= 5) {
      auto* b = reinterpret_cast<const unsigned char*>(s->req.body.data());
      uint64_t message = (uint64_t{b[1]} << 24) | (uint64_t{b[2]} << 16) | (uint64_t{b[3]} << 8) | b[4];
      if (5 + message > s->limit)
        self->Refuse(id, s, 413, "the message is " + std::to_string(message) + " bytes; the limit is " +
                                     std::to_string(s->limit - 5), /*end_stream=*/false);
    }
    return 0;
  }

  static int StreamClose(nghttp2_session*, int32_t id, uint32_t, void* p) {
    H2Session* self = Self(p);
    auto& open = self->streams_;
    auto it = std::find_if(open.begin(), open.end(), [id](const H2Session::Open& o) { return o.id == id; });
    if (it == open.end()) return 0;
    if (it->stream->receiving) self->receiving_--;
    self->Release(&it->stream->charged);
    if (self->spare_streams_.size() < kSpares) {
      *it->stream = H2Session::Stream();
      self->spare_streams_.push_back(std::move(it->stream));
    }
    if (it + 1 != open.end()) *it = std::move(open.back());  // the order of open streams does not matter
    open.pop_back();
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2Session::Stream*>(source->ptr);
    size_t n = std::min(length, s->body.size() - s->sent);
    std::copy_n(s->body.data() + s->sent, n, buf);
    s->sent += n;
    if (s->sent < s->body.size()) return static_cast<ssize_t>(n);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!s->trailers.empty()) {
      FieldList nv(s->trailers.size());
      for (auto& [k, v] : s->trailers)
        if (SendableField(&k, v)) nv.Add(Nv(k, v));
      if (nghttp2_submit_trailer(session, id, nv.data(), nv.size()) == 0) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return static_cast<ssize_t>(n);
  }

  // The answer to a refused stream has left: now tell the client to stop sending (a reset
  // submitted earlier would keep the answer from being sent at all).
  static int FrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* p) {
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    H2Session::Stream* s = Self(p)->Find(frame->hd.stream_id);
    if (s != nullptr && s->reset_after) nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
  }
};

H2Session::H2Session(H2Limits limits, HeadCheck head_check, std::function<Response(int, std::string_view)> error)
    : limits_(limits), head_check_(std::move(head_check)), error_(std::move(error)),
      blocks_(std::make_unique<BlockCache>()) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, H2Callbacks::BeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, H2Callbacks::Header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, H2Callbacks::FrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, H2Callbacks::DataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, H2Callbacks::StreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, H2Callbacks::FrameSend);
  // Closed streams are not kept for RFC 7540's priority tree, which forja does not use (it
  // answers in the order answers come): less work and memory per call.
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_closed_streams(option, 1);
  nghttp2_session_server_new3(&session_, cbs, this, option, blocks_->mem());
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(std::min<size_t>(limits_.max_header_bytes, 1u << 30))},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 16 << 20);
}

H2Session::~H2Session() {
  nghttp2_session_del(session_);
  for (Open& o : streams_) Release(&o.stream->charged);
  for (H2Request& r : ready_) Release(&r.charged);
}

void H2Session::Release(uint64_t* charged) {
  if (limits_.budget) limits_.budget->Release(charged);
}

H2Session::Stream* H2Session::Find(int32_t id) const {
  for (size_t i = streams_.size(); i-- > 0;)
    if (streams_[i].id == id) return streams_[i].stream.get();
  return nullptr;
}

bool H2Session::Receive(std::string_view data) {
  ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (n >= 0) return true;
  nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  return false;
}

std::vector<H2Request>& H2Session::TakeReady() {
  taken_.clear();
  taken_.swap(ready_);
  return taken_;
}

void H2Session::Recycle(Request&& used) {
  if (spare_requests_.size() >= kSpares) return;
  Empty(&used);
  spare_requests_.push_back(std::move(used));
}

void H2Session::HeadersDone(int32_t id, Stream* s, bool end_stream) {
  if (s->refused) return;
  s->req.headers.resize(s->fields);  // the fields a reused request kept beyond this block's
  if (s->header_bytes > limits_.max_header_bytes) {
    Refuse(id, s, 431, "the request's header block is over " + std::to_string(limits_.max_header_bytes) + " bytes",
           end_stream);
    return;
  }
  if (s->req.path.empty()) {
    Refuse(id, s, 400, "the :path is not a valid path", end_stream);
    return;
  }
  if (head_check_ && !end_stream) {
    HeadDecision d;
    try {
      d = head_check_(s->req);
    } catch (const std::exception& e) {
      LogError("http/2 head check for " + s->req.path + " threw: " + e.what());
      Refuse(id, s, 500, "the request could not be checked", end_stream);
      return;
    }
    if (d.refuse) {
      Respond(id, *d.refuse);
      FinishRefusal(s, end_stream);
      return;
    }
    if (d.max_body_bytes > 0) s->limit = std::min(s->limit, d.max_body_bytes);
    s->length_prefixed = d.length_prefixed;
  }
  if (end_stream) Complete(id, s);
}

void H2Session::Complete(int32_t id, Stream* s) {
  if (!s->receiving) return;
  s->receiving = false;
  receiving_--;
  ready_.push_back(H2Request{id, std::move(s->req), std::exchange(s->charged, 0)});
}

void H2Session::Refuse(int32_t id, Stream* s, int status, std::string_view message, bool end_stream) {
  Response r = error_(status, message);
  Respond(id, r);
  FinishRefusal(s, end_stream);
}

// The stream was answered by the session: no request comes out of it, and a client still
// sending its body is told to stop.
void H2Session::FinishRefusal(Stream* s, bool end_stream) {
  s->refused = true;
  if (s->receiving) {
    s->receiving = false;
    receiving_--;
  }
  std::string().swap(s->req.body);
  Release(&s->charged);
  s->reset_after = !end_stream;
}

void H2Session::Respond(int32_t id, Response& r) {
  Stream* s = Find(id);
  if (s == nullptr || s->responded) return;
  s->responded = true;
  std::string status = std::to_string(r.status);
  static const std::string kStatus = ":status", kContentType = "content-type";
  FieldList nv(2 + r.headers.size() + r.trailers.size());
  nv.Add(Nv(kStatus, status));
  if (!r.content_type.empty()) nv.Add(Nv(kContentType, r.content_type));
  for (auto& [k, v] : r.headers)
    if (SendableField(&k, v)) nv.Add(Nv(k, v, k == "x-request-id"));
  if (r.body.empty()) {
    for (auto& [k, v] : r.trailers)
      if (SendableField(&k, v)) nv.Add(Nv(k, v));
    nghttp2_submit_response(session_, id, nv.data(), nv.size(), nullptr);
    return;
  }
  s->body = std::move(r.body);
  s->trailers = std::move(r.trailers);
  nghttp2_data_provider body;
  body.source.ptr = s;
  body.read_callback = H2Callbacks::ReadBody;
  nghttp2_submit_response(session_, id, nv.data(), nv.size(), &body);
}

void H2Session::GoAway() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

bool H2Session::Send(std::string* out) {
  while (true) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool H2Session::Finished() const { return !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_); }

}  // namespace forja::net::detail
