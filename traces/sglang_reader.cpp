// SGLang's scheduler log (TRACE-FORMATS.md §2.1-2.4), every variant seen since 2024:
//
//   [2025-09-03 18:33:18 TP0] Prefill batch. #new-seq: 1, #new-token: 103, #cached-token: 1,
//       token usage: 0.00, #running-req: 0, #queue-req: 0,
//   [2026-04-05 20:02:49] Prefill batch [12], #new-seq: 1, ..., #pending-token: 0,
//       cuda graph: False, input throughput (token/s): 9543.17
//   [2026-04-08 14:05:21 TP0] Decode batch, #running-req: 5, #token: 20800, token usage: 0.29,
//       cuda graph: True, gen throughput (token/s): 144.95, #queue-req: 0
//   KV cache pool is full. Retract requests. #retracted_reqs: 1, #new_token_ratio: 0.99 -> 1.00
//   new fill batch. #seq: 1. #cached_token: 757. #new_token: 1. #remaining_req: 4. #running_req: 2.
//   #running-req: 5, #token: 1938, token usage: 0.24, #queue-req: 0          (2024-04 decode)
//
// with a period or a comma after "batch", with or without a trailing separator, hybrid usage
// fields ("full token usage", "#full token"), PD-disaggregation and speculative fields (read
// when used, skipped otherwise), and a prefix "[date time ranks] " or "[time ranks] ".
//
// Records:
// - stream: the rank tags of the prefix as written ("TP0", "DP1 TP0"), "" when none.
// - start_s: the prefix's time (one-second resolution; seconds since 1970 with a date, else
//   since the log's first midnight). index: the forward counter "[N]" when logged.
// - A Prefill line is one iteration: prefill requests/tokens = #new-seq/#new-token (prefix-cache
//   hits excluded), cached = #cached-token, kv usage = token usage (the full-attention pool of a
//   hybrid model), running = #running-req (the running batch, without this prefill batch),
//   waiting = #queue-req (after admission), waiting tokens = #pending-token. Its decode counts
//   are 0 when the server args say enable_mixed_chunk=False, unknown otherwise.
// - A Decode line is a sample: SGLang logs one decode batch in --decode-log-interval (40 by
//   default, read from the server args when the log has them), so the record stands for that
//   many decode steps (`steps`) and describes the last one: decode requests = running =
//   #running-req, decode tokens = #running-req (× accept len with speculative decoding),
//   prefill 0, kv used = #token, kv usage, waiting = #queue-req.
// - A Retract line is not an iteration: its #retracted_reqs go to `preempted` of the stream's
//   next record (0 there when nothing was retracted since the previous one); retractions after
//   the last record make a record of their own with steps = 0.
// - kv_total_tokens = max_total_num_tokens and budget_requests = max_running_requests from the
//   start-up lines, once seen. budget_tokens = chunked_prefill_size on Prefill lines when the
//   server args say enable_mixed_chunk=False: the chunk caps a prefill batch's new tokens, and
//   the record's tokens are then all of the batch's (with mixed chunks, decodes share the chunk
//   and are not logged, so the record's tokens cannot be held against it).
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "traces/readers.hpp"
#include "traces/text_log_reader.hpp"
#include "traces/text_scan.hpp"

namespace batchproof::traces {

namespace {

using text::Span;

enum class Kind { Prefill, OldPrefill, Decode, Retract };

// The fields read, from their names in every version (by length first: the line's hot path).
enum class Key { None, Running, Queue, Usage, Token, AcceptLen, NewSeq, NewToken, Cached, Pending, Retracted };

Key classify(std::string_view k) {
  switch (k.size()) {
    case 4: return k == "#seq" ? Key::NewSeq : Key::None;
    case 6: return k == "#token" ? Key::Token : Key::None;
    case 8: return k == "#new-seq" ? Key::NewSeq : Key::None;
    case 10:
      if (k == "#new-token" || k == "#new_token") return Key::NewToken;
      if (k == "#queue-req") return Key::Queue;
      return k == "accept len" ? Key::AcceptLen : Key::None;
    case 11:
      if (k == "token usage") return Key::Usage;
      return k == "#full token" ? Key::Token : Key::None;
    case 12: return k == "#running-req" || k == "#running_req" ? Key::Running : Key::None;
    case 13: return k == "#cached-token" || k == "#cached_token" ? Key::Cached : Key::None;
    case 14:
      if (k == "#remaining_req") return Key::Queue;
      return k == "#pending-token" ? Key::Pending : Key::None;
    case 15: return k == "#retracted_reqs" ? Key::Retracted : Key::None;
    case 16: return k == "full token usage" ? Key::Usage : Key::None;
    default: return Key::None;
  }
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "TP0", "DP12", "EP3", "PP0": a rank tag.
bool is_rank_tag(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && is_upper(t[i])) ++i;
  if (i == 0 || i == t.size()) return false;
  for (std::size_t k = i; k < t.size(); ++k)
    if (!is_digit(t[k])) return false;
  return true;
}

// The whole number after `key` in `line` ("max_total_num_tokens=392920, ..."), if any.
std::optional<std::int64_t> number_after(std::string_view line, std::string_view key) {
  const std::size_t at = text::find(line, key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t end = at + key.size();
  while (end < line.size() && is_digit(line[end])) ++end;
  std::int64_t v = 0;
  if (!text::to_count(line.substr(at + key.size(), end - at - key.size()), v)) return std::nullopt;
  return v;
}

class SglangReader final : public TextLogReader {
 public:
  explicit SglangReader(std::unique_ptr<Input> input) : TextLogReader(Format::Sglang, std::move(input)) {}

 private:
  // Retractions waiting for their stream's next record.
  struct Pending {
    std::string stream;
    std::int64_t retracted = 0;
    std::int64_t line = 0;
    std::optional<double> start_s;
  };

  Parsed parse(std::string_view line, Iteration& record) override {
    const std::size_t hash = line.find('#');
    if (hash == std::string_view::npos) {
      server_settings(line);
      return Parsed::Skip;
    }
    Kind kind{};
    std::size_t marker = 0, fields = 0;
    if (!find_marker(line, hash, kind, marker, fields, record)) return Parsed::Skip;
    if (fields == std::string_view::npos) return Parsed::Skip;  // reported
    prefix(line.substr(0, marker), record);
    record.line = line_number();
    text::FieldCursor cursor(line, fields, kind == Kind::OldPrefill ? '.' : ',');
    Span key, bad;
    bool seen_seq = false, seen_tokens = false, seen_running = false, seen_retracted = false;
    double accept_len = 1;
    std::int64_t retracted = 0;
    while (cursor.next(key)) {
      std::optional<std::int64_t>* slot = nullptr;
      bool* seen = nullptr;
      switch (classify(key.text)) {
        case Key::Retracted:
          if (kind != Kind::Retract) break;
          if (!cursor.count(retracted, bad)) return bad_count(bad, key.text);
          seen_retracted = true;
          continue;
        case Key::Running:
          slot = &record.running;
          seen = &seen_running;
          break;
        case Key::Queue: slot = &record.waiting; break;
        case Key::Usage: {
          double u = 0;
          if (!cursor.decimal(u, bad) || u < 0)
            return malformed(bad.pos, fmt::format("'{}' is not a fraction", key.text));
          record.kv_usage = u;
          continue;
        }
        case Key::Token:
          if (kind == Kind::Decode) slot = &record.kv_used_tokens;
          break;
        case Key::AcceptLen:
          if (kind != Kind::Decode) break;
          if (!cursor.decimal(accept_len, bad) || accept_len < 0) return malformed(bad.pos, "'accept len' is not a number");
          continue;
        case Key::NewSeq:
          if (kind == Kind::Decode) break;
          slot = &record.prefill_requests;
          seen = &seen_seq;
          break;
        case Key::NewToken:
          if (kind == Kind::Decode) break;
          slot = &record.prefill_tokens;
          seen = &seen_tokens;
          break;
        case Key::Cached:
          if (kind != Kind::Decode) slot = &record.cached_tokens;
          break;
        case Key::Pending:
          if (kind != Kind::Decode) slot = &record.waiting_tokens;
          break;
        case Key::None: break;
      }
      if (!slot || kind == Kind::Retract) {
        cursor.value();
        continue;
      }
      std::int64_t v = 0;
      if (!cursor.count(v, bad)) return bad_count(bad, key.text);
      *slot = v;
      if (seen) *seen = true;
    }
    const std::size_t end = line.size();
    if (kind == Kind::Retract) {
      if (!seen_retracted) return malformed(end, "Retract requests without #retracted_reqs");
      Pending& p = pending_for(record.stream);
      p.retracted += retracted;
      p.line = record.line;
      p.start_s = record.start_s;
      return Parsed::Skip;
    }
    if (kind == Kind::Decode) {
      if (!seen_running) return malformed(end, "Decode batch without #running-req");
      record.decode_requests = record.running;
      record.decode_tokens = std::llround(static_cast<double>(*record.running) * accept_len);
      record.prefill_requests = 0;
      record.prefill_tokens = 0;
      record.steps = decode_log_interval_;
    } else {
      if (!seen_seq || !seen_tokens)
        return malformed(end, kind == Kind::OldPrefill ? "new fill batch without #seq and #new_token"
                                                       : "Prefill batch without #new-seq and #new-token");
      if (mixed_chunk_ && !*mixed_chunk_) {
        record.decode_requests = 0;
        record.decode_tokens = 0;
        record.budget_tokens = chunked_prefill_;
      }
    }
    record.kv_total_tokens = kv_total_;
    record.budget_requests = max_running_;
    Pending& p = pending_for(record.stream);
    record.preempted = p.retracted;
    p.retracted = 0;
    return Parsed::Record;
  }

  bool drain(Iteration& record) override {
    for (Pending& p : pending_) {
      if (p.retracted == 0) continue;
      record.stream = p.stream;
      record.line = p.line;
      record.start_s = p.start_s;
      record.preempted = p.retracted;
      record.steps = 0;
      p.retracted = 0;
      return true;
    }
    return false;
  }

  // Where the record's text starts (`marker`) and its fields (`fields`), or false if the line
  // is not one. `fields` is npos when the line starts like a record and was reported.
  bool find_marker(std::string_view line, std::size_t hash, Kind& kind, std::size_t& marker, std::size_t& fields,
                   Iteration& record) {
    if (marker_before(line, hash, kind, marker, record)) {
      fields = hash;
      return true;
    }
    const std::string_view head = line.substr(0, hash);
    for (std::size_t p = 0; (p = text::find(head, "batch", p)) != std::string_view::npos; ++p) {
      if (p >= 8 && head.substr(p - 8, 8) == "Prefill ") {
        kind = Kind::Prefill;
        marker = p - 8;
      } else if (p >= 7 && head.substr(p - 7, 7) == "Decode ") {
        kind = Kind::Decode;
        marker = p - 7;
      } else if (p >= 9 && head.substr(p - 9, 9) == "new fill ") {
        kind = Kind::OldPrefill;
        marker = p - 9;
      } else {
        continue;
      }
      std::size_t at = p + 5;
      if (head.substr(at, 2) == " [") {  // the forward counter, SGLANG_LOG_FORWARD_ITERS
        const std::size_t close = head.find(']', at);
        std::int64_t index = 0;
        if (close == std::string_view::npos || !text::to_count(head.substr(at + 2, close - at - 2), index)) {
          malformed(at + 2, "the batch's [iteration] is not a whole number");
          fields = std::string_view::npos;
          return true;
        }
        record.index = index;
        at = close + 1;
      }
      if (at + 1 >= line.size() || (line[at] != '.' && line[at] != ',') || line[at + 1] != ' ') {
        malformed(at, "expected ', ' after 'batch'");
        fields = std::string_view::npos;
        return true;
      }
      fields = at + 2;
      return true;
    }
    const std::size_t retract = text::find(head, "Retract requests");
    if (retract != std::string_view::npos) {
      kind = Kind::Retract;
      marker = retract;
      const std::size_t p = kind_fields(line, retract + 16);
      if (p == std::string_view::npos) {
        malformed(retract + 16, "expected '. ' after 'Retract requests'");
        fields = std::string_view::npos;
        return true;
      }
      fields = p;
      return true;
    }
    // 2024-04 decode lines have no marker: "#running-req: 5, #token: 1938, ...".
    if (line.substr(hash, 14) == "#running-req: " && text::find(line, "#token: ", hash) != std::string_view::npos) {
      kind = Kind::Decode;
      marker = fields = hash;
      return true;
    }
    return false;
  }

  // The usual layouts, read backwards from the first '#': "Prefill batch, #", "Decode batch. #",
  // "Prefill batch [12], #", "new fill batch. #", "Retract requests. #". Anything else goes to
  // the search in find_marker, which also reports what does not parse.
  static bool marker_before(std::string_view line, std::size_t hash, Kind& kind, std::size_t& marker,
                            Iteration& record) {
    if (hash < 2 || line[hash - 1] != ' ' || (line[hash - 2] != ',' && line[hash - 2] != '.')) return false;
    std::size_t end = hash - 2;  // just past "batch" (or "requests")
    std::optional<std::int64_t> index;
    if (end > 0 && line[end - 1] == ']') {
      const std::size_t open = line.rfind('[', end - 1);
      std::int64_t v = 0;
      if (open == std::string_view::npos || open == 0 || line[open - 1] != ' ' ||
          !text::to_count(line.substr(open + 1, end - 2 - open), v))
        return false;
      index = v;
      end = open - 1;
    }
    const std::string_view head = line.substr(0, end);
    if (head.ends_with("Prefill batch")) {
      kind = Kind::Prefill;
      marker = end - 13;
    } else if (head.ends_with("Decode batch")) {
      kind = Kind::Decode;
      marker = end - 12;
    } else if (head.ends_with("new fill batch") && !index) {
      kind = Kind::OldPrefill;
      marker = end - 14;
    } else if (head.ends_with("Retract requests") && !index) {
      kind = Kind::Retract;
      marker = end - 16;
    } else {
      return false;
    }
    record.index = index;
    return true;
  }

  // After a marker: ". " or ", " then the fields.
  static std::size_t kind_fields(std::string_view line, std::size_t at) {
    if (at + 1 < line.size() && (line[at] == '.' || line[at] == ',') && line[at + 1] == ' ') return at + 2;
    return std::string_view::npos;
  }

  // The prefix before the record's text: its last "[...]" group gives the time and the ranks.
  void prefix(std::string_view before, Iteration& record) {
    const std::size_t close = before.rfind(']');
    if (close == std::string_view::npos) return;
    const std::size_t open = before.rfind('[', close);
    if (open == std::string_view::npos) return;
    std::string_view inside = before.substr(open + 1, close - open - 1);
    // Lines of the same second and rank share their prefix: read it once.
    if (inside == last_prefix_) {
      record.start_s = last_start_;
      record.stream = last_stream_;
      return;
    }
    read_prefix(inside, record);
    last_prefix_.assign(inside);
    last_start_ = record.start_s;
    last_stream_ = record.stream;
  }

  void read_prefix(std::string_view inside, Iteration& record) {
    std::size_t used = 0;
    if (auto t = text::parse_iso_date_time(inside, &used)) {
      record.start_s = t;
      inside.remove_prefix(used);
    } else if (auto tod = text::parse_time_of_day(inside, &used)) {
      record.start_s = clock_.place(*tod);
      inside.remove_prefix(used);
    }
    while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    if (inside.empty()) return;
    // Rank tags only: "TP0", "DP1 TP0", "DP0 TP0 EP0".
    for (std::size_t at = 0; at < inside.size();) {
      std::size_t end = inside.find(' ', at);
      if (end == std::string_view::npos) end = inside.size();
      if (!is_rank_tag(inside.substr(at, end - at))) return;
      at = end + 1;
    }
    record.stream.assign(inside);
  }

  Parsed bad_count(Span value, std::string_view key) {
    if (reports_full()) return malformed(value.pos, {});
    return malformed(value.pos, fmt::format("'{}' is not a whole number", key));
  }

  Pending& pending_for(const std::string& stream) {
    for (Pending& p : pending_)
      if (p.stream == stream) return p;
    pending_.push_back({stream});
    return pending_.back();
  }

  // Settings from the start-up lines (the server args, the memory pool).
  void server_settings(std::string_view line) {
    if (line.find('=') == std::string_view::npos) return;
    if (auto v = number_after(line, "max_total_num_tokens=")) kv_total_ = v;
    if (auto v = number_after(line, "max_running_requests=")) max_running_ = v;
    if (auto v = number_after(line, "chunked_prefill_size=")) chunked_prefill_ = *v > 0 ? v : std::nullopt;
    if (auto v = number_after(line, "decode_log_interval="); v && *v > 0) decode_log_interval_ = *v;
    const std::size_t mixed = text::find(line, "enable_mixed_chunk=");
    if (mixed != std::string_view::npos) {
      const std::string_view v = line.substr(mixed + 19, 5);
      if (v.substr(0, 4) == "True") mixed_chunk_ = true;
      else if (v == "False") mixed_chunk_ = false;
    }
  }

  std::vector<Pending> pending_;
  std::string last_prefix_, last_stream_;  // the last prefix read, and what it gave
  std::optional<double> last_start_;
  text::TimeOfDayClock clock_;
  std::optional<std::int64_t> kv_total_, max_running_, chunked_prefill_;
  std::optional<bool> mixed_chunk_;
  std::int64_t decode_log_interval_ = 40;
};

}  // namespace

std::unique_ptr<RecordReader> make_sglang_reader(std::unique_ptr<Input> input) {
  return std::make_unique<SglangReader>(std::move(input));
}

}  // namespace batchproof::traces
