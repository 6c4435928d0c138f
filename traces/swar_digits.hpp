// ASCII digits eight at a time in one 64-bit word (SWAR), for the readers' fast paths
// (internal to traces/): how many bytes of a word are digits, and their value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace batchproof::traces::canonical {

template <class Word>
Word word(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// How many of the 8 bytes of `w` (in memory order: little-endian) are ASCII digits before
// the first that is not (8: all are). A byte is a digit when its high nibble is 3 and adding
// 6 leaves it 3 (so its low nibble is at most 9); a carry out of a byte only reaches bytes
// after it, past the first non-digit, whose verdicts are not used.
inline std::size_t leading_digits(std::uint64_t w) {
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ull, kThrees = 0x3333333333333333ull;
  const std::uint64_t x = ((w & kHigh) | (((w + 0x0606060606060606ull) & kHigh) >> 4)) ^ kThrees;
  // 0x80 in every byte of x that is not zero (no carry crosses bytes: at most 0x7F + 0x7F).
  const std::uint64_t nonzero = (((x & 0x7F7F7F7F7F7F7F7Full) + 0x7F7F7F7F7F7F7F7Full) | x) & 0x8080808080808080ull;
  return nonzero == 0 ? 8 : static_cast<std::size_t>(__builtin_ctzll(nonzero)) / 8;
}

// The value of the first `n` (< 8) bytes of `w`, all digits: they are moved to the top of the
// word (the bytes below become leading zeros) and combined in pairs, fours and eights.
inline std::uint64_t digits_value(std::uint64_t w, std::size_t n) {
  // One or two digits (token counts, small ids) are the most common: no multiplies chained.
  if (n == 1) return (w & 0xFF) - '0';
  if (n == 2) return ((w & 0xFF) - '0') * 10 + (((w >> 8) & 0xFF) - '0');
  if (n == 0) return 0;
  std::uint64_t v = (w - 0x3030303030303030ull) << (8 * (8 - n));
  v = (v * 10) + (v >> 8);
  v = (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
      32;
  return v;
}

// The same for `n` from 1 to 8, without a branch: for numbers read apart from each other,
// where a branch on each one's length would be mispredicted. (A larger `n` gives a value that
// means nothing, for a caller that computes it before it knows to read the number otherwise:
// the shift is kept within the word, as the hardware keeps it.)
inline std::uint64_t digits_of(std::uint64_t w, std::size_t n) {
  std::uint64_t v = (w - 0x3030303030303030ull) << ((8 * (8 - n)) & 63);
  v = (v * 10) + (v >> 8);
  return (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
          (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
         32;
}

}  // namespace batchproof::traces::canonical
