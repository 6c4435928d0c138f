#include "traces/batchproof_canonical.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace batchproof::traces {

namespace {

// A cursor over the line; every step checks what it expects and fails otherwise.
template <class Word>
Word word(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool at_end() const { return p_ == end_; }
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
    } else {
      for (std::size_t i = 0; i < n; ++i)
        if (p_[i] != text[i]) return false;
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
    const char* q = p_;
    if (q < end_ && *q == '-') ++q;
    if (q >= end_ || *q < '0' || *q > '9') return false;
    if (*q == '0') {
      ++q;
    } else {
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q < end_ && *q == '.') {
      ++q;
      if (q >= end_ || *q < '0' || *q > '9') return false;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (q >= end_ || *q < '0' || *q > '9') return false;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    // from_chars takes no '+' in the exponent: copy the number without it if there is one.
    std::string_view text(p_, static_cast<std::size_t>(q - p_));
    std::from_chars_result r{};
    const std::size_t plus = text.find('+');
    if (plus == std::string_view::npos) {
      r = std::from_chars(text.data(), text.data() + text.size(), out);
    } else {
      char buf[64];
      if (text.size() > sizeof buf) return false;
      std::size_t n = 0;
      for (char c : text)
        if (c != '+') buf[n++] = c;
      r = std::from_chars(buf, buf + n, out);
      if (r.ec == std::errc()) r.ptr = q;  // consumed it all
    }
    if (r.ec != std::errc() || !std::isfinite(out)) return false;
    p_ = q;
    return true;
  }

  // [n,n,...] of whole numbers.
  bool ids(std::vector<std::int64_t>& out) {
    out.clear();
    if (!literal("[")) return false;
    if (literal("]")) return true;
    for (;;) {
      std::int64_t id = 0;
      if (!integer(id)) return false;
      out.push_back(id);
      if (literal("]")) return true;
      if (!literal(",")) return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

// {"id":N[,"prefill":N][,"decode":1]} with prefill > 0 (the writer leaves a 0 out).
bool item(Cursor& c, core::TraceItem& it) {
  it.prefill = 0;
  it.decode = false;
  if (!c.literal("{\"id\":") || !c.integer(it.id)) return false;
  if (c.literal(",\"prefill\":") && (!c.non_negative(it.prefill))) return false;
  if (c.literal(",\"decode\":")) {
    if (!c.literal("1")) return false;
    it.decode = true;
  }
  return c.literal("}");
}

}  // namespace

bool read_canonical_iteration(std::string_view line, core::TraceIteration& it) {
  Cursor c(line);
  std::int64_t tokens = 0;
  if (!c.literal("{\"type\":\"iteration\",\"index\":") || !c.non_negative(it.index) ||
      !c.literal(",\"start_s\":") || !c.number(it.start_s) || !c.literal(",\"end_s\":") || !c.number(it.end_s))
    return false;
  const bool has_tokens = c.literal(",\"tokens\":");
  if (has_tokens && !c.non_negative(tokens)) return false;
  if (!c.literal(",\"waiting\":") || !c.non_negative(it.waiting) || !c.literal(",\"running\":") ||
      !c.non_negative(it.running) || !c.literal(",\"kv_used\":") || !c.non_negative(it.kv_used) ||
      !c.literal(",\"items\":["))
    return false;
  // Items written over the ones the vector holds (no construction per item), then cut.
  std::size_t count = 0;
  if (!c.literal("]")) {
    for (;;) {
      if (count == it.items.size()) it.items.emplace_back();
      if (!item(c, it.items[count++])) return false;
      if (c.literal("]")) break;
      if (!c.literal(",")) return false;
    }
  }
  it.items.resize(count);
  it.arrivals.clear();  // a line with arrivals is not canonical here: the general path reads it
  it.departures.clear();
  it.preempted.clear();
  it.requests.reset();
  if (c.literal(",\"departures\":") && !c.ids(it.departures)) return false;
  if (c.literal(",\"preempted\":") && !c.ids(it.preempted)) return false;
  if (!c.literal("}") || !c.at_end()) return false;
  it.tokens = has_tokens ? tokens : core::item_tokens(it.items);
  return true;
}

}  // namespace batchproof::traces
