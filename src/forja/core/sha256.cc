#include "forja/core/sha256.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace forja {

namespace {
constexpr char kHex[] = "0123456789abcdef";
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string Oid::Hex() const {
  std::string s(64, '0');
  for (size_t i = 0; i < 32; i++) {
    s[2 * i] = kHex[bytes[i] >> 4];
    s[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return s;
}

std::optional<Oid> Oid::FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Oid o;
  for (size_t i = 0; i < 32; i++) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    o.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return o;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(ctx_, data, n); }

Oid Sha256::Finish() {
  Oid o;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, o.bytes.data(), &len);
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  return o;
}

Oid Sha256::Of(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.Finish();
}

Result<Oid> HashFd(int fd, const std::string& name, const std::function<void(size_t)>& progress,
                   int64_t expected_size) {
  // 1 MiB reads: large enough that syscalls vanish next to hashing, small enough for the L2.
  constexpr size_t kBuf = 1 << 20;
  thread_local std::unique_ptr<char[]> buf(new char[kBuf]);
  Sha256 h;
  uint64_t total = 0;
  for (;;) {
    if (expected_size >= 0 && total == static_cast<uint64_t>(expected_size)) break;
    ssize_t n = ::read(fd, buf.get(), kBuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + name, errno);
    }
    if (n == 0) break;
    h.Update(buf.get(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
    if (progress) progress(static_cast<size_t>(n));
  }
  return h.Finish();
}

}  // namespace forja
