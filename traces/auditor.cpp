#include "traces/auditor.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "traces/trace_records.hpp"

namespace batchproof::traces {

namespace {

RecordCheckConfig check_config(const AuditSetup& s) {
  RecordCheckConfig c;
  c.format = s.format;
  c.support = format_support(s.format);
  c.limits = s.limits;
  c.engine = s.spec_engine;
  c.exact_work_conservation = s.replay_engine.has_value();
  c.arrivals_complete = s.arrivals_complete;
  return c;
}

// Why no replay runs on this log.
std::string replay_unavailable(const AuditSetup& s) {
  if (s.format == Format::VidurChrome || s.format == Format::SarathiChrome)
    return !s.arrivals ? "no replay: the trace logs no arrivals (give --arrivals, and --spec with --engine)"
                       : "no replay: the trace states no limits (give --spec and --engine)";
  return "no replay: the format has no request-level detail";
}

}  // namespace

Auditor::Auditor(AuditSetup setup)
    : setup_(std::move(setup)),
      tally_(setup_.max_violations),
      checks_(check_config(setup_), tally_),
      analytics_(setup_.limits) {
  if (setup_.replay_engine) {
    ReplayConfig rc;
    rc.engine = *setup_.replay_engine;
    rc.from_spec = setup_.spec_engine != nullptr;
    rc.label = rc.from_spec ? setup_.spec_label : "the trace header's limits";
    replay_ = std::make_unique<Replay>(std::move(rc), tally_);
  }
}

Auditor::~Auditor() = default;

bool Auditor::in_window(const Iteration& r) const {
  if (!r.start_s) return true;
  if (setup_.from_s && *r.start_s < *setup_.from_s) return false;
  if (setup_.to_s && *r.start_s > *setup_.to_s) return false;
  return true;
}

void Auditor::inject_arrivals(Iteration& r) {
  const auto& all = *setup_.arrivals;
  const double start = r.start_s.value_or(0);
  while (next_arrival_ < all.size() && all[next_arrival_].time_s <= start) {
    const auto& a = all[next_arrival_];
    r.arrivals.push_back({static_cast<std::int64_t>(next_arrival_), a.time_s, a.prompt, a.output});
    ++next_arrival_;
  }
}

void Auditor::classify_items(Iteration& r) const {
  if (!replay_) return;
  const auto& s = replay_->state();
  std::unordered_map<std::int64_t, const core::Request*> by_id;
  for (const auto& q : s.running) by_id[q.id] = &q;
  for (const auto& q : s.waiting) by_id[q.id] = &q;
  for (auto& item : r.items) {
    auto it = by_id.find(item.id);
    if (it == by_id.end()) continue;
    const std::int64_t total = item.prefill + (item.decode ? 1 : 0);
    const bool prompt_left = it->second->remaining_prompt() > 0;
    item.prefill = prompt_left ? total : 0;
    item.decode = !prompt_left && total > 0;
  }
}

void Auditor::add(const Iteration& original, const std::string& file) {
  if (unusable_) return;
  if (setup_.arrivals) {
    if (!first_stream_) first_stream_ = original.stream;
    if (original.stream != *first_stream_) {
      unusable_ = fmt::format("--arrivals replays one replica, and this trace has several ('{}' and '{}'): the "
                              "arrivals file does not say which replica each request went to",
                              *first_stream_, original.stream);
      return;
    }
  }
  const Iteration* chosen = &original;
  bool arrived = false;  // the arrivals already joined the replay's state
  if (setup_.arrivals) {
    injected_ = original;
    inject_arrivals(injected_);
    if (replay_) {
      // The items are told apart against the state with this record's arrivals in it.
      trace_from_iteration(injected_, scratch_);
      replay_->arrive(scratch_.arrivals);
      arrived = true;
      classify_items(injected_);
    }
    chosen = &injected_;
  }
  const Iteration& record = *chosen;
  const bool judged = in_window(record);
  checks_.add(record, file, judged);
  if (replay_) {
    trace_from_iteration(record, scratch_);
    if (arrived) scratch_.arrivals.clear();
    replay_->add(scratch_, record, file, records_, judged);
  }
  if (judged) analytics_.add(record);
  ++records_;
}

void Auditor::add_state(const core::TraceState& state) {
  if (replay_) replay_->start(state.requests);
}

void Auditor::add_trace(const core::TraceIteration& record, const Iteration& normalised, const std::string& file) {
  const bool judged = in_window(normalised);
  checks_.add(normalised, file, judged);
  if (replay_) replay_->add(record, normalised, file, records_, judged);
  if (judged) analytics_.add(normalised);
  ++records_;
}

AuditReport Auditor::finish(std::int64_t malformed) {
  if (replay_) replay_->finish();
  else
    tally_.not_checkable(CheckKind::PolicyDivergence, replay_unavailable(setup_));
  checks_.finish();
  AuditReport report;
  report.format = std::string(format_name(setup_.format));
  report.records = records_;
  report.malformed = malformed;
  tally_.fill(report);
  auto fits = fit_profile(analytics_.timings());
  report.analytics = analytics_.finish(fits);
  report.profile_fit = fits;
  return report;
}

}  // namespace batchproof::traces
