#include "sim/arrival_stream.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/length_sample.hpp"

namespace batchproof::sim {

namespace {

// Stream numbers under one seed; fixed forever, since changing one changes every run.
constexpr std::uint64_t kTimesStream = 1;
constexpr std::uint64_t kClassStream = 2;
constexpr std::uint64_t kPromptStream = 3;
constexpr std::uint64_t kOutputStream = 4;

// Cumulative class shares, weighed as core's means weigh them (workload.cpp, class_shares):
// non-positive or non-finite weights count as none, and all share equally if none is positive.
std::vector<double> cumulative_shares(const std::vector<core::RequestClass>& classes) {
  std::vector<double> cumulative;
  double total = 0;
  for (const auto& c : classes) total += std::isfinite(c.weight) && c.weight > 0 ? c.weight : 0.0;
  double running = 0;
  for (const auto& c : classes) {
    const double w = std::isfinite(c.weight) && c.weight > 0 ? c.weight : 0.0;
    running += total > 0 ? w / total : 1.0 / static_cast<double>(classes.size());
    cumulative.push_back(running);
  }
  if (!cumulative.empty()) cumulative.back() = 1;  // rounding must not leave a gap at the top
  return cumulative;
}

}  // namespace

ArrivalStream::ArrivalStream(const core::Workload& workload, const ArrivalOptions& options)
    : workload_(&workload),
      times_(workload.arrivals, options.rate, Random::for_stream(options.seed, kTimesStream)),
      class_rng_(Random::for_stream(options.seed, kClassStream)),
      prompt_rng_(Random::for_stream(options.seed, kPromptStream)),
      output_rng_(Random::for_stream(options.seed, kOutputStream)),
      class_cumulative_(cumulative_shares(workload.classes)) {}

std::optional<core::Arrival> ArrivalStream::generate() {
  const auto instant = times_.next();
  if (!instant) return std::nullopt;
  const core::Workload& w = *workload_;
  core::Arrival a;
  a.time_s = instant->time_s;

  const core::RequestClass* picked = nullptr;
  if (!w.classes.empty()) {
    const double u = class_rng_.uniform();
    std::size_t i = 0;
    // Skips zero-share classes: u < cumulative[i] never holds for a class adding nothing.
    while (i + 1 < class_cumulative_.size() && !(u < class_cumulative_[i])) ++i;
    picked = &w.classes[i];
    a.cls = picked->name;
  }
  const core::Arrival* record = nullptr;
  if (w.arrivals.form == core::ArrivalProcess::Form::Trace && instant->index < w.arrivals.trace.size()) {
    record = &w.arrivals.trace[instant->index];
    if (!picked) a.cls = record->cls;
  }

  if (w.prompt) a.prompt = sample_length(*w.prompt, prompt_rng_);
  else if (picked) a.prompt = sample_length(picked->prompt, prompt_rng_);
  else if (record) a.prompt = record->prompt;

  if (w.output) a.output = sample_length(*w.output, output_rng_);
  else if (picked) a.output = sample_length(picked->output, output_rng_);
  else if (record) a.output = record->output;
  return a;
}

const core::Arrival* ArrivalStream::peek() {
  if (!lookahead_) lookahead_ = generate();
  return lookahead_ ? &*lookahead_ : nullptr;
}

std::optional<core::Arrival> ArrivalStream::next() {
  std::optional<core::Arrival> a = lookahead_ ? std::move(lookahead_) : generate();
  lookahead_.reset();
  if (a) ++emitted_;
  return a;
}

std::vector<core::Arrival> ArrivalStream::take_until(double time_s) {
  std::vector<core::Arrival> out;
  while (const core::Arrival* a = peek()) {
    if (!(a->time_s <= time_s)) break;
    out.push_back(*next());
  }
  return out;
}

std::vector<core::Arrival> ArrivalStream::take(std::size_t count) {
  std::vector<core::Arrival> out;
  out.reserve(std::min<std::size_t>(count, 1 << 16));  // a huge count must not allocate up front
  while (out.size() < count) {
    auto a = next();
    if (!a) break;
    out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace batchproof::sim
