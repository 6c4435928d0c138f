#include "traces/audit_lifecycle.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace batchproof::traces {

void IdIntervals::insert(std::int64_t id) {
  if (contains(id)) return;
  auto next = spans_.upper_bound(id);  // first span starting after id
  bool joins_next = next != spans_.end() && next->first == id + 1;
  bool joins_prev = false;
  auto prev = next;
  if (prev != spans_.begin()) {
    --prev;
    joins_prev = prev->second == id - 1;
  }
  if (joins_prev && joins_next) {
    prev->second = next->second;
    spans_.erase(next);
  } else if (joins_prev) {
    prev->second = id;
  } else if (joins_next) {
    std::int64_t last = next->second;
    spans_.erase(next);
    spans_.emplace(id, last);
  } else {
    spans_.emplace(id, id);
    if (spans_.size() > max_) spans_.erase(spans_.begin());
  }
}

bool IdIntervals::contains(std::int64_t id) const {
  auto it = spans_.upper_bound(id);
  if (it == spans_.begin()) return false;
  --it;
  return id <= it->second;
}

void LifecycleTracker::finish(std::int64_t id) {
  live_.erase(id);
  finished_.insert(id);
}

void LifecycleTracker::forget_stale() {
  // A request of unknown length that no batch held in the last 4096 records is taken as gone.
  constexpr std::int64_t kStale = 4096;
  live_.erase_if([&](std::int64_t, const Life& life) { return !life.prompt && life.last_record < record_ - kStale; });
  sweep_at_ = std::max(sweep_at_, 2 * live_.size());
}

void LifecycleTracker::add(const Iteration& r, std::vector<std::string>& problems) {
  if (live_.size() > sweep_at_) forget_stale();
  for (const auto& a : r.arrivals) {
    Life& life = live_.get(a.id);
    life.prompt = a.prompt;
    life.output = a.output;
    life.prefilled = a.prefilled;
    life.decoded = a.decoded;
    saw_prompts_ = true;
  }
  ++record_;
  for (const auto& item : r.items) {
    const bool gets_tokens = item.prefill > 0 || item.decode;
    if (item.paused.value_or(false) && !gets_tokens) {
      // Preempted by recompute: it starts over with everything it had processed as its prompt.
      if (Life* found = live_.find(item.id)) {
        // As core::step restarts: the processed tokens become the prompt, the rest output.
        Life& life = *found;
        const std::int64_t processed = life.prefilled + life.decoded;
        if (processed > 0 && life.prompt) {
          if (life.output) *life.output = *life.prompt + *life.output - processed;
          life.prompt = processed;
        }
        life.prefilled = 0;
        life.decoded = 0;
      }
      continue;
    }
    if (!gets_tokens) continue;
    // A live request has not finished (finish() forgets it): the set of finished ones is asked
    // only about the others.
    Life* found = live_.find(item.id);
    if (!found && finished_.contains(item.id)) {
      problems.push_back(fmt::format("request {} gets a token after it finished", item.id));
      continue;
    }
    if (!found) {
      if (arrivals_complete_) {
        problems.push_back(fmt::format("request {} is in the batch but never arrived", item.id));
        finished_.insert(item.id);  // once is enough
        continue;
      }
      found = &live_.get(item.id);
    }
    Life& life = *found;
    if (life.last_record == record_) {
      problems.push_back(fmt::format("request {} has two items in one batch", item.id));
      continue;
    }
    life.last_record = record_;
    const std::int64_t prefilled_before = life.prefilled;
    if (item.prefill > 0) {
      if (life.decoded > 0 && !life.reported) {
        problems.push_back(fmt::format("request {} gets prompt tokens after {} output tokens", item.id, life.decoded));
        life.reported = true;
      } else if (life.prompt && life.prefilled + item.prefill > *life.prompt && !life.reported) {
        problems.push_back(fmt::format("request {} gets {} prompt tokens with {} of its {} left", item.id,
                                       item.prefill, *life.prompt - life.prefilled, *life.prompt));
        life.reported = true;
      }
      life.prefilled += item.prefill;
      if (vidur_ && life.prompt && prefilled_before < *life.prompt && life.prefilled >= *life.prompt) ++life.decoded;
    }
    if (item.decode) {
      if (life.prompt && prefilled_before < *life.prompt && !life.reported) {
        problems.push_back(fmt::format("request {} gets a decode token before its prompt is done ({} of {} prompt "
                                       "tokens processed when the iteration started)",
                                       item.id, prefilled_before, *life.prompt));
        life.reported = true;
      } else if (life.output && life.decoded >= *life.output && !life.reported) {
        problems.push_back(fmt::format("request {} gets a decode token after all {} of its output tokens", item.id,
                                       *life.output));
        life.reported = true;
      }
      ++life.decoded;
    }
    // Without logged departures, a request whose lengths are known finishes by its counts.
    if (life.prompt && life.output && life.prefilled >= *life.prompt && life.decoded >= *life.output &&
        !saw_departures_)
      finish(item.id);
  }
  for (std::int64_t id : r.departures) {
    saw_departures_ = true;
    finish(id);
  }
}

}  // namespace batchproof::traces
