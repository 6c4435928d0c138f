#include "sim/random.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <utility>

namespace batchproof::sim {

namespace {

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The finaliser of splitmix64: a bijective mix of 64 bits.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  return mix(state);
}

Random::Random(std::uint64_t seed) {
  // splitmix64 never yields four zero words in a row, so the state is never all zero.
  for (auto& word : s_) word = splitmix64(seed);
}

Random Random::for_stream(std::uint64_t seed, std::uint64_t stream) {
  // Mixing both keeps (seed, stream) pairs apart: seed s, stream t and seed t, stream s differ.
  return Random(mix(seed) ^ mix(stream + 0x632BE59BD9B4E019ULL) ^ stream);
}

std::uint64_t Random::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Random::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Random::uniform_open() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }

std::int64_t Random::uniform_int(std::int64_t lo, std::int64_t hi) {
  if (hi < lo) std::swap(lo, hi);
  // The span in unsigned arithmetic, so lo = INT64_MIN, hi = INT64_MAX does not overflow.
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  std::uint64_t draw = next_u64();
  if (span != std::numeric_limits<std::uint64_t>::max()) {
    // Rejection from the smallest power-of-two range that covers the span: unbiased, and at
    // most two draws on average (modulo reduction would favour the small values).
    // The high bits of xoshiro256** are its best: shift them down rather than mask low bits.
    const int shift = std::countl_zero(span);  // 64 when span is 0
    while (true) {
      draw = shift == 64 ? 0 : draw >> shift;
      if (draw <= span) break;
      draw = next_u64();
    }
  }
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + draw);
}

double Random::exponential(double rate) {
  if (!(rate > 0)) return std::numeric_limits<double>::infinity();
  return -std::log(uniform_open()) / rate;
}

}  // namespace batchproof::sim
