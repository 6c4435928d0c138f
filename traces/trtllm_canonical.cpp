#include "traces/trtllm_canonical.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <initializer_list>

#include "traces/canonical_cursor.hpp"
#include "traces/reader_support.hpp"

namespace batchproof::traces {

namespace {

using canonical::Cursor;
using CountField = std::optional<std::int64_t> TrtllmStats::*;
using NumberField = std::optional<double> TrtllmStats::*;

enum class Kind {
  Count, Number, Ignored, Timestamp, KvCache, Inflight, NullOnly, RequestStats,  // in a record
  Id, Position, Generated, Scheduled, Paused                                     // in a requestStats element
};

struct Member {
  std::string_view name;
  Kind kind;
  CountField count = nullptr;
  NumberField number = nullptr;
  // "name": as written, and its first 8 bytes as a word (zeros past a shorter one) with the
  // mask of those bytes: most keys that are not this one differ there, in one compare.
  std::string quoted;
  const char* key = nullptr;  // quoted's bytes and size, without the indirection
  std::size_t key_size = 0;
  std::uint64_t head = 0, mask = 0;
};

// A table in the order nlohmann's dump writes keys (bytewise), so that a record is read in one
// pass over it and a key out of order or twice is not canonical.
std::vector<Member> sorted(std::initializer_list<Member> members) {
  std::vector<Member> table(members);
  std::sort(table.begin(), table.end(), [](const Member& a, const Member& b) { return a.name < b.name; });
  for (auto& m : table) {
    m.quoted.reserve(m.name.size() + 3);
    m.quoted.push_back('"');
    m.quoted.append(m.name);
    m.quoted.push_back('"');
    m.quoted.push_back(':');
    const std::size_t n = std::min<std::size_t>(8, m.quoted.size());
    std::memcpy(&m.head, m.quoted.data(), n);
    std::memset(&m.mask, 0xff, n);
  }
  for (auto& m : table) {  // after the last move of the strings
    m.key = m.quoted.data();
    m.key_size = m.quoted.size();
  }
  return table;
}

// The key at the cursor is `m`'s, written plainly: the cursor moves past its ':'.
[[gnu::always_inline]] inline bool key_is(Cursor& c, const Member& m) {
  // Most keys that are not this one differ in their first word: one masked compare says so.
  if (c.end() - c.position() >= 8 && (canonical::word<std::uint64_t>(c.position()) & m.mask) != m.head) return false;
  return c.bytes({m.key, m.key_size});
}

// The keys the general path reads are here with its meaning, or absent (the flat keys,
// staticBatchingStats as an object): never ignored.
const std::vector<Member>& record_members() {
  static const std::vector<Member> table = sorted({
      {"iter", Kind::Count, &TrtllmStats::iter},
      {"timestamp", Kind::Timestamp},
      {"iterLatencyMS", Kind::Number, nullptr, &TrtllmStats::latency_ms},
      {"hostStepTimeMS", Kind::Number, nullptr, &TrtllmStats::host_step_ms},
      {"numActiveRequests", Kind::Count, &TrtllmStats::active},
      {"numQueuedRequests", Kind::Count, &TrtllmStats::queued},
      {"maxBatchSizeRuntime", Kind::Count, &TrtllmStats::max_batch_runtime},
      {"maxBatchSizeStatic", Kind::Count, &TrtllmStats::max_batch_static},
      {"maxNumTokensRuntime", Kind::Count, &TrtllmStats::max_tokens_runtime},
      {"maxNumTokensStatic", Kind::Count, &TrtllmStats::max_tokens_static},
      {"attentionDpRank", Kind::Count, &TrtllmStats::dp_rank},
      {"kvCacheStats", Kind::KvCache},
      {"inflightBatchingStats", Kind::Inflight},
      {"staticBatchingStats", Kind::NullOnly},
      {"crossKvCacheStats", Kind::NullOnly},
      {"specDecodingStats", Kind::NullOnly},
      {"requestStats", Kind::RequestStats},
      {"cpuMemUsage", Kind::Ignored},
      {"gpuMemUsage", Kind::Ignored},
      {"pinnedMemUsage", Kind::Ignored},
      {"maxBatchSizeTunerRecommended", Kind::Ignored},
      {"maxNumActiveRequests", Kind::Ignored},
      {"maxNumTokensTunerRecommended", Kind::Ignored},
      {"newActiveRequestsQueueLatencyMS", Kind::Ignored},
      {"numCompletedRequests", Kind::Ignored},
      {"numNewActiveRequests", Kind::Ignored},
      {"prevDeviceStepTimeMS", Kind::Ignored},
      {"gpuForwardTimeMS", Kind::Ignored},
      {"schedulerMode", Kind::Ignored},
  });
  return table;
}

const std::vector<Member>& kv_cache_members() {
  static const std::vector<Member> table = sorted({
      {"maxNumBlocks", Kind::Count, &TrtllmStats::max_blocks},
      {"freeNumBlocks", Kind::Count, &TrtllmStats::free_blocks},
      {"usedNumBlocks", Kind::Count, &TrtllmStats::used_blocks},
      {"tokensPerBlock", Kind::Count, &TrtllmStats::tokens_per_block},
      {"allocNewBlocks", Kind::Ignored},
      {"allocTotalBlocks", Kind::Ignored},
      {"cacheHitRate", Kind::Ignored},
      {"missedBlocks", Kind::Ignored},
      {"reusedBlocks", Kind::Ignored},
  });
  return table;
}

const std::vector<Member>& inflight_members() {
  static const std::vector<Member> table = sorted({
      {"numContextRequests", Kind::Count, &TrtllmStats::ctx_requests},
      {"numCtxTokens", Kind::Count, &TrtllmStats::ctx_tokens},
      {"numGenRequests", Kind::Count, &TrtllmStats::gen_requests},
      {"numPausedRequests", Kind::Count, &TrtllmStats::paused},
      {"numQueuedCtxTokens", Kind::Count, &TrtllmStats::queued_ctx_tokens},
      {"avgNumDecodedTokensPerIter", Kind::Number, nullptr, &TrtllmStats::decoded_per_iter},
      {"microBatchId", Kind::Ignored},
      {"numScheduledRequests", Kind::Ignored},
      {"numCtxKvTokens", Kind::Ignored},
      {"numGenKvTokens", Kind::Ignored},
      {"numQueuedContextRequests", Kind::Ignored},
      {"numQueuedGenRequests", Kind::Ignored},
      {"numQueuedGenKvTokens", Kind::Ignored},
      {"numPausedKvTokens", Kind::Ignored},
  });
  return table;
}

const std::vector<Member>& request_members() {
  static const std::vector<Member> table = sorted({
      {"id", Kind::Id},
      {"contextPrefillPosition", Kind::Position},
      {"numGeneratedTokens", Kind::Generated},
      {"scheduled", Kind::Scheduled},
      {"paused", Kind::Paused},
      {"stage", Kind::Ignored},
      {"avgNumDecodedTokensPerIter", Kind::Ignored},
      {"allocTotalBlocksPerRequest", Kind::Ignored},
      {"allocNewBlocksPerRequest", Kind::Ignored},
      {"reusedBlocksPerRequest", Kind::Ignored},
      {"missedBlocksPerRequest", Kind::Ignored},
      {"kvCacheHitRatePerRequest", Kind::Ignored},
      {"disServingStats", Kind::NullOnly},
  });
  return table;
}

// A count: a JSON integer, non-negative, without a sign ("-0" is a double to simdjson).
[[gnu::always_inline]] inline bool count(Cursor& c, std::optional<std::int64_t>& out) {
  if (c.at_end()) return false;
  if (static_cast<unsigned char>(*c.position() - '0') >= 10) return c.literal("null");
  std::int64_t n = 0;
  if (!c.non_negative(n)) return false;
  out = n;
  return true;
}

// A JSON number as simdjson reads it, as the nearest double. An integer of more than 18 digits
// may be past 64 bits, where simdjson's rules differ: those go to the general path.
[[gnu::always_inline]] inline bool plain_number(Cursor& c, double& out) {
  canonical::NumberText n;
  if (!canonical::scan_number(c.position(), c.end(), n)) return false;
  if (!n.fraction && !n.exponent && n.digits > 18) return false;
  return c.number(n, out);
}

// A number that is read past: valid to simdjson (finite) is all that matters. Without an
// exponent, any number short enough is finite; with one, it is converted to know.
[[gnu::always_inline]] inline bool skipped_number(Cursor& c) {
  canonical::NumberText n;
  if (!canonical::scan_number(c.position(), c.end(), n)) return false;
  if (!n.fraction && !n.exponent && n.digits > 18) return false;
  if (!n.exponent && n.digits <= 300) {
    c.advance_to(n.end);
    return true;
  }
  double x = 0;
  return c.number(n, x);
}

[[gnu::always_inline]] inline bool non_negative_number(Cursor& c, std::optional<double>& out) {
  if (c.literal("null")) return true;
  double x = 0;
  if (!plain_number(c, x) || x < 0) return false;
  out = x;
  return true;
}

[[gnu::always_inline]] inline bool scalar(Cursor& c) {
  if (c.at_end()) return false;
  switch (*c.position()) {  // what the value is, from its first byte
    case '"': {
      std::string_view s;
      return c.plain_string(s);
    }
    case 'n': return c.literal("null");
    case 't': return c.literal("true");
    case 'f': return c.literal("false");
    default: return skipped_number(c);
  }
}

[[gnu::always_inline]] inline bool boolean(Cursor& c, std::optional<bool>& out) {
  if (c.literal("null")) return true;
  if (c.literal("true")) {
    out = true;
    return true;
  }
  if (c.literal("false")) {
    out = false;
    return true;
  }
  return false;
}

// {"key":value,...} with the keys in `table`'s order, each value read by `value`.
template <class Value>
bool members(Cursor& c, const std::vector<Member>& table, Value&& value) {
  if (!c.literal("{")) return false;
  if (c.literal("}")) return true;
  std::size_t next = 0;
  for (;;) {
    // A key not in the table from here on (unknown, out of order, twice, with an escape or
    // blanks) matches none: not canonical.
    while (next < table.size() && !key_is(c, table[next])) ++next;
    if (next == table.size()) return false;
    if (!value(table[next++])) return false;
    if (c.literal("}")) return true;
    if (!c.literal(",")) return false;
  }
}

[[gnu::always_inline]] inline bool stats_value(Cursor& c, const Member& m, TrtllmStats& s) {
  switch (m.kind) {
    case Kind::Count: return count(c, s.*m.count);
    case Kind::Number: return non_negative_number(c, s.*m.number);
    case Kind::Ignored: return scalar(c);
    case Kind::NullOnly: return c.literal("null");
    default: return false;
  }
}

// Where each value the record's reading used lies in it (for its shape, below).
struct ValueSpan {
  std::size_t begin = 0, end = 0;
  const Member* member = nullptr;
};
using ValueSpans = std::vector<ValueSpan>;

// `read` (the value of `m` at the cursor), its span added to `spans` if it reads.
template <class Read>
bool recorded(Cursor& c, std::string_view record, const Member& m, ValueSpans* spans, Read&& read) {
  const char* begin = c.position();
  if (!read()) return false;
  if (spans != nullptr)
    spans->push_back({static_cast<std::size_t>(begin - record.data()), static_cast<std::size_t>(c.position() - record.data()), &m});
  return true;
}

bool sub_object(Cursor& c, std::string_view record, const std::vector<Member>& table, TrtllmStats& s, bool& present,
                ValueSpans* spans) {
  present = false;
  if (c.literal("null")) return true;
  present = true;
  return members(c, table, [&](const Member& m) { return recorded(c, record, m, spans, [&] { return stats_value(c, m, s); }); });
}

bool request_entry(Cursor& c, TrtllmRequestEntry& e) {
  e = TrtllmRequestEntry{};
  std::optional<std::int64_t> id;
  const bool ok = members(c, request_members(), [&](const Member& m) {
    switch (m.kind) {
      case Kind::Id: return count(c, id);
      case Kind::Position: return count(c, e.position);
      case Kind::Generated: return count(c, e.generated);
      case Kind::Scheduled: return boolean(c, e.scheduled);
      case Kind::Paused: return boolean(c, e.paused);
      case Kind::Ignored: return scalar(c);
      case Kind::NullOnly: return c.literal("null");
      default: return false;
    }
  });
  if (!ok || !id) return false;  // no id: the general path says so
  e.id = *id;
  return true;
}

bool request_stats(Cursor& c, std::vector<TrtllmRequestEntry>& entries, bool& present) {
  present = false;
  if (c.literal("null")) return true;
  if (!c.literal("[")) return false;
  present = true;
  std::size_t n = 0;
  if (!c.literal("]")) {
    for (;;) {
      if (n == entries.size()) entries.emplace_back();
      if (!request_entry(c, entries[n++])) return false;
      if (c.literal("]")) break;
      if (!c.literal(",")) return false;
    }
  }
  entries.resize(n);
  return true;
}

bool timestamp(Cursor& c, TrtllmStats& s) {
  if (c.literal("null")) return true;
  std::string_view text;
  if (!c.plain_string(text)) return false;
  s.end_s = parse_date_time(text);
  return s.end_s.has_value();
}

// A value that is not an object of the record (those are read member by member).
bool leaf_value(Cursor& c, const Member& m, TrtllmStats& s, std::vector<TrtllmRequestEntry>& entries,
                bool& has_request_stats) {
  switch (m.kind) {
    case Kind::Timestamp: return timestamp(c, s);
    case Kind::RequestStats: return request_stats(c, entries, has_request_stats);
    default: return stats_value(c, m, s);
  }
}

// The reading by the tables: what is canonical. `spans` (if given) gets where each value was.
bool read_by_tables(std::string_view record, TrtllmStats& s, std::vector<TrtllmRequestEntry>& entries,
                    bool& has_request_stats, ValueSpans* spans) {
  entries.clear();
  has_request_stats = false;
  Cursor c(record);
  const bool ok = members(c, record_members(), [&](const Member& m) {
    switch (m.kind) {
      case Kind::KvCache: {
        bool present = false;
        return sub_object(c, record, kv_cache_members(), s, present, spans);
      }
      case Kind::Inflight: return sub_object(c, record, inflight_members(), s, s.inflight, spans);
      default:
        return recorded(c, record, m, spans, [&] { return leaf_value(c, m, s, entries, has_request_stats); });
    }
  });
  return ok && c.at_end() && s.iter.has_value();
}

}  // namespace

// A record's shape: the bytes between its values (keys, colons, commas, braces, nulls of
// absent objects) and the member each value is for, as the last record read by the tables
// had them. The executor writes the same keys in every record, so most records have the
// shape of the one before: read along it, each stretch of keys is one compare and each value
// is read by the tables' own functions, with no search for keys. What does not follow the
// shape is read by the tables, and its shape kept.
struct TrtllmRecordShape {
  struct Step {
    std::string before;  // the bytes before the value
    const Member* member = nullptr;
  };
  std::vector<Step> steps;
  std::string tail;  // after the last value
  bool inflight = false;
  ValueSpans spans;  // scratch, for learning
};

TrtllmCanonicalReader::TrtllmCanonicalReader() : shape_(std::make_unique<TrtllmRecordShape>()) {}
TrtllmCanonicalReader::~TrtllmCanonicalReader() = default;

bool TrtllmCanonicalReader::read(std::string_view record, TrtllmStats& s, std::vector<TrtllmRequestEntry>& entries,
                                 bool& has_request_stats) {
  TrtllmRecordShape& shape = *shape_;
  if (!shape.steps.empty()) {
    entries.clear();
    has_request_stats = false;
    Cursor c(record);
    bool along = true;
    for (const auto& step : shape.steps)
      if (!c.bytes(step.before) || !leaf_value(c, *step.member, s, entries, has_request_stats)) {
        along = false;
        break;
      }
    if (along && c.bytes(shape.tail) && c.at_end() && s.iter.has_value()) {
      s.inflight = shape.inflight;
      ++along_shape_;
      return true;
    }
    s = TrtllmStats{};
  }
  shape.spans.clear();
  if (!read_by_tables(record, s, entries, has_request_stats, &shape.spans)) {
    shape.steps.clear();
    return false;
  }
  shape.steps.resize(shape.spans.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < shape.spans.size(); ++i) {
    shape.steps[i].before.assign(record.substr(at, shape.spans[i].begin - at));
    shape.steps[i].member = shape.spans[i].member;
    at = shape.spans[i].end;
  }
  shape.tail.assign(record.substr(at));
  shape.inflight = s.inflight;
  return true;
}

bool read_canonical_trtllm_stats(std::string_view record, TrtllmStats& s, std::vector<TrtllmRequestEntry>& entries,
                                 bool& has_request_stats) {
  return read_by_tables(record, s, entries, has_request_stats, nullptr);
}

}  // namespace batchproof::traces
