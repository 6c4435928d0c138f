#include "traces/batchproof_canonical.hpp"

#include "traces/canonical_cursor.hpp"

namespace batchproof::traces {

namespace {

using canonical::Cursor;

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

// {"id":N,"time_s":X,"prompt":N,"output":N}: an arrival without a class (one with a class, a
// string that may hold escapes, goes to the general path).
bool arrival(Cursor& c, core::TraceArrival& a) {
  a.cls.clear();
  return c.literal("{\"id\":") && c.integer(a.id) && c.literal(",\"time_s\":") && c.number(a.time_s) &&
         c.literal(",\"prompt\":") && c.non_negative(a.prompt) && c.literal(",\"output\":") &&
         c.non_negative(a.output) && c.literal("}");
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
  it.arrivals.clear();
  if (c.literal(",\"arrivals\":[")) {
    for (;;) {
      if (!arrival(c, it.arrivals.emplace_back())) return false;
      if (c.literal("]")) break;
      if (!c.literal(",")) return false;
    }
  }
  it.departures.clear();
  it.preempted.clear();
  it.requests.reset();
  if (c.literal(",\"departures\":") && !c.integers(",", it.departures)) return false;
  if (c.literal(",\"preempted\":") && !c.integers(",", it.preempted)) return false;
  if (!c.literal("}") || !c.at_end()) return false;
  it.tokens = has_tokens ? tokens : core::item_tokens(it.items);
  return true;
}

}  // namespace batchproof::traces
