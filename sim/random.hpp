// The simulator's random numbers: xoshiro256** seeded through splitmix64, with its own
// uniform, integer and exponential draws. std:: distributions are avoided on purpose: their
// algorithms are left to each standard library, so the same seed would give different runs
// under libstdc++ and libc++; these draws are the same bits everywhere.
#pragma once

#include <array>
#include <cstdint>

namespace batchproof::sim {

// One step of splitmix64 (Vigna): advances `state` and returns the next output. Used to
// expand a 64-bit seed into xoshiro's 256-bit state, as its authors recommend.
std::uint64_t splitmix64(std::uint64_t& state);

class Random {
 public:
  explicit Random(std::uint64_t seed);
  // An independent generator for `stream` (arrival gaps, class picks, prompt lengths, ...)
  // under one seed, so that changing how one stream is used leaves the others' draws alone.
  static Random for_stream(std::uint64_t seed, std::uint64_t stream);

  std::uint64_t next_u64();
  // Uniform on [0, 1), multiples of 2^-53.
  double uniform();
  // Uniform on (0, 1], for logarithms.
  double uniform_open();
  // Uniform on the integers lo..hi inclusive (bounds swapped if reversed), without bias.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // Exp(rate): mean 1/rate; +inf when rate is not positive.
  double exponential(double rate);

 private:
  std::array<std::uint64_t, 4> s_;
};

}  // namespace batchproof::sim
