// Request-body bytes in memory, server-wide (ServerOptions::max_body_bytes_in_flight), for
// HTTP/1.1 bodies (http_server.cc) and HTTP/2 streams (h2_session.cc) alike. Internal to
// forja_net.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace forja::net::detail {

// Bodies up to this size are not counted against the budget: a connection's own buffers
// bound them (an HTTP/1.1 connection reads one at a time; an HTTP/2 one at most
// max_concurrent_streams).
constexpr uint64_t kUncountedBody = 64 * 1024;

struct BodyBudget {
  std::atomic<uint64_t> used{0};
  uint64_t max = 0;  // 0: no budget

  // A body's charge raised from *charged to `bytes` (nothing under kUncountedBody, never
  // lowered). False when the server is now over its budget: the caller refuses the request
  // and releases what it charged.
  bool Grow(uint64_t* charged, uint64_t bytes) {
    if (max == 0 || bytes <= kUncountedBody || bytes <= *charged) return true;
    uint64_t delta = bytes - *charged;
    uint64_t before = used.fetch_add(delta);
    *charged = bytes;
    return before + delta <= max;
  }
  void Release(uint64_t* charged) {
    if (*charged > 0) used.fetch_sub(*charged);
    *charged = 0;
  }
};

// The 503's message for a `bytes`-byte body the budget refused (just charged by Grow, so
// `used` counts it too).
inline std::string OverBudget(const BodyBudget& b, uint64_t bytes) {
  return "request bodies in memory would reach " + std::to_string(b.used.load()) + " bytes with this " +
         std::to_string(bytes) + "-byte one, over the server's limit of " + std::to_string(b.max) + "; retry later";
}

}  // namespace forja::net::detail
