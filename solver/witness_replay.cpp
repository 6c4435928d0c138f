// The concrete check of a witness: run it with core::step from the empty system, period after
// period, and confirm that every period forms the same batches and adds the same work.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/step.hpp"
#include "solver/witness.hpp"

namespace batchproof::solver {

namespace {

// Batches compared by composition: request identities differ from period to period.
bool same_composition(const core::Batch& a, const core::Batch& b) {
  if (a.items.size() != b.items.size() || a.tokens != b.tokens) return false;
  for (std::size_t k = 0; k < a.items.size(); ++k)
    if (a.items[k].prefill != b.items[k].prefill || a.items[k].decode != b.items[k].decode) return false;
  return true;
}

}  // namespace

Replay replay_witness(const core::Engine& e, const Witness& w, double capacity, int periods) {
  Replay rp;
  rp.periods = periods;
  core::EngineState s;
  core::StepOutcome out;
  std::int64_t next_id = 0;
  double t = 0;
  auto join = [&](double time_s, std::int64_t prompt, std::int64_t output) {
    core::Request r;
    r.id = next_id++;
    r.arrival_s = time_s;
    r.prompt = prompt;
    r.output = output;
    core::arrive(s, r);
    rp.arrivals.push_back({time_s, prompt, output, ""});
  };
  for (const auto& a : w.start) join(0.0, a.prompt, a.output);
  for (const auto& a : w.pattern) rp.period_work += a.prompt + a.output;
  rp.backlog.push_back(core::backlog_tokens(s));
  std::vector<std::size_t> requests{s.running.size() + s.waiting.size()};
  for (int p = 0; p < periods; ++p) {
    double period_s = 0;
    for (int j = 0; j < w.period; ++j) {
      core::step(e, s, out);
      if (out.batch.empty()) {
        rp.mismatch = fmt::format("iteration {} of period {} has nothing to do", j, p + 1);
        rp.failed_period = p + 1;
        return rp;
      }
      if (p == 0) {
        rp.first_period.push_back(out.batch);
      } else if (!same_composition(out.batch, rp.first_period[static_cast<std::size_t>(j)])) {
        rp.mismatch = fmt::format("iteration {} of period {} forms a batch of {} tokens in {} items, not the "
                                  "first period's {} tokens in {} items",
                                  j, p + 1, out.batch.tokens, out.batch.items.size(),
                                  rp.first_period[static_cast<std::size_t>(j)].tokens,
                                  rp.first_period[static_cast<std::size_t>(j)].items.size());
        rp.failed_period = p + 1;
        return rp;
      }
      const double d = out.batch.duration_s;
      // Arrivals during the iteration: the next batch is the first to see them.
      for (const auto& a : w.pattern)
        if (a.iteration == j) join(t + d / 2, a.prompt, a.output);
      t += d;
      period_s += d;
    }
    if (p == 0) rp.period_s = period_s;
    rp.backlog.push_back(core::backlog_tokens(s));
    requests.push_back(s.running.size() + s.waiting.size());
  }
  rp.growth_tokens = rp.backlog[1] - rp.backlog[0];
  rp.growth_requests = static_cast<std::int64_t>(requests[1]) - static_cast<std::int64_t>(requests[0]);
  rp.load = capacity > 0 && rp.period_s > 0 ? static_cast<double>(rp.period_work) / (capacity * rp.period_s)
                                            : std::numeric_limits<double>::infinity();
  if (rp.growth_tokens <= 0) {
    rp.mismatch = fmt::format("the first period adds {} tokens of work, not more than 0", rp.growth_tokens);
    rp.failed_period = 1;
    return rp;
  }
  for (std::size_t p = 1; p + 1 < rp.backlog.size(); ++p)
    if (rp.backlog[p + 1] - rp.backlog[p] != rp.growth_tokens) {
      rp.mismatch = fmt::format("period {} adds {} tokens of work, not the first period's {}", p + 1,
                                rp.backlog[p + 1] - rp.backlog[p], rp.growth_tokens);
      rp.failed_period = static_cast<int>(p) + 1;
      return rp;
    }
  rp.repeats = true;
  return rp;
}

SupportBounds workload_support(const core::Workload& w, std::int64_t cap) {
  SupportBounds sb;
  auto range = [&](const std::optional<core::LengthLaw>& law, const std::vector<core::RequestClass>& classes,
                   bool prompt, std::int64_t& lo, std::int64_t& hi, bool& capped) {
    std::vector<const core::LengthLaw*> laws;
    if (law) laws.push_back(&*law);
    for (const auto& c : classes) laws.push_back(prompt ? &c.prompt : &c.output);
    lo = std::numeric_limits<std::int64_t>::max();
    hi = 0;
    for (const core::LengthLaw* l : laws) {
      std::int64_t least = l->form == core::LengthLaw::Form::Constant || l->form == core::LengthLaw::Form::Uniform
                               ? l->lo
                               : 1;
      if (l->form == core::LengthLaw::Form::Empirical && !l->values.empty())
        least = *std::min_element(l->values.begin(), l->values.end());
      lo = std::min(lo, least);
      std::optional<std::int64_t> most = l->largest();
      if (!most) capped = true;
      hi = std::max(hi, most.value_or(cap));
    }
    if (laws.empty()) {  // lengths from a trace: its range
      lo = std::numeric_limits<std::int64_t>::max();
      for (const auto& a : w.arrivals.trace) {
        lo = std::min(lo, prompt ? a.prompt : a.output);
        hi = std::max(hi, prompt ? a.prompt : a.output);
      }
      if (hi == 0) lo = 1, hi = cap, capped = true;
    }
  };
  range(w.prompt, w.classes, true, sb.bounds.prompt_lo, sb.bounds.prompt_hi, sb.prompt_capped);
  range(w.output, w.classes, false, sb.bounds.output_lo, sb.bounds.output_hi, sb.output_capped);
  return sb;
}

}  // namespace batchproof::solver
