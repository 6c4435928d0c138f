#include "traces/auditor.hpp"

#include <unordered_map>
#include <utility>

#include <fmt/format.h>


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
  if (s.format == Format::TrtllmIterStats)
    return !s.arrivals ? "no replay: the request stats carry no prompt lengths or arrival times (give --arrivals, "
                         "and --spec with --engine)"
                       : "no replay: no policy or limits to replay (give --spec and --engine)";
  return "no replay: the format has no request-level detail";
}

}  // namespace

Auditor::Auditor(AuditSetup setup)
    : setup_(std::move(setup)),
      tally_(setup_.max_violations),
      checks_(check_config(setup_), tally_),
      analytics_(setup_.limits) {}

Auditor::~Auditor() = default;

bool Auditor::in_window(const Iteration& r) const {
  if (!r.start_s) return true;
  if (setup_.from_s && *r.start_s < *setup_.from_s) return false;
  if (setup_.to_s && *r.start_s > *setup_.to_s) return false;
  return true;
}

Auditor::Lane* Auditor::open_lane(const std::string& stream) {
  Lane* l = &single_;
  if (setup_.placement) {
    auto [it, fresh] = lanes_.try_emplace(stream);
    l = &it->second;
    if (fresh) {
      auto k = setup_.placement->stream_index(stream);
      l->arrivals = k ? &setup_.placement->arrivals_of[*k] : &no_arrivals_;
    }
  }
  if (!l->replay && setup_.replay_engine) {
    ReplayConfig rc;
    rc.engine = *setup_.replay_engine;
    rc.from_spec = setup_.spec_engine != nullptr;
    rc.label = rc.from_spec ? setup_.spec_label : "the trace header's limits";
    rc.counts_are_queues = setup_.format == Format::Batchproof;
    l->replay = std::make_unique<Replay>(std::move(rc), tally_);
  }
  return l;
}

// Arrivals from a file need a log that shows where requests are (one replica, or a placement),
// and, for TensorRT-LLM, its request stats.
bool Auditor::check_arrivals_usable(const Iteration& r) {
  if (setup_.format == Format::TrtllmIterStats && !r.has_items) {
    unusable_ = fmt::format("--arrivals replays TensorRT-LLM's request stats (enable_iter_req_stats), and the record "
                            "of line {} has none (no \"requestStats\")",
                            r.line);
    return false;
  }
  if (setup_.placement) return true;
  if (!first_stream_) first_stream_ = r.stream;
  if (r.stream != *first_stream_) {
    needs_placement_ = true;
    unusable_ = fmt::format("--arrivals with a trace of several replicas ('{}' and '{}') needs the trace read twice "
                            "(the first pass finds where each request went), and standard input cannot be",
                            *first_stream_, r.stream);
    return false;
  }
  return true;
}

void Auditor::inject_arrivals(Iteration& r, Lane& lane) {
  const auto& all = *setup_.arrivals;
  const double start = r.start_s.value_or(0);
  if (setup_.align_arrival_clock && !clock_offset_) clock_offset_ = start - (all.empty() ? 0.0 : all.front().time_s);
  const double offset = clock_offset_.value_or(0);
  if (!id_base_) {
    if (setup_.placement && setup_.placement->id_base) {
      id_base_ = setup_.placement->id_base;
    } else if (setup_.arrival_ids == ArrivalIds::Ordinal) {
      id_base_ = 0;
    } else {
      // The first record that lists requests says which id the first arrival has; until then
      // the arrivals wait (the records before it list nobody to judge).
      if (r.items.empty()) return;
      std::int64_t lowest = r.items.front().id;
      for (const auto& it : r.items) lowest = std::min(lowest, it.id);
      id_base_ = lowest;
    }
  }
  const std::size_t count = lane.arrivals ? lane.arrivals->size() : all.size();
  while (lane.next_arrival < count) {
    const std::size_t k = lane.arrivals ? (*lane.arrivals)[lane.next_arrival] : lane.next_arrival;
    const auto& a = all[k];
    if (a.time_s + offset > start) break;
    r.arrivals.push_back({*id_base_ + static_cast<std::int64_t>(k), a.time_s + offset, a.prompt, a.output, 0, 0, a.cls});
    ++lane.next_arrival;
  }
}

void Auditor::classify_items(Iteration& r, const Replay& replay) const {
  const auto& s = replay.state();
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

void Auditor::add(const Iteration& original, const std::string& file,
                  const std::vector<core::TraceRequestState>* checkpoint) {
  if (unusable_) return;
  if (setup_.arrivals && !check_arrivals_usable(original)) return;
  Lane& l = *lane(original.stream);
  const Iteration* chosen = &original;
  bool arrived = false;  // the arrivals already joined the replay's state
  if (setup_.arrivals) {
    injected_ = original;
    inject_arrivals(injected_, l);
    if (l.replay) {
      // The items are told apart against the state with this record's arrivals in it.
      l.replay->arrive(injected_.arrivals);
      arrived = true;
      classify_items(injected_, *l.replay);
    }
    chosen = &injected_;
  }
  const Iteration& record = *chosen;
  const bool judged = in_window(record);
  checks_.add(record, file, judged);
  // The arrivals the replay has: all of them once injected, else a state record's requests,
  // which come first.
  const std::size_t present = arrived ? record.arrivals.size() : std::exchange(state_requests_, 0);
  if (l.replay) l.replay->add(record, file, records_, judged, present, checkpoint);
  if (judged) analytics_.add(record);
  ++records_;
}

void Auditor::add_state(const core::TraceState& state) {
  if (Lane* l = lane(""); l->replay) l->replay->start(state.requests);
  state_requests_ = state.requests.size();
}

AuditReport Auditor::finish(std::int64_t malformed) {
  if (setup_.replay_engine) {
    lane("")->replay->finish();  // the "no policy to replay" of a replay without a spec, once
  } else {
    tally_.not_checkable(CheckKind::PolicyDivergence, replay_unavailable(setup_));
  }
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
