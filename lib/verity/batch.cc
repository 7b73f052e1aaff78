#include "verity/batch.h"

#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256(): still in OpenSSL 3, and faster than EVP
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/error.h"

#if CFS_HAVE_IPSEC_MB
#define NO_COMPAT_IMB_API_053  // its old names (SHA1, ...) clash with OpenSSL's
#include <cpuid.h>
#include <intel-ipsec-mb.h>
#endif

namespace cfs::verity {
namespace {

void openssl_hash(HashAlgorithm a, const std::byte* data, std::size_t n, std::uint8_t* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  if (a == HashAlgorithm::kSha512) {
    SHA512(p, n, out);
  } else {
    SHA256(p, n, out);
  }
}

#if CFS_HAVE_IPSEC_MB
struct Cpu {
  bool avx2 = false, avx512 = false, sha_ni = false;
};

Cpu cpu() {
  Cpu c;
  unsigned a, b, cx, d;
  if (__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
    c.avx2 = b & (1U << 5);
    c.sha_ni = b & (1U << 29);
    // The AVX-512 manager needs F, DQ, BW and VL (its init crashes without them).
    c.avx512 = (b & (1U << 16)) && (b & (1U << 17)) && (b & (1U << 30)) && (b & (1U << 31));
  }
  return c;
}

// One manager per thread and engine, made on first use.
IMB_MGR* manager(HashEngine e) {
  struct Deleter {
    void operator()(IMB_MGR* m) const { free_mb_mgr(m); }
  };
  thread_local std::unique_ptr<IMB_MGR, Deleter> managers[4];
  auto& slot = managers[static_cast<int>(e)];
  if (!slot) {
    slot.reset(alloc_mb_mgr(0));
    if (!slot) throw Error(ENOMEM, "libipsec-mb: no manager");
    switch (e) {
      case HashEngine::kSse: init_mb_mgr_sse(slot.get()); break;
      case HashEngine::kAvx2: init_mb_mgr_avx2(slot.get()); break;
      case HashEngine::kAvx512: init_mb_mgr_avx512(slot.get()); break;
      case HashEngine::kOpenSsl: break;
    }
    if (imb_get_errno(slot.get()) != 0) throw Error(EIO, std::string("libipsec-mb: ") + imb_get_strerror(imb_get_errno(slot.get())));
  }
  return slot.get();
}

void check(IMB_JOB* job) {
  if (job != nullptr && job->status != IMB_STATUS_COMPLETED) throw Error(EIO, "libipsec-mb: a hash job failed");
}

void ipsec_hash_many(HashAlgorithm a, HashEngine e, std::span<const std::byte* const> messages, std::size_t length,
                     std::uint8_t* out) {
  IMB_MGR* m = manager(e);
  std::size_t size = digest_size(a);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    IMB_JOB* job = IMB_GET_NEXT_JOB(m);
    job->cipher_mode = IMB_CIPHER_NULL;
    job->chain_order = IMB_ORDER_HASH_CIPHER;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->hash_alg = a == HashAlgorithm::kSha512 ? IMB_AUTH_SHA_512 : IMB_AUTH_SHA_256;
    job->src = reinterpret_cast<const std::uint8_t*>(messages[i]);
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = length;
    job->auth_tag_output = out + i * size;
    job->auth_tag_output_len_in_bytes = size;
    check(IMB_SUBMIT_JOB(m));  // completes an earlier job (any order: each writes its own output)
  }
  while (IMB_JOB* job = IMB_FLUSH_JOB(m)) check(job);
}
#endif

bool runs_here(HashEngine e) {
  if (e == HashEngine::kOpenSsl) return true;
#if CFS_HAVE_IPSEC_MB
  static const Cpu c = cpu();
  switch (e) {
    case HashEngine::kSse: return true;
    case HashEngine::kAvx2: return c.avx2;
    case HashEngine::kAvx512: return c.avx512;
    case HashEngine::kOpenSsl: return true;
  }
#endif
  return false;
}

}  // namespace

std::string_view engine_name(HashEngine e) {
  switch (e) {
    case HashEngine::kOpenSsl: return "openssl";
    case HashEngine::kSse: return "sse";
    case HashEngine::kAvx2: return "avx2";
    case HashEngine::kAvx512: return "avx512";
  }
  return "?";
}

std::vector<HashEngine> available_engines() {
  std::vector<HashEngine> out;
  for (HashEngine e : {HashEngine::kOpenSsl, HashEngine::kSse, HashEngine::kAvx2, HashEngine::kAvx512}) {
    if (runs_here(e)) out.push_back(e);
  }
  return out;
}

HashEngine default_engine(HashAlgorithm algorithm) {
  static const HashEngine forced = [] {
    const char* env = std::getenv("CFS_HASH_ENGINE");
    if (env == nullptr || *env == '\0') return HashEngine::kOpenSsl;  // unused: not forced
    for (HashEngine e : {HashEngine::kOpenSsl, HashEngine::kSse, HashEngine::kAvx2, HashEngine::kAvx512}) {
      if (engine_name(e) == env) {
        if (!runs_here(e)) throw Error(ENOTSUP, std::string("CFS_HASH_ENGINE=") + env + ": not available on this machine");
        return e;
      }
    }
    throw Error(EINVAL, std::string("CFS_HASH_ENGINE=") + env + ": openssl, sse, avx2 or avx512");
  }();
  if (const char* env = std::getenv("CFS_HASH_ENGINE"); env != nullptr && *env != '\0') return forced;
  // Measured on a 2-core AVX2 + SHA-NI machine, 4 KiB blocks: SHA-256 — SSE manager (SHA-NI
  // lanes) 2.2x OpenSSL, AVX2 1.2x; SHA-512 — AVX2 2.2x OpenSSL, SSE 0.75x. AVX-512 is preferred
  // where the CPU has it (wider lanes; SHA-256 then still goes to SHA-NI when present).
  if (algorithm == HashAlgorithm::kSha256) {
#if CFS_HAVE_IPSEC_MB
    static const Cpu c = cpu();
    if (c.sha_ni) return HashEngine::kSse;
    if (c.avx512) return HashEngine::kAvx512;
    if (c.avx2) return HashEngine::kAvx2;
#endif
    return HashEngine::kOpenSsl;
  }
  if (runs_here(HashEngine::kAvx512)) return HashEngine::kAvx512;
  if (runs_here(HashEngine::kAvx2)) return HashEngine::kAvx2;
  return HashEngine::kOpenSsl;
}

void hash_many(HashAlgorithm algorithm, HashEngine engine, std::span<const std::byte* const> messages, std::size_t length,
               std::uint8_t* out) {
#if CFS_HAVE_IPSEC_MB
  if (engine != HashEngine::kOpenSsl && messages.size() > 1) {
    ipsec_hash_many(algorithm, engine, messages, length, out);
    return;
  }
#endif
  for (std::size_t i = 0; i < messages.size(); ++i) openssl_hash(algorithm, messages[i], length, out + i * digest_size(algorithm));
}

}  // namespace cfs::verity
