// Plain SHA-256 of a byte stream, as OCI names content ("sha256:<64 hex>"): blobs, diff_ids,
// manifests, configs. Layer: verity.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cfs::verity {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const std::byte> data);
  // "sha256:<hex>"; the hasher starts over afterwards.
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

std::string sha256_digest(std::span<const std::byte> data);
inline std::string sha256_digest(std::string_view s) { return sha256_digest(std::as_bytes(std::span(s))); }

// "sha256:" and 64 lowercase hex digits: the only digests OCI content is named by here.
bool is_sha256_digest(std::string_view s);

}  // namespace cfs::verity
