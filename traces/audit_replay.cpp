#include "traces/audit_replay.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/batch_check.hpp"
#include "core/step.hpp"
#include "traces/audit_allowances.hpp"
#include "traces/audit_describe.hpp"
#include "traces/replay_state.hpp"

namespace batchproof::traces {

namespace {

// The same requests with the same tokens, whatever the order the batch lists them in.
bool same_batch(std::vector<core::BatchItem> a, std::vector<core::BatchItem> b) {
  if (a.size() != b.size()) return false;
  auto by_id = [](const core::BatchItem& x, const core::BatchItem& y) { return x.request < y.request; };
  std::sort(a.begin(), a.end(), by_id);
  std::sort(b.begin(), b.end(), by_id);
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].request != b[i].request || a[i].prefill != b[i].prefill || a[i].decode != b[i].decode) return false;
  return true;
}

// "2 running (0: 120 of 200 prompt tokens, 1: decoding 3 of 40), 1 waiting (2: prompt 100)".
std::string describe_state(const core::EngineState& s, std::size_t max_requests = 8) {
  auto request = [](const core::Request& r) {
    if (!r.prompt_done()) return fmt::format("{}: {} of {} prompt tokens", r.id, r.prefilled, r.prompt);
    return fmt::format("{}: decoded {} of {}", r.id, r.decoded, r.output);
  };
  auto list = [&](auto begin, auto end, std::size_t n) {
    std::string out;
    std::size_t i = 0;
    for (auto it = begin; it != end && i < max_requests; ++it, ++i) {
      if (i) out.append(", ");
      out.append(request(*it));
    }
    if (n > max_requests) out.append(fmt::format(", ... {} more", n - max_requests));
    return out;
  };
  std::string out = fmt::format("state before: {} running", s.running.size());
  if (!s.running.empty()) out.append(fmt::format(" ({})", list(s.running.begin(), s.running.end(), s.running.size())));
  out.append(fmt::format(", {} waiting", s.waiting.size()));
  if (!s.waiting.empty()) out.append(fmt::format(" ({})", list(s.waiting.begin(), s.waiting.end(), s.waiting.size())));
  out.append(fmt::format(", KV {} tokens", s.kv_used));
  return out;
}

}  // namespace

Replay::Replay(ReplayConfig config, AuditTally& tally) : config_(std::move(config)), tally_(tally) {}

void Replay::start(const std::vector<core::TraceRequestState>& requests) {
  std::int64_t iteration = state_.iteration;
  state_ = state_from_trace(config_.engine, requests);
  state_.iteration = iteration;
}

void Replay::arrive(const std::vector<ArrivalItem>& arrivals) {
  for (const auto& a : arrivals) traces::arrive(config_.engine, state_, a);
}

void Replay::add(const Iteration& record, const std::string& file, std::int64_t ordinal, bool in_window,
                 std::size_t present, const std::vector<core::TraceRequestState>* checkpoint) {
  for (std::size_t k = present; k < record.arrivals.size(); ++k) traces::arrive(config_.engine, state_, record.arrivals[k]);
  const std::int64_t number = iteration_number(record, ordinal);
  // The logged batch as core's checks take it, made only when something compares or judges it
  // (most iterations need neither: see below).
  bool batch_made = false;
  auto logged_batch = [&]() -> const core::Batch& {
    if (!batch_made) batch_of(record, batch_);
    batch_made = true;
    return batch_;
  };

  bool followed_policy = false;
  if (config_.from_spec) {
    const core::Batch& batch = logged_batch();
    predicted_ = state_;
    core::step(config_.engine, predicted_, outcome_);
    if (same_batch(outcome_.batch.items, batch.items)) {
      followed_policy = true;
      std::swap(after_, predicted_);
    }
    if (in_window) {
      tally_.checked(CheckKind::PolicyDivergence);
      if (!followed_policy)
        tally_.violation(Finding{CheckKind::PolicyDivergence,
                                 file,
                                 record.stream,
                                 number,
                                 record.line,
                                 fmt::format("the logged batch is not the one the policy of {} forms from the same "
                                             "state",
                                             config_.label),
                                 {describe_record(record), "logged batch: " + describe_items(batch.items),
                                  "policy's batch: " + describe_items(outcome_.batch.items), describe_state(state_)}});
    }
  }
  // A batch with no room for one more token left nothing out that fit, whatever the state
  // (core::check_batch's first test): without a spec nothing else reads the state before it,
  // so the batch is applied in place, without a copy of the state.
  std::int64_t tokens = 0;
  for (const auto& it : record.items) tokens += it.prefill + (it.decode ? 1 : 0);
  const bool budget_full = config_.engine.token_budget && tokens + 1 > *config_.engine.token_budget;
  if (!config_.from_spec && (budget_full || !in_window)) {
    ignored_items_ += apply_logged_iteration(config_.engine, state_, record, scratch_);
    if (in_window) tally_.checked(CheckKind::WorkConservation);
    settle(state_, record, checkpoint, file, number);
    return;
  }
  bool every_request_served = false;
  if (!followed_policy) {
    after_ = state_;  // copy-assigned: the buffers of the last iteration are reused
    ignored_items_ += apply_logged_iteration(config_.engine, after_, record, scratch_);
    every_request_served = scratch_.every_request_served;
  }
  core::EngineState& after = after_;
  if (in_window) {
    // A batch that gave every request all it could take left no token out, whatever the
    // limits: core::check_batch has nothing to find, and is not asked.
    if (every_request_served) tally_.checked(CheckKind::WorkConservation);
    else check_work(record, logged_batch(), after, file, number);
  }
  settle(after, record, checkpoint, file, number);
  std::swap(state_, after_);
}

void Replay::settle(core::EngineState& after, const Iteration& record,
                    const std::vector<core::TraceRequestState>* checkpoint, const std::string& file,
                    std::int64_t number) {
  if (checkpoint) {  // the log's own word on every request
    std::int64_t iteration = after.iteration;
    after = state_from_trace(config_.engine, *checkpoint);
    after.iteration = iteration;
  }
  // The log's counts against the state its own batches lead to: once they part, the rebuilt
  // state is no longer the engine's, and the log is inconsistent with itself.
  const auto waiting = static_cast<std::int64_t>(after.waiting.size());
  const auto running = static_cast<std::int64_t>(after.running.size());
  const bool counts_logged = config_.counts_are_queues && record.waiting && record.running;
  if (counts_logged && !counts_mismatch_reported_ && (waiting != *record.waiting || running != *record.running)) {
    counts_mismatch_reported_ = true;
    tally_.violation(Finding{CheckKind::Lifecycle,
                             file,
                             record.stream,
                             number,
                             record.line,
                             fmt::format("the log counts {} waiting and {} running after this iteration, but its "
                                         "arrivals, batches and departures leave {} waiting and {} running (reported "
                                         "once)",
                                         *record.waiting, *record.running, waiting, running),
                             {describe_record(record)}});
  }
}

void Replay::check_work(const Iteration& record, const core::Batch& batch, const core::EngineState& after,
                        const std::string& file, std::int64_t number) {
  constexpr auto kWc = core::Property::WorkConserving;
  tally_.checked(CheckKind::WorkConservation);
  // core::check_batch takes the memory free after the iteration; the requests that finished in
  // it held theirs while the batch was formed, so it is counted back as in use.
  const core::EngineState* judged_after = &after;
  if (config_.engine.kv_tokens() && !record.departures.empty()) {
    after_with_departed_ = after;
    const std::int64_t block = std::max<std::int64_t>(1, config_.engine.block_size);
    std::vector<std::int64_t> gone(record.departures.begin(), record.departures.end());
    std::sort(gone.begin(), gone.end());
    for (const auto& r : state_.running) {
      if (!std::binary_search(gone.begin(), gone.end(), r.id)) continue;
      std::int64_t processed = r.prefilled + r.decoded;
      for (const auto& it : batch.items)
        if (it.request == r.id) processed += it.prefill + (it.decode ? 1 : 0);
      after_with_departed_.kv_used += std::max(r.kv_held, core::round_up_to_block(processed, block));
    }
    judged_after = &after_with_departed_;
  }
  const core::EngineState& held = *judged_after;
  auto verdict = core::check_batch(config_.engine, state_, batch, held, kWc);
  if (!verdict.violation) return;
  auto finding = [&](std::string message) {
    return Finding{CheckKind::WorkConservation,
                   file,
                   record.stream,
                   number,
                   record.line,
                   std::move(message),
                   {describe_record(record), "batch: " + describe_items(batch.items), describe_state(state_)}};
  };
  // Tokens outside a padded budget did not fit: no finding.
  core::EngineState before = state_;
  drop_outside_padded_budget(config_.engine, before, batch);
  auto within_budget = core::check_batch(config_.engine, before, batch, held, kWc);
  if (!within_budget.violation) return;
  if (!config_.from_spec) {
    tally_.violation(finding(*within_budget.violation));
    return;
  }
  std::vector<std::string> reasons;
  drop_allowed_by_configuration(config_.engine, before, batch, held, reasons);
  auto beyond = core::check_batch(config_.engine, before, batch, held, kWc);
  if (beyond.violation) {
    tally_.violation(finding(*beyond.violation));
    return;
  }
  std::string why;
  for (const auto& r : reasons) {
    if (!why.empty()) why.append("; ");
    why.append(r);
  }
  tally_.note(finding(fmt::format("{}; allowed by the configuration of {}: {}", *within_budget.violation,
                                  config_.label, why)));
}

void Replay::finish() {
  if (!config_.from_spec)
    tally_.not_checkable(CheckKind::PolicyDivergence, "no policy to replay (give --spec and --engine)");
}

}  // namespace batchproof::traces
