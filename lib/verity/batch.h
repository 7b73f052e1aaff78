// Many equal-length messages hashed at once — the blocks of one fs-verity Merkle level are
// independent, so they need not wait for each other. libipsec-mb's multi-buffer managers hash
// several streams together (SHA-NI lanes in its SSE manager, AVX2 and AVX-512 lanes);
// OpenSSL hashes them one after another where the library or the CPU lacks them. The engine
// is chosen once from the CPU, or by CFS_HASH_ENGINE=openssl|sse|avx2|avx512 (tests run every
// path). Layer: verity. Thread-safe: each thread has its own manager.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/digest.h"

namespace cfs::verity {

enum class HashEngine { kOpenSsl, kSse, kAvx2, kAvx512 };

std::string_view engine_name(HashEngine e);
// The engines this build and this CPU can run.
std::vector<HashEngine> available_engines();
// What a Hasher uses for `algorithm`: CFS_HASH_ENGINE when set (Error if it cannot run here),
// else the fastest measured for that algorithm on this kind of CPU.
HashEngine default_engine(HashAlgorithm algorithm);

// Messages worth giving hash_many() at once (the widest manager's lanes).
inline constexpr std::size_t kBatchWidth = 16;

// out[i * digest_size(algorithm) ...] = hash(messages[i][0, length)) for every i.
void hash_many(HashAlgorithm algorithm, HashEngine engine, std::span<const std::byte* const> messages,
               std::size_t length, std::uint8_t* out);

}  // namespace cfs::verity
