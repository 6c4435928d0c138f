#include "core/capacity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace batchproof::core {

namespace {
double iterations_per_request(const Engine& e, const Workload& w) {
  double o = w.mean_output();
  return e.accounting == Accounting::Vidur ? std::max(1.0, o) : o;
}
}  // namespace

BatchBound batch_bound(const Engine& e, const Workload* w) {
  BatchBound b;
  if (e.token_budget) {
    b.tokens = *e.token_budget;
    b.from_budget = true;
    return b;
  }
  std::int64_t longest = 0;  // 0: unknown (no workload, or unbounded prompts)
  if (w) longest = w->max_prompt().value_or(0);
  std::optional<std::int64_t> requests;
  std::string why;
  auto cap = [&](std::int64_t n, const std::string& what) {
    if (!requests || n < *requests) {
      requests = n;
      why = what;
    }
  };
  if (e.max_batch) cap(*e.max_batch, fmt::format("max_batch {}", *e.max_batch));
  if (e.max_running) cap(*e.max_running, fmt::format("max_running {}", *e.max_running));
  if (auto kv = e.kv_tokens()) {
    std::optional<std::int64_t> per_request;
    if (e.admission == Admission::MaxLength && e.max_seq_len) per_request = *e.max_seq_len;
    else if (longest > 0) per_request = longest;
    if (per_request && *per_request > 0)
      cap(std::max<std::int64_t>(1, *kv / *per_request),
          fmt::format("the {} KV tokens hold {} requests of {} tokens", *kv, *kv / *per_request, *per_request));
  }
  if (requests && longest > 0) {
    b.tokens = *requests * longest;
    b.reason = fmt::format("no token budget: {} requests ({}) × the longest prompt, {} tokens", *requests, why, longest);
  } else if (auto kv = e.kv_tokens()) {
    b.tokens = *kv;
    b.reason = "no token budget: the KV capacity bounds the batch";
  } else {
    b.reason = "no token budget, no max_batch and no KV limit: nothing bounds the batch";
  }
  return b;
}

ComputeCapacity compute_capacity(const Engine& e, const Workload* w) {
  ComputeCapacity c;
  c.b_max = batch_bound(e, w);
  if (c.b_max.tokens) {
    c.t_b_max_s = e.profile.time.seconds(*c.b_max.tokens);
    if (c.t_b_max_s > 0) c.tokens_per_s = static_cast<double>(*c.b_max.tokens) / c.t_b_max_s;
  }
  return c;
}

double mean_kv_token_iterations(const Engine& e, const Workload& w) {
  double o = w.mean_output(), o2 = w.mean_output_squared(), so = w.mean_prompt_output();
  if (e.admission == Admission::MaxLength && e.max_seq_len) return o * static_cast<double>(*e.max_seq_len);
  if (e.accounting == Accounting::Vidur) return so + (o2 - o) / 2.0;
  return so + (o2 + o) / 2.0;
}

std::optional<MemoryCapacity> memory_capacity(const Engine& e, const Workload& w) {
  auto kv = e.kv_tokens();
  if (!kv) return std::nullopt;
  MemoryCapacity m;
  m.kv_tokens = *kv;
  m.mean_g = mean_kv_token_iterations(e, w);
  double iters = iterations_per_request(e, w);
  double mp = w.mean_prompt(), md = w.mean_output();
  if (m.mean_g <= 0 || iters <= 0 || md <= 0) return std::nullopt;
  m.concurrency = static_cast<double>(*kv) / (m.mean_g / iters);
  m.batch_tokens = m.concurrency * (mp + md) / iters;
  BatchBound bound = batch_bound(e, &w);
  if (bound.tokens) m.batch_tokens = std::min(m.batch_tokens, static_cast<double>(*bound.tokens));
  m.batch_tokens = std::max(1.0, m.batch_tokens);
  m.t_bar_s = e.profile.time.seconds(static_cast<std::int64_t>(std::ceil(m.batch_tokens)));
  if (m.t_bar_s <= 0) return std::nullopt;
  m.requests_per_s = static_cast<double>(*kv) / (m.t_bar_s * m.mean_g);
  m.tokens_per_s = m.requests_per_s * (mp + md);
  auto sp = w.max_prompt(), so = w.max_output();
  if (sp && so) m.delta = static_cast<double>(*sp + *so) / static_cast<double>(*kv);
  return m;
}

LoadFigures load_on(const Engine& e, const Workload& w) {
  LoadFigures f;
  f.rate_per_s = w.arrivals.mean_rate();
  f.offered_tokens_per_s = f.rate_per_s * (w.mean_prompt() + w.mean_output());
  f.compute = compute_capacity(e, &w);
  f.memory = memory_capacity(e, w);
  f.usable_tokens_per_s = f.compute.tokens_per_s;
  if (f.memory && (f.usable_tokens_per_s == 0 || f.memory->tokens_per_s < f.usable_tokens_per_s))
    f.usable_tokens_per_s = f.memory->tokens_per_s;
  f.load = f.usable_tokens_per_s > 0 ? f.offered_tokens_per_s / f.usable_tokens_per_s
                                     : std::numeric_limits<double>::infinity();
  return f;
}

std::vector<StationLoad> station_loads(const Spec& spec, const Network& n) {
  std::vector<StationLoad> out;
  for (const auto& st : n.stations) {
    StationLoad sl{st.name, st.engine, st.replicas};
    for (const auto& c : n.classes)
      for (const auto& stage : c.route)
        for (const auto& h : stage.hops)
          if (h.station == st.name) sl.offered_tokens_per_s += c.arrivals.mean_rate() * (h.prompt.mean() + h.output.mean());
    if (const Engine* e = spec.find_engine(st.engine))
      sl.capacity_tokens_per_s = static_cast<double>(st.replicas) * compute_capacity(*e).tokens_per_s;
    sl.load = sl.capacity_tokens_per_s > 0 ? sl.offered_tokens_per_s / sl.capacity_tokens_per_s
                                           : std::numeric_limits<double>::infinity();
    out.push_back(sl);
  }
  return out;
}

}  // namespace batchproof::core
