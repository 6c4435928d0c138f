// A decimal w / 10^f (w below 2^64, at most 19 fraction digits) as the nearest double, for the
// readers' fast paths (internal to traces/). Logs write their times with up to 17 significant
// digits (Python's repr: "0.15316000000000002"), past Clinger's fast path; on them from_chars
// took a fifth of the time of reading Vidur's batch CSV (perf), this takes one integer division
// (the whole audit of that CSV 6% faster; docs/benchmarks.md, "Audit").
#pragma once

#include <bit>
#include <cstdint>

namespace batchproof::traces::canonical {

namespace detail {

// Powers of ten at namespace scope (a table local to the function would be built on the
// stack at every call).
inline constexpr double kExactPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                          1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
inline constexpr std::uint64_t kTens[] = {1ull,
                                          10ull,
                                          100ull,
                                          1000ull,
                                          10000ull,
                                          100000ull,
                                          1000000ull,
                                          10000000ull,
                                          100000000ull,
                                          1000000000ull,
                                          10000000000ull,
                                          100000000000ull,
                                          1000000000000ull,
                                          10000000000000ull,
                                          100000000000000ull,
                                          1000000000000000ull,
                                          10000000000000000ull,
                                          100000000000000000ull,
                                          1000000000000000000ull,
                                          10000000000000000000ull};

// (hi·2^64 + lo) / d and its remainder, for hi < d (the quotient fits in 64 bits).
inline std::uint64_t divide_128(std::uint64_t hi, std::uint64_t lo, std::uint64_t d, std::uint64_t& remainder) {
#if defined(__x86_64__)
  std::uint64_t q = 0;
  __asm__("divq %4" : "=a"(q), "=d"(remainder) : "a"(lo), "d"(hi), "rm"(d));
  return q;
#else
  const unsigned __int128 n = (static_cast<unsigned __int128>(hi) << 64) | lo;
  remainder = static_cast<std::uint64_t>(n % d);
  return static_cast<std::uint64_t>(n / d);
#endif
}

}  // namespace detail

// The double nearest to w / 10^f (ties to even, as from_chars rounds), for f <= 19.
//  - w < 2^53 and f <= 22: both are exact doubles, and one division rounds correctly (Clinger).
//  - otherwise w, shifted so that the quotient has 63 or 64 bits, is divided by 10^f (below
//    2^64) as integers; the quotient's top 53 bits are the double's, rounded by the bits below
//    them and whether the division left a remainder. Every such quotient lies between 10^-19
//    and 2^64: a normal double, its exponent field built directly.
inline double exact_decimal(std::uint64_t w, unsigned f) {
  if (w < (std::uint64_t{1} << 53)) return static_cast<double>(w) / detail::kExactPowers[f];
  const std::uint64_t p = detail::kTens[f];
  const int lz = std::countl_zero(w);        // 0 to 10 (w >= 2^53)
  const std::uint64_t top = w << lz;          // in [2^63, 2^64)
  const int k = std::bit_width(p) - 1;        // 2^k <= p < 2^(k+1)
  // (top·2^k) / p lies in (2^62, 2^64): the high word top >> (64 - k) is below p.
  const std::uint64_t hi = k == 0 ? 0 : top >> (64 - k);
  const std::uint64_t lo = top << k;
  std::uint64_t remainder = 0;
  const std::uint64_t q = detail::divide_128(hi, lo, p, remainder);
  // w / 10^f = (q + remainder / p) · 2^-(k + lz).
  int drop = std::bit_width(q) - 53;  // 10 or 11 bits below the double's
  std::uint64_t mantissa = q >> drop;
  const std::uint64_t rest = q & ((std::uint64_t{1} << drop) - 1);
  const std::uint64_t half = std::uint64_t{1} << (drop - 1);
  if (rest > half || (rest == half && (remainder != 0 || (mantissa & 1) != 0))) ++mantissa;
  if (mantissa == (std::uint64_t{1} << 53)) {
    mantissa >>= 1;
    ++drop;
  }
  // mantissa · 2^(drop - k - lz), mantissa in [2^52, 2^53).
  const auto biased = static_cast<std::uint64_t>(1023 + 52 + drop - k - lz);
  return std::bit_cast<double>((biased << 52) | (mantissa & ((std::uint64_t{1} << 52) - 1)));
}

}  // namespace batchproof::traces::canonical
