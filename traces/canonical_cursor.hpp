// A cursor over one record in a writer's exact form, for the readers' fast paths (internal to
// traces/): every step checks what it expects (a literal, a JSON number by JSON's grammar) and
// fails otherwise, so that a record that is not in that form goes to the general path.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "traces/exact_decimal.hpp"
#include "traces/integer_list.hpp"
#include "traces/swar_digits.hpp"

namespace batchproof::traces::canonical {

// A JSON number's text, by JSON's grammar, scanned without converting it.
struct NumberText {
  const char* end = nullptr;
  bool negative = false, fraction = false, exponent = false;
  std::size_t digits = 0;           // before the exponent
  std::size_t fraction_digits = 0;
  std::uint64_t mantissa = 0;       // of those digits, when there are at most 19
};

// The digits from `q` on: how many, and (as far as 19) their value added to `mantissa`, eight
// at a time where a word can be loaded.
inline std::size_t digit_run(const char* q, const char* end, std::uint64_t& mantissa) {
  std::size_t n = 0;
  while (end - (q + n) >= 8) {
    const std::uint64_t w = word<std::uint64_t>(q + n);
    const std::size_t k = leading_digits(w);
    // Past 19 digits the value is not used (the caller goes to an exact path).
    mantissa = mantissa * detail::kTens[k] + (k == 0 ? 0 : digits_of(w, k));
    n += k;
    if (k < 8) return n;
  }
  for (; q + n < end && static_cast<unsigned char>(q[n] - '0') < 10; ++n)
    mantissa = mantissa * 10 + static_cast<unsigned>(q[n] - '0');
  return n;
}

// The number at `q` (text ending at `end`) by JSON's grammar; false if there is none.
inline bool scan_number(const char* q, const char* end, NumberText& n) {
  auto digit = [&] { return q < end && static_cast<unsigned char>(*q - '0') < 10; };
  n.negative = q < end && *q == '-';
  if (n.negative) ++q;
  if (!digit()) return false;
  if (*q == '0') {
    ++q;
    n.digits = 1;
  } else {
    n.digits = digit_run(q, end, n.mantissa);
    q += n.digits;
  }
  if (q < end && *q == '.') {
    ++q;
    n.fraction = true;
    if (!digit()) return false;
    n.fraction_digits = digit_run(q, end, n.mantissa);
    n.digits += n.fraction_digits;
    q += n.fraction_digits;
  }
  if (q < end && (*q == 'e' || *q == 'E')) {
    ++q;
    n.exponent = true;
    if (q < end && (*q == '+' || *q == '-')) ++q;
    if (!digit()) return false;
    while (digit()) ++q;
  }
  n.end = q;
  return true;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool at_end() const { return p_ == end_; }
  const char* position() const { return p_; }
  const char* end() const { return end_; }
  // Moves to `q` (at or after position(), at most end()): past bytes a caller has checked.
  void advance_to(const char* q) { p_ = q; }
  bool peek(char c) const { return p_ < end_ && *p_ == c; }

  // The literal's length is known at compile time: the compare is a word or two (the last
  // word overlapping), not a byte loop or a libc call.
  template <std::size_t N>
  bool literal(const char (&text)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    if constexpr (n >= 8) {
      for (std::size_t i = 0; i + 8 <= n; i += 8)
        if (word<std::uint64_t>(p_ + i) != word<std::uint64_t>(text + i)) return false;
      if (n % 8 != 0 && word<std::uint64_t>(p_ + n - 8) != word<std::uint64_t>(text + n - 8)) return false;
    } else if constexpr (n >= 4) {
      if (word<std::uint32_t>(p_) != word<std::uint32_t>(text) ||
          word<std::uint32_t>(p_ + n - 4) != word<std::uint32_t>(text + n - 4))
        return false;
    } else if constexpr (n >= 2) {  // ", " and the like: a two-byte word, and a byte if three
      if (word<std::uint16_t>(p_) != word<std::uint16_t>(text) || (n == 3 && p_[2] != text[2])) return false;
    } else {
      for (std::size_t i = 0; i < n; ++i)
        if (p_[i] != text[i]) return false;
    }
    p_ += n;
    return true;
  }

  // The same for text known only at run time: words, the last one overlapping.
  bool bytes(std::string_view text) {
    const std::size_t n = text.size();
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    if (n >= 8) {
      for (std::size_t i = 0; i + 8 < n; i += 8)
        if (word<std::uint64_t>(p_ + i) != word<std::uint64_t>(text.data() + i)) return false;
      if (word<std::uint64_t>(p_ + n - 8) != word<std::uint64_t>(text.data() + n - 8)) return false;
    } else if (std::memcmp(p_, text.data(), n) != 0) {
      return false;
    }
    p_ += n;
    return true;
  }

  // A JSON integer (no fraction, no exponent) within int64.
  bool integer(std::int64_t& out) {
    const char* q = p_;
    const bool negative = q < end_ && *q == '-';
    if (negative) ++q;
    const char* digits = q;
    std::uint64_t value = 0;
    // Most numbers in logs are ids and counts of fewer than 8 digits: read at once from one
    // word (SWAR) rather than digit by digit, when 8 bytes can be loaded; the byte after them,
    // a non-digit, is then in the word too.
    if (end_ - q >= 8) {
      const std::uint64_t w = word<std::uint64_t>(q);
      const std::size_t n = leading_digits(w);
      if (n < 8) {
        if (n == 0 || (n > 1 && *digits == '0')) return false;  // no digits, or a leading zero
        const char after = static_cast<char>(w >> (8 * n));
        if (after == '.' || after == 'e' || after == 'E') return false;  // "12.0": core's rules
        const auto v = static_cast<std::int64_t>(digits_value(w, n));
        out = negative ? -v : v;
        p_ = q + n;
        return true;
      }
    }
    while (q < end_ && static_cast<unsigned char>(*q - '0') < 10) value = value * 10 + static_cast<unsigned>(*q++ - '0');
    const auto n = q - digits;
    if (n == 0 || (n > 1 && *digits == '0')) return false;  // no digits, or a leading zero
    if (n > 18) {  // may not fit: exactly, or not at all (core words it)
      const auto [next, ec] = std::from_chars(p_, q, out);
      if (ec != std::errc() || next != q) return false;
    } else {
      out = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
    }
    if (q < end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;  // "12.0": core's rules
    p_ = q;
    return true;
  }

  bool non_negative(std::int64_t& out) { return integer(out) && out >= 0; }

  // A JSON number (strict grammar), finite, as the nearest double (as every JSON parser reads
  // it: from_chars rounds correctly, as do nlohmann's strtod and simdjson).
  bool number(double& out) {
    NumberText n;
    return scan_number(p_, end_, n) && number(n, out);
  }

  // The number scanned as `n` at the cursor, as the nearest double.
  bool number(const NumberText& n, double& out) {
    // At most 19 digits: `mantissa` holds them all (below 2^64); divided exactly where it can
    // be (traces/exact_decimal.hpp): the nearest double, as from_chars gives it.
    if (!n.exponent && n.digits <= 19) {
      const double x = exact_decimal(n.mantissa, static_cast<unsigned>(n.fraction_digits));
      out = n.negative ? -x : x;
      p_ = n.end;
      return true;
    }
    // from_chars takes no '+' in the exponent: copy the number without it if there is one.
    std::string_view text(p_, static_cast<std::size_t>(n.end - p_));
    std::from_chars_result r{};
    const std::size_t plus = text.find('+');
    if (plus == std::string_view::npos) {
      r = std::from_chars(text.data(), text.data() + text.size(), out);
    } else {
      char buf[64];
      if (text.size() > sizeof buf) return false;
      std::size_t k = 0;
      for (char c : text)
        if (c != '+') buf[k++] = c;
      r = std::from_chars(buf, buf + k, out);
    }
    if (r.ec != std::errc() || !std::isfinite(out)) return false;
    p_ = n.end;
    return true;
  }

  // A JSON string of plain ASCII: no escapes, no control bytes, nothing past 0x7f (whose
  // UTF-8 the general path checks).
  bool plain_string(std::string_view& out) {
    if (p_ >= end_ || *p_ != '"') return false;
    const char* q = p_ + 1;
#if defined(__SSE2__)
    // 16 bytes at a time while they fit: as signed bytes, control bytes and those past 0x7f
    // are all below 0x20.
    while (end_ - q >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      const __m128i special = _mm_or_si128(
          _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
      const int mask = _mm_movemask_epi8(special);
      if (mask != 0) {
        q += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      q += 16;
    }
#endif
    while (q < end_ && *q != '"') {
      const auto c = static_cast<unsigned char>(*q);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;  // escapes, control bytes, UTF-8 to check
      ++q;
    }
    if (q >= end_) return false;
    out = std::string_view(p_ + 1, static_cast<std::size_t>(q - p_ - 1));
    p_ = q + 1;
    return true;
  }

  // [n<sep>n<sep>...] of whole numbers ("," in core's writer, ", " in Python's json.dump).
  template <std::size_t N>
  bool integers(const char (&sep)[N], std::vector<std::int64_t>& out) {
    // The common form a chunk at a time (traces/integer_list.hpp); what it does not take
    // (negatives, other blanks, long numbers, malformed lists), number by number below.
    const bool comma_space = N == 3 && sep[0] == ',' && sep[1] == ' ';
    if (comma_space || (N == 2 && sep[0] == ',')) {
      const char* after =
          read_plain_integer_list(p_, end_, comma_space ? ListSeparator::CommaSpace : ListSeparator::Comma, out);
      if (after != nullptr) {
        p_ = after;
        return true;
      }
    }
    out.clear();
    if (!literal("[")) return false;
    if (literal("]")) return true;
    for (;;) {
      std::int64_t n = 0;
      if (!integer(n)) return false;
      out.push_back(n);
      if (literal("]")) return true;
      if (!literal(sep)) return false;
    }
  }

  // The same with every number in quotes ("12": Sarathi-Serve's sequence ids).
  template <std::size_t N>
  bool quoted_integers(const char (&sep)[N], std::vector<std::int64_t>& out) {
    out.clear();
    if (!literal("[")) return false;
    if (literal("]")) return true;
    for (;;) {
      std::int64_t n = 0;
      if (!literal("\"") || !integer(n) || !literal("\"")) return false;
      out.push_back(n);
      if (literal("]")) return true;
      if (!literal(sep)) return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace batchproof::traces::canonical
