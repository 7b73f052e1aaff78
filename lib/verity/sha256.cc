#include "verity/sha256.h"

#include <openssl/evp.h>

#include <algorithm>

#include "base/error.h"

namespace cfs::verity {

struct Sha256::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
  void init() {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw Error(ENOMEM, "SHA-256");
  }
};

Sha256::Sha256() : s_(std::make_unique<State>()) { s_->init(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> data) { EVP_DigestUpdate(s_->ctx, data.data(), data.size()); }

std::string Sha256::finish() {
  unsigned char md[32];
  unsigned len = 0;
  EVP_DigestFinal_ex(s_->ctx, md, &len);
  s_->init();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string sha256_digest(std::span<const std::byte> data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

bool is_sha256_digest(std::string_view s) {
  return s.size() == 71 && s.starts_with("sha256:") &&
         std::all_of(s.begin() + 7, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace cfs::verity
