#include "core/engine.hpp"

#include <cmath>

namespace batchproof::core {

std::optional<std::int64_t> Engine::kv_tokens() const {
  switch (kv.form) {
    case KvCache::Form::Unlimited: return std::nullopt;
    case KvCache::Form::Tokens: return kv.tokens;
    case KvCache::Form::Blocks: return kv.blocks * block_size;
    case KvCache::Form::Derived: {
      if (!profile.gpu_memory_bytes || !profile.weights_bytes || !profile.kv_bytes_per_token) return std::nullopt;
      double free_bytes = *profile.gpu_memory_bytes * memory_utilization - *profile.weights_bytes;
      if (free_bytes <= 0 || *profile.kv_bytes_per_token <= 0) return 0;
      auto tokens = static_cast<std::int64_t>(std::floor(free_bytes / *profile.kv_bytes_per_token));
      return tokens - tokens % block_size;  // whole blocks only
    }
  }
  return std::nullopt;
}

}  // namespace batchproof::core
