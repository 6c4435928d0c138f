// TensorRT-LLM PyExecutor's per-iteration log line (`print_iter_log: true`), TRACE-FORMATS.md
// §1.5, in its three generations:
//
//   2025-04  iter = 198, global_rank = 0, rank = 0, currank_total_requests = 0/0,
//            elapsed_time = 0.00506s, timestamp = 2025-04-28 09:56:44, num_scheduled_requests: 10,
//            states = {'num_ctx_requests': 0, 'num_ctx_tokens': 0, 'num_generation_tokens': 16}
//   mid-2025 ... host_step_time = 12.3ms, prev_device_step_time = 10.1ms (or N/A) ...
//   2026     iter = N, global_rank = 0, rank = 0, num_scheduled_requests = N, kv_cache_util = 0.100,
//            currank_total_requests = a/b, host_step_time = ..ms, prev_device_step_time = ..ms,
//            timestamp = .., states = {..., 'cached_kv_tokens': N}[, num_active = N, num_fetched = N,
//            num_dummy = N, num_unscheduled = N]
//
// with whatever the logger puts in front ("[04/28/2025-09:56:44] [TRT-LLM] [I] ",
// "[TRT-LLM] [I] [_torch][RANK 0] "). Fields are read by name, in any order, with " = " or ": ".
//
// The record: index = iter; stream = "" for global rank 0, "rank N" for others (ranks log
// interleaved with TLLM_PROFILE_LOG_RANKS); duration = host_step_time (the executor loop's wall
// time for this iteration; prev_device_step_time belongs to the previous batch and is not kept),
// or elapsed_time in the oldest generation; start_s = the timestamp field (one-second
// resolution, taken when the line is logged, i.e. at the end of the iteration); prefill
// requests/tokens = num_ctx_requests/num_ctx_tokens; decode tokens = num_generation_tokens (as
// logged: it counted CUDA-graph padding in 2025); decode requests = num_scheduled_requests −
// num_ctx_requests − num_dummy; cached tokens = cached_kv_tokens; kv usage = kv_cache_util;
// running = num_active. No waiting queue is logged.
#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "traces/readers.hpp"
#include "traces/text_log_reader.hpp"
#include "traces/text_scan.hpp"

namespace batchproof::traces {

namespace {

using text::Span;

// Letters, digits and '_', by table: the scan of field names is the line's hot loop.
constexpr auto kNameChars = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  return t;
}();
bool is_name_char(char c) { return kNameChars[static_cast<unsigned char>(c)]; }

// The fields read (by length first: the line's hot path); the rest are skipped.
enum class Key { Other, Iter, GlobalRank, Scheduled, Active, Dummy, HostStep, Elapsed, Timestamp, KvUtil, States };

Key classify(std::string_view k) {
  switch (k.size()) {
    case 4: return k == "iter" ? Key::Iter : Key::Other;
    case 6: return k == "states" ? Key::States : Key::Other;
    case 9:
      if (k == "num_dummy") return Key::Dummy;
      return k == "timestamp" ? Key::Timestamp : Key::Other;
    case 10: return k == "num_active" ? Key::Active : Key::Other;
    case 11: return k == "global_rank" ? Key::GlobalRank : Key::Other;
    case 12: return k == "elapsed_time" ? Key::Elapsed : Key::Other;
    case 13: return k == "kv_cache_util" ? Key::KvUtil : Key::Other;
    case 14: return k == "host_step_time" ? Key::HostStep : Key::Other;
    case 22: return k == "num_scheduled_requests" ? Key::Scheduled : Key::Other;
    default: return Key::Other;
  }
}

class PyExecutorReader final : public TextLogReader {
 public:
  explicit PyExecutorReader(std::unique_ptr<Input> input) : TextLogReader(Format::TrtllmPyExecutor, std::move(input)) {}

 private:
  // What one line gives, before it becomes a record.
  struct Fields {
    std::optional<std::int64_t> iter, global_rank, scheduled, ctx_requests, ctx_tokens, gen_tokens, cached, active,
        dummy;
    bool has_states = false;
  };

  Parsed parse(std::string_view line, Iteration& record) override {
    const std::size_t anchor = find_anchor(line);
    if (anchor == std::string_view::npos) return Parsed::Skip;
    Fields f;
    std::size_t at = anchor;
    const std::size_t n = line.size();
    while (at < n) {
      std::size_t key_end = at;
      while (key_end < n && is_name_char(line[key_end])) ++key_end;
      if (key_end == at) return malformed(at, "expected a field name");
      const std::string_view key = line.substr(at, key_end - at);
      std::size_t value_at;
      if (line.compare(key_end, 3, " = ") == 0) value_at = key_end + 3;
      else if (line.compare(key_end, 2, ": ") == 0) value_at = key_end + 2;
      else return malformed(key_end, fmt::format("expected ' = ' after '{}'", key));
      std::size_t value_end;
      if (value_at < n && line[value_at] == '{') {
        value_end = line.find('}', value_at);
        if (value_end == std::string_view::npos) return malformed(value_at, fmt::format("'{}': no closing '}}'", key));
        ++value_end;
      } else {
        value_end = value_at;
        for (;;) {
          const void* comma = std::memchr(line.data() + value_end, ',', n - value_end);
          if (!comma) {
            value_end = n;
            break;
          }
          value_end = static_cast<std::size_t>(static_cast<const char*>(comma) - line.data());
          if (value_end + 1 < n && line[value_end + 1] == ' ') break;
          ++value_end;
        }
      }
      const Span value{line.substr(value_at, value_end - value_at), value_at};
      if (!field(classify(key), key, value, f, record)) return Parsed::Skip;
      at = value_end;
      if (at < n) at += 2;  // ", "
    }
    if (!f.has_states) return malformed(line.size(), "missing 'states = {...}'");
    if (!f.ctx_requests || !f.ctx_tokens || !f.gen_tokens)
      return malformed(line.size(), "states lacks num_ctx_requests, num_ctx_tokens or num_generation_tokens");
    record.line = line_number();
    record.index = f.iter;
    record.prefill_requests = f.ctx_requests;
    record.prefill_tokens = f.ctx_tokens;
    record.decode_tokens = f.gen_tokens;
    record.cached_tokens = f.cached;
    record.running = f.active;
    if (f.scheduled) {
      const std::int64_t decode = *f.scheduled - *f.ctx_requests - f.dummy.value_or(0);
      if (decode >= 0) record.decode_requests = decode;
    }
    std::optional<std::int64_t> rank = f.global_rank;
    if (!rank) rank = prefix_rank(line.substr(0, anchor));
    if (rank && *rank != 0) {
      if (rank != named_rank_) {
        named_rank_ = rank;
        rank_name_ = fmt::format("rank {}", *rank);
      }
      record.stream = rank_name_;
    }
    return Parsed::Record;
  }

  // "iter = " where a field list starts: at the line's start or after a blank or ']'.
  static std::size_t find_anchor(std::string_view line) {
    std::size_t at = 0;
    while ((at = text::find(line, "iter = ", at)) != std::string_view::npos) {
      if (at == 0 || line[at - 1] == ' ' || line[at - 1] == ']') return at;
      ++at;
    }
    return std::string_view::npos;
  }

  // "[RANK n]" in the logger's prefix, for lines that do not name their global rank.
  static std::optional<std::int64_t> prefix_rank(std::string_view prefix) {
    const std::size_t at = text::find(prefix, "[RANK ");
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t end = prefix.find(']', at);
    std::int64_t rank = 0;
    if (end == std::string_view::npos || !text::to_count(prefix.substr(at + 6, end - at - 6), rank)) return std::nullopt;
    return rank;
  }

  bool count(Span value, std::string_view key, std::optional<std::int64_t>& out) {
    std::int64_t v = 0;
    std::size_t at = 0;
    if (!text::read_digits(value.text, at, v) || at != value.text.size()) {
      malformed(value.pos, fmt::format("'{}' is not a whole number", key));
      return false;
    }
    out = v;
    return true;
  }

  // "12.5ms" (or "0.25s"): seconds.
  bool duration(Span value, std::string_view key, std::string_view unit, double scale, Iteration& record) {
    double x = 0;
    std::size_t at = 0;
    const bool quick = text::read_decimal(value.text, at, x) && value.text.substr(at) == unit;
    if ((!quick && !text::to_double_with_unit(value.text, unit, x)) || x < 0) {
      malformed(value.pos, fmt::format("'{}' is not a time in {}", key, unit));
      return false;
    }
    record.duration_s = x * scale;
    return true;
  }

  // One field; false (reported) if its value does not parse. Unknown fields are left alone.
  bool field(Key k, std::string_view key, Span value, Fields& f, Iteration& record) {
    switch (k) {
      case Key::Iter: return count(value, key, f.iter);
      case Key::GlobalRank: return count(value, key, f.global_rank);
      case Key::Scheduled: return count(value, key, f.scheduled);
      case Key::Active: return count(value, key, f.active);
      case Key::Dummy: return count(value, key, f.dummy);
      case Key::HostStep: return duration(value, key, "ms", 1e-3, record);
      case Key::Elapsed: return duration(value, key, "s", 1, record);
      case Key::Timestamp: {
        // Lines of the same second share their timestamp: read it once.
        if (value.text != last_timestamp_) {
          std::size_t used = 0;
          auto t = text::parse_iso_date_time(value.text, &used);
          if (!t || used != value.text.size()) {
            malformed(value.pos, "'timestamp' is not YYYY-MM-DD HH:MM:SS");
            return false;
          }
          last_timestamp_.assign(value.text);
          last_time_ = *t;
        }
        record.start_s = last_time_;
        return true;
      }
      case Key::KvUtil: {
        if (value.text == "N/A") return true;
        double u = 0;
        std::size_t at = 0;
        if ((!text::read_decimal(value.text, at, u) || at != value.text.size()) && !text::to_double(value.text, u)) u = -1;
        if (u < 0) {
          malformed(value.pos, "'kv_cache_util' is not a fraction");
          return false;
        }
        record.kv_usage = u;
        return true;
      }
      case Key::States: return states(value, f);
      case Key::Other: return true;
    }
    return true;
  }

  // {'num_ctx_requests': 0, 'num_ctx_tokens': 0, 'num_generation_tokens': 16, ...}
  bool states(Span value, Fields& f) {
    f.has_states = true;
    text::FieldCursor cursor(value.text.substr(0, value.text.size() - 1), 1);
    Span key, v;
    while (cursor.next(key)) {
      if (key.text.size() < 2 || key.text.front() != '\'' || key.text.back() != '\'') {
        malformed(value.pos + key.pos, "states: expected 'name': value");
        return false;
      }
      const std::string_view name = key.text.substr(1, key.text.size() - 2);
      std::optional<std::int64_t>* slot = nullptr;
      if (name == "num_ctx_requests") slot = &f.ctx_requests;
      else if (name == "num_ctx_tokens") slot = &f.ctx_tokens;
      else if (name == "num_generation_tokens") slot = &f.gen_tokens;
      else if (name == "cached_kv_tokens") slot = &f.cached;
      v = cursor.value();
      v.pos += value.pos;
      if (slot && !count(v, name, *slot)) return false;
    }
    return true;
  }

  std::string last_timestamp_;
  double last_time_ = 0;
  std::optional<std::int64_t> named_rank_;
  std::string rank_name_;
};

}  // namespace

std::unique_ptr<RecordReader> make_trtllm_pyexecutor_reader(std::unique_ptr<Input> input) {
  return std::make_unique<PyExecutorReader>(std::move(input));
}

}  // namespace batchproof::traces
