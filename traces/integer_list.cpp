#include "traces/integer_list.hpp"

#include <algorithm>
#include <cstring>

#include "traces/byte_masks.hpp"
#include "traces/swar_digits.hpp"

namespace batchproof::traces::canonical {

namespace {

constexpr std::size_t kChunk = 64;  // bytes classified at once: one bit each in a word

// One bit per byte of a chunk.
struct Masks {
  std::uint64_t digit = 0, comma = 0, space = 0, zero = 0;
  std::uint64_t other = 0;  // none of those (set by chunk_masks)
};

// The masks of 64 readable bytes at `p`.
Masks classify(const char* p) {
  Masks m;
  m.digit = digit_mask(p);
  m.comma = byte_mask(p, ',');
  m.space = byte_mask(p, ' ');
  m.zero = byte_mask(p, '0');
  return m;
}

bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// A number digit by digit: false for a leading zero and for more than 18 digits (they may
// not fit: the caller's exact path decides).
bool long_number(const char* q, const char* end, std::int64_t& out) {
  std::uint64_t value = 0;
  std::size_t n = 0;
  for (; q + n < end && is_digit(q[n]); ++n) {
    if (n == 18) return false;
    value = value * 10 + static_cast<unsigned>(q[n] - '0');
  }
  if (n > 1 && *q == '0') return false;
  out = static_cast<std::int64_t>(value);
  return true;
}

// The masks of the chunk at `at`, `n` (1 to 64) bytes of the list, of a text ending at `end`.
Masks chunk_masks(const char* at, std::size_t n, const char* end) {
  Masks m;
  if (static_cast<std::size_t>(end - at) >= kChunk) {
    m = classify(at);
  } else {  // the text ends within 64 bytes: a padded copy
    char padded[kChunk] = {};
    std::memcpy(padded, at, n);
    m = classify(padded);
  }
  const std::uint64_t in = n == kChunk ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  m.digit &= in;
  m.comma &= in;
  m.space &= in;
  m.zero &= in;
  m.other = in & ~(m.digit | m.comma | m.space);
  return m;
}

}  // namespace

const char* read_plain_integer_list(const char* p, const char* end, ListSeparator sep, std::vector<std::int64_t>& out) {
  out.clear();
  if (p >= end || *p != '[') return nullptr;
  const char* first = p + 1;
  const auto* close = static_cast<const char*>(std::memchr(first, ']', static_cast<std::size_t>(end - first)));
  if (close == nullptr) return nullptr;
  if (close == first) return close + 1;  // []
  // A digit first and last; in between, the masks say the rest.
  if (!is_digit(*first) || !is_digit(close[-1])) return nullptr;
  const bool spaced = sep == ListSeparator::CommaSpace;
  const auto length = static_cast<std::size_t>(close - first);
  // The chunks in turn, each checked and then read with the next one's masks at hand (a
  // number's digits may run into it). The top bits of the previous chunk's masks carry a run,
  // a comma or a space across the border.
  std::uint64_t digit_before = 0, comma_before = 0, space_before = 0;
  Masks m = chunk_masks(first, std::min(kChunk, length), end);
  // Room for as many numbers as the list can hold (a digit and a separator each), cut to what
  // was read at the end.
  out.resize(length / (spaced ? 3 : 2) + 1);
  std::int64_t* next = out.data();
  for (std::size_t base = 0; base < length; base += kChunk) {
    const char* at = first + base;
    const Masks next_masks =
        base + kChunk < length ? chunk_masks(at + kChunk, std::min(kChunk, length - base - kChunk), end) : Masks{};
    const std::uint64_t digit = m.digit, comma = m.comma, space = spaced ? m.space : 0;
    if (m.other != 0 || (!spaced && m.space != 0)) return nullptr;  // anything else
    const std::uint64_t digit_shifted = (digit << 1) | digit_before;
    const std::uint64_t after_comma = (comma << 1) | comma_before;
    // A comma follows a digit; then (", ") a space and a digit, or (",") a digit: the only
    // blanks are those spaces, and a number starts after each separator.
    if ((comma & ~digit_shifted) != 0) return nullptr;
    if (spaced) {
      if (space != (after_comma & (digit | comma | space))) return nullptr;
      if ((((space << 1) | space_before) & ~digit & (digit | comma | space)) != 0) return nullptr;
    } else if ((after_comma & ~digit & (digit | comma)) != 0) {
      return nullptr;
    }
    const std::uint64_t starts = digit & ~digit_shifted;
    // A leading zero: a number starting with 0 and a digit after it.
    if ((starts & m.zero & ((digit >> 1) | (next_masks.digit << 63))) != 0) return nullptr;
    // Each number from its first and last digits, all of them apart from each other (no branch
    // on what was read): its word loaded and combined. What this cannot read (9 digits or
    // more, too near the end of the text for a word) marks the chunk, which is then read again
    // number by number.
    const std::uint64_t lasts = digit & ~((digit >> 1) | (next_masks.digit << 63));
    std::int64_t* const chunk_first = next;
    bool again = static_cast<std::size_t>(end - at) < kChunk + 8;
    if (!again && starts == digit && lasts == digit) {
      // Single digits only (decodes' token counts): no combining.
      for (std::uint64_t s = starts; s != 0; s &= s - 1) *next++ = at[__builtin_ctzll(s)] - '0';
    } else if (!again) {
      std::uint64_t s = starts;
      // A number that began in the previous chunk ends here: its last digit is not one of ours.
      std::uint64_t e = (digit_before & digit) != 0 ? lasts & (lasts - 1) : lasts;
      for (; e != 0; s &= s - 1, e &= e - 1) {
        const auto k = static_cast<unsigned>(__builtin_ctzll(s));
        const auto n = static_cast<std::size_t>(__builtin_ctzll(e)) - k + 1;
        again |= n > 8;  // then read again below: the value here is not kept
        *next++ = static_cast<std::int64_t>(digits_of(word<std::uint64_t>(at + k), n));
      }
      if (s != 0) {  // the last one goes on into the next chunk
        const auto k = static_cast<unsigned>(__builtin_ctzll(s));
        const auto n = kChunk - k + static_cast<std::size_t>(__builtin_ctzll(~next_masks.digit | (std::uint64_t{1} << 63)));
        again |= n > 8;
        if (n <= 8) *next++ = static_cast<std::int64_t>(digits_of(word<std::uint64_t>(at + k), n));
      }
    }
    if (again) {
      next = chunk_first;
      for (std::uint64_t s = starts; s != 0; s &= s - 1)
        if (!long_number(at + __builtin_ctzll(s), end, *next++)) return nullptr;
    }
    digit_before = digit >> 63;
    comma_before = comma >> 63;
    space_before = space >> 63;
    m = next_masks;
  }
  out.resize(static_cast<std::size_t>(next - out.data()));
  return close + 1;
}

}  // namespace batchproof::traces::canonical
