#include "traces/audit_checks.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "traces/audit_describe.hpp"

namespace batchproof::traces {

namespace {

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max() / 4;
// With only a usage fraction logged, memory counts as left below this fraction; between it and
// 1 a waiting request may be held back by memory (head-of-line blocking), which engines allow.
constexpr double kKvFractionLeft = 0.9;

std::string limit_text(const Limit& limit, std::string_view unit) {
  if (!limit.value) return fmt::format("none ({})", limit.source);
  return fmt::format("{} {} ({})", *limit.value, unit, limit.source);
}

// Requests in the batch: distinct ids with tokens, else the logged counts.
std::optional<std::int64_t> batch_requests(const Iteration& r) {
  if (r.has_items) {
    std::int64_t n = 0;
    for (const auto& it : r.items)
      if (it.prefill > 0 || it.decode) ++n;
    return n;
  }
  if (!r.prefill_requests && !r.decode_requests) return std::nullopt;
  return r.prefill_requests.value_or(0) + r.decode_requests.value_or(0);
}

// Prefill and decode tokens, from the items when there are any.
std::optional<std::pair<std::int64_t, std::int64_t>> phase_tokens(const Iteration& r) {
  if (r.has_items) {
    std::int64_t p = 0, d = 0;
    for (const auto& it : r.items) {
      p += it.prefill;
      d += it.decode ? 1 : 0;
    }
    return std::pair{p, d};
  }
  if (r.prefill_tokens && r.decode_tokens) return std::pair{*r.prefill_tokens, *r.decode_tokens};
  if (r.prefill_requests && r.decode_requests) return std::pair{*r.prefill_requests, *r.decode_requests};
  return std::nullopt;
}

}  // namespace

// What the checks remember of one stream: the previous record, and the requests seen.
struct RecordChecks::Stream {
  explicit Stream(const RecordCheckConfig& c) : lifecycle(c.arrivals_complete, c.limits.accounting) {}
  std::int64_t ordinal = 0;
  std::optional<std::int64_t> last_index;
  std::optional<double> last_start;
  std::int64_t last_line = 0;
  LifecycleTracker lifecycle;
  std::vector<std::string> problems;  // scratch
};

RecordChecks::RecordChecks(RecordCheckConfig config, AuditTally& tally) : config_(std::move(config)), tally_(tally) {
  const auto& l = config_.limits;
  if (l.budget.known) tally_.set_limit(CheckKind::Budget, limit_text(l.budget, "tokens"));
  if (l.max_batch.known) tally_.set_limit(CheckKind::BatchLimit, limit_text(l.max_batch, "requests"));
  if (l.kv_tokens.known) tally_.set_limit(CheckKind::Kv, limit_text(l.kv_tokens, "tokens"));
}

RecordChecks::~RecordChecks() = default;

RecordChecks::Stream& RecordChecks::open_stream(const std::string& name) {
  auto& slot = streams_[name];
  if (!slot) {
    slot = std::make_unique<Stream>(config_);
    if (config_.format == Format::VidurChrome && streams_.size() == 2) {
      // A second replica: Vidur's batch ids are one counter for every replica, so a skip in
      // one replica's ids is another's batch. The skips held are dropped; from here on only a
      // counter going back is judged.
      shared_counter_ = true;
      held_gaps_.clear();
      held_more_ = 0;
      tally_.set_limit(CheckKind::IterationGap, "Vidur numbers the batches of every replica with one counter: skips "
                                                "not judged, a counter going back is");
    }
  }
  last_ = slot.get();
  last_name_ = name;
  return *last_;
}

void RecordChecks::add(const Iteration& r, const std::string& file, bool in_window) {
  Stream& s = stream(r.stream);
  const std::int64_t number = iteration_number(r, s.ordinal);
  auto report = [&](CheckKind kind, std::string message) { this->report(kind, r, file, number, std::move(message)); };
  const auto& lim = config_.limits;
  const auto tokens = r.tokens();

  // Lifecycles and the clock are followed on every record; only records in the window are judged.
  if (r.has_items) {
    s.problems.clear();
    s.lifecycle.add(r, s.problems);
    if (in_window) {
      tally_.checked(CheckKind::Lifecycle);
      for (auto& p : s.problems) report(CheckKind::Lifecycle, std::move(p));
    }
  }

  // A record that stands for no engine step (a stats snapshot, retractions logged alone) has no
  // batch to judge: only its time counts.
  const bool batch = r.steps > 0;
  if (in_window) {
    // Clock: starts never go back, durations are not negative.
    if (!r.start_s && !r.duration_s) {
      tally_.undecided(CheckKind::ClockRegression, "the record logs no time");
    } else {
      tally_.checked(CheckKind::ClockRegression);
      if (r.start_s && s.last_start && *r.start_s < *s.last_start)
        report(CheckKind::ClockRegression,
               fmt::format("starts at {:.6f} s, {:.6f} s before the previous record (line {}) started", *r.start_s,
                           *s.last_start - *r.start_s, s.last_line));
      else if (r.duration_s && *r.duration_s < 0)
        report(CheckKind::ClockRegression, fmt::format("lasts {:.6f} s: it ends before it starts", *r.duration_s));
    }
    // Gaps in the engine's iteration counter.
    if (config_.support.every_iteration) {
      if (!r.index) {
        tally_.undecided(CheckKind::IterationGap, "the record logs no iteration counter");
      } else {
        tally_.checked(CheckKind::IterationGap);
        if (s.last_index && *r.index > *s.last_index + 1 && !shared_counter_) {
          std::int64_t missing = *r.index - *s.last_index - 1;
          std::string message =
              missing == 1 ? fmt::format("iteration {} is missing (1 record dropped after line {})", *s.last_index + 1,
                                         s.last_line)
                           : fmt::format("iterations {} to {} are missing ({} records dropped after line {})",
                                         *s.last_index + 1, *r.index - 1, missing, s.last_line);
          if (config_.format != Format::VidurChrome) {
            report(CheckKind::IterationGap, std::move(message));
          } else if (static_cast<std::int64_t>(held_gaps_.size()) < tally_.kept_per_kind()) {
            // Held until the trace shows whether it has one replica (see stream()).
            held_gaps_.push_back(
                Finding{CheckKind::IterationGap, file, r.stream, number, r.line, std::move(message), {describe_record(r)}});
          } else {
            ++held_more_;
          }
        } else if (s.last_index && *r.index > *s.last_index + 1) {
          // Another replica's batches (Vidur's shared counter).
        } else if (s.last_index && *r.index <= *s.last_index) {
          report(CheckKind::IterationGap,
                 fmt::format("the iteration counter goes from {} (line {}) back to {}: a restarted engine, or records "
                             "out of order",
                             *s.last_index, s.last_line, *r.index));
        }
      }
    }

  }
  if (in_window && batch) {
    // Limits the log states record by record (no spec, no header): say so once.
    if (!logged_limits_named_) {
      logged_limits_named_ = true;
      if (!lim.budget.known && r.budget_tokens) tally_.set_limit(CheckKind::Budget, "as the log states it");
      if (!lim.max_batch.known && r.budget_requests) tally_.set_limit(CheckKind::BatchLimit, "as the log states it");
      if (!lim.kv_tokens.known && r.kv_total_tokens) tally_.set_limit(CheckKind::Kv, "as the log states it");
    }
    // Token budget.
    auto budget = lim.budget.or_logged(r.budget_tokens);
    if (!budget.known) {
      tally_.undecided(CheckKind::Budget, "no token budget known (give --spec and --engine, or a log that states it)");
    } else if (!tokens) {
      tally_.undecided(CheckKind::Budget, "the record does not log its tokens");
    } else if (!budget.value) {
      tally_.checked(CheckKind::Budget);
    } else if (*tokens > *budget.value) {
      tally_.checked(CheckKind::Budget);
      report(CheckKind::Budget, fmt::format("the batch holds {} tokens, over the budget of {}", *tokens, *budget.value));
    } else if (lim.budget_form == core::BudgetForm::Padded) {
      if (!r.has_items) {
        tally_.undecided(CheckKind::Budget, "a padded budget needs each request's tokens, which the record lacks");
      } else {
        tally_.checked(CheckKind::Budget);
        std::int64_t n = 0, widest = 0;
        for (const auto& it : r.items)
          if (it.prefill > 0) {
            ++n;
            widest = std::max(widest, it.prefill);
          }
        if (n * widest > *budget.value)
          report(CheckKind::Budget, fmt::format("the padded batch is {} prefills x {} tokens = {}, over the budget "
                                                "of {}",
                                                n, widest, n * widest, *budget.value));
      }
    } else {
      tally_.checked(CheckKind::Budget);
    }

    // Batch-size limit.
    auto max_batch = lim.max_batch.or_logged(r.budget_requests);
    auto requests = batch_requests(r);
    if (!max_batch.known) {
      tally_.undecided(CheckKind::BatchLimit, "no batch-size limit known (give --spec and --engine, or a log that "
                                              "states it)");
    } else if (!requests) {
      tally_.undecided(CheckKind::BatchLimit, "the record does not log the requests in its batch");
    } else {
      tally_.checked(CheckKind::BatchLimit);
      if (max_batch.value && *requests > *max_batch.value)
        report(CheckKind::BatchLimit,
               fmt::format("the batch holds {} requests, over the limit of {}", *requests, *max_batch.value));
    }

    // KV memory.
    auto kv = lim.kv_tokens.or_logged(r.kv_total_tokens);
    if (kv.known && !kv.value) {
      tally_.checked(CheckKind::Kv);
    } else if (kv.known && r.kv_used_tokens) {
      tally_.checked(CheckKind::Kv);
      if (*r.kv_used_tokens > *kv.value)
        report(CheckKind::Kv, fmt::format("KV in use is {} tokens, over the capacity of {}", *r.kv_used_tokens,
                                          *kv.value));
    } else if (r.kv_usage) {
      tally_.checked(CheckKind::Kv);
      if (*r.kv_usage > 1.0 + 1e-9)
        report(CheckKind::Kv, fmt::format("KV usage is {:.1f}%, over the capacity", 100 * *r.kv_usage));
    } else if (!kv.known) {
      tally_.undecided(CheckKind::Kv, "no KV capacity known (give --spec and --engine, or a log that states it)");
    } else {
      tally_.undecided(CheckKind::Kv, "the record does not log the KV in use");
    }

    // Mixing of phases, where the spec's policy never mixes.
    if (lim.policy_mixes && !*lim.policy_mixes) {
      auto phases = phase_tokens(r);
      if (!phases) {
        tally_.undecided(CheckKind::MixedBatch, "the record does not log its prefill and decode parts");
      } else {
        tally_.checked(CheckKind::MixedBatch);
        if (phases->first > 0 && phases->second > 0)
          report(CheckKind::MixedBatch,
                 fmt::format("the batch mixes {} prefill and {} decode, which the policy of {} never does",
                             phases->first, phases->second, lim.policy_source));
      }
    }

    // Work conservation from the logged queue (when no replay decides it exactly).
    if (!config_.exact_work_conservation && config_.support.work_conservation) check_logged_work(r, file, number);
  }

  ++s.ordinal;
  if (r.index) s.last_index = r.index;
  if (r.start_s) s.last_start = r.start_s;
  s.last_line = r.line;
}

void RecordChecks::report(CheckKind kind, const Iteration& r, const std::string& file, std::int64_t number,
                          std::string message, bool as_note) {
  Finding f{kind, file, r.stream, number, r.line, std::move(message), {describe_record(r)}};
  if (as_note) tally_.note(std::move(f));
  else tally_.violation(std::move(f));
}

void RecordChecks::check_logged_work(const Iteration& r, const std::string& file, std::int64_t number) {
  auto report = [&](CheckKind kind, std::string message, bool as_note = false) {
    this->report(kind, r, file, number, std::move(message), as_note);
  };
  const auto& lim = config_.limits;
  constexpr CheckKind kWc = CheckKind::WorkConservation;
  std::int64_t unscheduled = 0;
  bool known_unscheduled = false;
  for (const auto& it : r.items)
    if (it.scheduled) {
      known_unscheduled = true;
      if (!*it.scheduled && !it.paused.value_or(false)) ++unscheduled;
    }
  // TensorRT-LLM counts the active requests, the batch's among them: those neither in the batch
  // nor paused sat unscheduled (numActiveRequests − numScheduledRequests, TRACE-FORMATS.md §8).
  if (!known_unscheduled && config_.format == Format::TrtllmIterStats && r.running) {
    if (auto requests = batch_requests(r)) {
      unscheduled = std::max<std::int64_t>(0, *r.running - *requests - r.preempted.value_or(0));
      known_unscheduled = true;
    }
  }
  // SGLang runs prefill and decode in separate batches (unless --enable-mixed-chunk): the running
  // requests of a prefill line whose decode part is known to be empty sat out of the batch.
  if (!known_unscheduled && config_.format == Format::Sglang && r.running && r.prefill_tokens.value_or(0) > 0 &&
      r.decode_tokens && *r.decode_tokens == 0) {
    unscheduled = *r.running;
    known_unscheduled = true;
  }
  if (!r.waiting && !known_unscheduled) {
    tally_.undecided(kWc, "the record does not log the waiting queue");
    return;
  }
  std::int64_t waiting = r.waiting.value_or(0);
  if (waiting == 0 && unscheduled == 0) {
    tally_.checked(kWc);
    return;
  }
  auto budget = lim.budget.or_logged(r.budget_tokens);
  auto tokens = r.tokens();
  if (!budget.known || !tokens) {
    tally_.undecided(kWc, !budget.known ? "no token budget known" : "the record does not log its tokens");
    return;
  }
  const std::int64_t budget_left = budget.value ? *budget.value - *tokens : kNoLimit;
  if (budget_left <= 0) {
    tally_.checked(kWc);
    return;
  }
  auto max_batch = lim.max_batch.or_logged(r.budget_requests);
  auto requests = batch_requests(r);
  if (!max_batch.known || !requests) {
    tally_.undecided(kWc, !max_batch.known ? "no batch-size limit known" : "the record does not log its requests");
    return;
  }
  const std::int64_t slots_left = max_batch.value ? *max_batch.value - *requests : kNoLimit;
  if (slots_left <= 0) {
    tally_.checked(kWc);
    return;
  }
  // The engine's max_running closes admission: the waiting requests could not have joined.
  if (config_.engine && config_.engine->max_running && r.running && *r.running >= *config_.engine->max_running)
    waiting = 0;
  if (waiting == 0 && unscheduled == 0) {
    tally_.checked(kWc);
    return;
  }
  // Memory left: in tokens where the log gives them, else as a fraction.
  auto kv = lim.kv_tokens.or_logged(r.kv_total_tokens);
  std::string kv_text;
  bool memory_short = false;
  if (kv.known && !kv.value) {
    // no limit: nothing to say
  } else if (kv.known && r.kv_used_tokens) {
    std::int64_t free = *kv.value - *r.kv_used_tokens;
    kv_text = fmt::format("{} KV tokens", std::max<std::int64_t>(0, free));
    // Memory for what the budget had left (a block, without a budget), else memory may be why.
    memory_short = free < (budget.value ? budget_left : lim.block_size);
  } else if (r.kv_usage) {
    kv_text = fmt::format("{:.1f}% of KV", 100 * (1 - *r.kv_usage));
    memory_short = *r.kv_usage >= kKvFractionLeft;
  } else {
    tally_.undecided(kWc, "the record does not log the KV in use");
    return;
  }
  tally_.checked(kWc);
  std::string who = waiting > 0 && unscheduled > 0
                        ? fmt::format("{} requests waited and {} active requests sat unscheduled", waiting, unscheduled)
                    : waiting > 0 ? fmt::format("{} request{} waited", waiting, waiting == 1 ? "" : "s")
                                  : fmt::format("{} active request{} sat unscheduled", unscheduled,
                                                unscheduled == 1 ? "" : "s");
  std::string left = budget.value ? fmt::format("{} tokens of the budget", budget_left) : "no budget limit";
  if (max_batch.value) left.append(fmt::format(", {} batch slots", slots_left));
  left.append(kv.known && !kv.value ? " left (no KV limit)" : fmt::format(" and {} left", kv_text));
  if (memory_short) {
    report(kWc, fmt::format("{} with {}: memory may have held them back (head-of-line blocking on KV, allowed)", who,
                            left),
           true);
  } else if (waiting > 0 && unscheduled == 0 && reserves_at_admission()) {
    report(kWc, fmt::format("{} with {}: {}", who, left, reservation_text()), true);
  } else {
    report(kWc, fmt::format("{} with {}", who, left));
  }
}

bool RecordChecks::reserves_at_admission() const {
  if (config_.engine) return config_.engine->admission != core::Admission::None;
  // Engines whose default admission sets KV aside beyond what the log shows.
  return config_.format == Format::TrtllmIterStats || config_.format == Format::TrtllmPyExecutor ||
         config_.format == Format::Sglang;
}

std::string RecordChecks::reservation_text() const {
  if (config_.engine)
    return "the engine reserves KV at admission, and the log does not show how much the waiting requests need "
           "(allowed)";
  if (config_.format == Format::Sglang)
    return "SGLang reserves KV for the running requests' future tokens (schedule_conservativeness), which the log "
           "does not show (allowed; --spec with an engine of `admission none` judges it)";
  return "TensorRT-LLM's default GUARANTEED_NO_EVICT reserves each request's maximum length at admission, which the "
         "log does not show (allowed; --spec with an engine of `admission none` judges it)";
}

void RecordChecks::finish() {
  // One replica to the end: the skips held were records dropped.
  for (auto& f : held_gaps_) tally_.violation(std::move(f));
  for (; held_more_ > 0; --held_more_)
    tally_.violation(Finding{CheckKind::IterationGap, {}, {}, 0, 0, {}, {}});  // counted, not kept
  held_gaps_.clear();
  const auto& s = config_.support;
  if (!s.request_level) tally_.not_checkable(CheckKind::Lifecycle, "the format has no per-request detail");
  if (!s.every_iteration)
    tally_.not_checkable(CheckKind::IterationGap, "the format logs a sample of the iterations, not every one");
  if (!config_.exact_work_conservation && !s.work_conservation)
    tally_.not_checkable(CheckKind::WorkConservation, "the format does not log the waiting queue beside each batch");
  if (!config_.limits.policy_mixes)
    tally_.not_checkable(CheckKind::MixedBatch, "no policy known (give --spec and --engine)");
  else if (*config_.limits.policy_mixes)
    tally_.not_checkable(CheckKind::MixedBatch,
                         fmt::format("the policy of {} mixes prefill and decode", config_.limits.policy_source));
}

}  // namespace batchproof::traces
