// Request lifecycles from batch membership: a request's prompt tokens come before its output
// tokens, it gets no token after it has finished, at most one item per batch, and (when the
// log lists every arrival) only requests that arrived are scheduled. Needs request-level
// detail; the prompt and output lengths come from the logged arrivals where there are any.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/engine.hpp"
#include "traces/id_window_map.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// A set of request ids kept as intervals, so that requests that finish roughly in id order
// cost almost nothing. Past `max_intervals` the lowest interval is forgotten (bounded memory).
class IdIntervals {
 public:
  explicit IdIntervals(std::size_t max_intervals = 1u << 20) : max_(max_intervals) {}
  void insert(std::int64_t id);
  bool contains(std::int64_t id) const;
  std::size_t intervals() const { return spans_.size(); }

 private:
  std::map<std::int64_t, std::int64_t> spans_;  // first -> last, disjoint, not adjacent
  std::size_t max_;
};

class LifecycleTracker {
 public:
  LifecycleTracker(bool arrivals_complete, core::Accounting accounting)
      : arrivals_complete_(arrivals_complete), vidur_(accounting == core::Accounting::Vidur) {}

  // Takes one record's arrivals, batch and departures; appends a message per problem found.
  // Problems are reported once per request and kind, so a request gone wrong does not flood.
  void add(const Iteration& record, std::vector<std::string>& problems);

  // Whether prompts were known for the requests seen (the decode-before-prompt rule needs them).
  bool saw_prompts() const { return saw_prompts_; }
  bool saw_departures() const { return saw_departures_; }
  std::size_t live_requests() const { return live_.size(); }

 private:
  struct Life {
    std::optional<std::int64_t> prompt, output;
    std::int64_t prefilled = 0, decoded = 0;
    std::int64_t last_record = -1;  // the record whose batch last held it (two items in one batch)
    bool reported = false;
  };
  void finish(std::int64_t id);
  // Forgets requests of unknown length not seen for a long time: without departures or
  // lengths nothing says they finished, and memory must stay bounded.
  void forget_stale();

  bool arrivals_complete_, vidur_;
  bool saw_prompts_ = false, saw_departures_ = false;
  IdWindowMap<Life> live_;
  IdIntervals finished_;
  std::int64_t record_ = 0;  // records seen
  std::size_t sweep_at_ = std::size_t{1} << 16;  // live requests that trigger forget_stale()
};

}  // namespace batchproof::traces
