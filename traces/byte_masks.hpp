// Sixty-four bytes classified at once, one bit per byte (bit i for byte i), for the readers'
// fast paths (internal to traces/): which are digits, which are a given byte. SSE2 where there
// is SSE2 (every x86-64), a plain loop elsewhere.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace batchproof::traces::canonical {

#if defined(__SSE2__)
namespace detail {
inline std::uint64_t bits(__m128i x) { return static_cast<std::uint16_t>(_mm_movemask_epi8(x)); }
inline __m128i load(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
}  // namespace detail
#endif

// The bytes of the 64 readable bytes at `p` equal to `c`.
inline std::uint64_t byte_mask(const char* p, char c) {
  std::uint64_t m = 0;
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(c);
  for (int i = 0; i < 4; ++i) m |= detail::bits(_mm_cmpeq_epi8(detail::load(p + 16 * i), wanted)) << (16 * i);
#else
  for (int i = 0; i < 64; ++i) m |= static_cast<std::uint64_t>(p[i] == c) << i;
#endif
  return m;
}

// The ASCII digits among the 64 readable bytes at `p`.
inline std::uint64_t digit_mask(const char* p) {
  std::uint64_t m = 0;
#if defined(__SSE2__)
  // Signed compares: bytes past 0x7f are negative, below '0'.
  const __m128i below = _mm_set1_epi8('0' - 1), above = _mm_set1_epi8('9' + 1);
  for (int i = 0; i < 4; ++i) {
    const __m128i v = detail::load(p + 16 * i);
    m |= detail::bits(_mm_and_si128(_mm_cmpgt_epi8(v, below), _mm_cmplt_epi8(v, above))) << (16 * i);
  }
#else
  for (int i = 0; i < 64; ++i) m |= static_cast<std::uint64_t>(p[i] >= '0' && p[i] <= '9') << i;
#endif
  return m;
}

}  // namespace batchproof::traces::canonical
