// SHA-256 through OpenSSL's EVP interface (which uses SHA-NI when the CPU has it),
// and Oid, the 32-byte name of every object forja stores.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "forja/core/status.h"

struct evp_md_ctx_st;

namespace forja {

struct Oid {
  std::array<uint8_t, 32> bytes{};

  std::string Hex() const;
  // Accepts exactly 64 lowercase or uppercase hex digits.
  static std::optional<Oid> FromHex(std::string_view hex);
  bool operator==(const Oid& o) const { return bytes == o.bytes; }
  bool operator!=(const Oid& o) const { return bytes != o.bytes; }
  bool operator<(const Oid& o) const { return bytes < o.bytes; }
};

struct OidHash {
  size_t operator()(const Oid& o) const {
    size_t h;
    std::memcpy(&h, o.bytes.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t n);
  Oid Finish();  // the hasher can be reused after Finish

  static Oid Of(std::string_view data);

 private:
  evp_md_ctx_st* ctx_;
};

// Hashes an open file descriptor from its current offset to EOF, or only
// `expected_size` bytes when given (the caller re-checks the size afterwards;
// this saves the read that would find EOF). `bytes_read` reports progress.
Result<Oid> HashFd(int fd, const std::string& name_for_errors,
                   const std::function<void(size_t)>& bytes_read = {},
                   int64_t expected_size = -1);

}  // namespace forja
