#include "traces/batchproof_canonical.hpp"

#include "traces/canonical_cursor.hpp"
#include "traces/reader_support.hpp"
#include "traces/trace_records.hpp"

namespace batchproof::traces {

namespace {

using canonical::Cursor;

// {"id":N[,"prefill":N][,"decode":1]} with prefill > 0 (the writer leaves a 0 out).
bool item(Cursor& c, RequestItem& it) {
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
bool arrival(Cursor& c, ArrivalItem& a) {
  return c.literal("{\"id\":") && c.integer(a.id) && c.literal(",\"time_s\":") && c.number(a.time_s) &&
         c.literal(",\"prompt\":") && c.non_negative(a.prompt) && c.literal(",\"output\":") &&
         c.non_negative(a.output) && c.literal("}");
}

}  // namespace

bool read_canonical_iteration(std::string_view line, Iteration& r, std::vector<std::int64_t>& preempted) {
  Cursor c(line);
  std::int64_t index = 0, tokens = 0, waiting = 0, running = 0, kv_used = 0;
  double start_s = 0, end_s = 0;
  if (!c.literal("{\"type\":\"iteration\",\"index\":") || !c.non_negative(index) || !c.literal(",\"start_s\":") ||
      !c.number(start_s) || !c.literal(",\"end_s\":") || !c.number(end_s))
    return false;
  // The batch's tokens are checked as core's reader checks them (non-negative), and not kept:
  // the record counts its items' tokens.
  if (c.literal(",\"tokens\":") && !c.non_negative(tokens)) return false;
  if (!c.literal(",\"waiting\":") || !c.non_negative(waiting) || !c.literal(",\"running\":") ||
      !c.non_negative(running) || !c.literal(",\"kv_used\":") || !c.non_negative(kv_used) ||
      !c.literal(",\"items\":["))
    return false;
  reset_record(r);
  std::int64_t prefill_requests = 0, prefill_tokens = 0, decodes = 0;
  if (!c.literal("]")) {
    for (;;) {
      RequestItem& it = r.items.emplace_back();
      if (!item(c, it)) return false;
      prefill_requests += it.prefill > 0 ? 1 : 0;
      prefill_tokens += it.prefill;
      decodes += it.decode ? 1 : 0;
      if (c.literal("]")) break;
      if (!c.literal(",")) return false;
    }
  }
  if (c.literal(",\"arrivals\":[")) {
    for (;;) {
      if (!arrival(c, r.arrivals.emplace_back())) return false;
      if (c.literal("]")) break;
      if (!c.literal(",")) return false;
    }
  }
  preempted.clear();
  if (c.literal(",\"departures\":") && !c.integers(",", r.departures)) return false;
  if (c.literal(",\"preempted\":") && !c.integers(",", preempted)) return false;
  if (!c.literal("}") || !c.at_end()) return false;
  r.index = index;
  r.start_s = start_s;
  r.duration_s = end_s - start_s;
  r.has_items = true;
  mark_preempted(preempted, r);
  r.prefill_requests = prefill_requests;
  r.prefill_tokens = prefill_tokens;
  r.decode_requests = decodes;
  r.decode_tokens = decodes;
  r.running = running;
  r.waiting = waiting;
  r.kv_used_tokens = kv_used;
  return true;
}

}  // namespace batchproof::traces
