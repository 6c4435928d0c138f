#include "traces/foreign_writer_support.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "traces/text_scan.hpp"

namespace batchproof::traces {

std::unique_ptr<ForeignTraceWriter> make_foreign_writer(Format format, std::ostream& out,
                                                        const ForeignWriterOptions& options) {
  switch (format) {
    case Format::TrtllmIterStats: return make_trtllm_stats_writer(out, options);
    case Format::Sglang: return make_sglang_writer(out, options);
    case Format::Vllm: return make_vllm_writer(out, options);
    default: return nullptr;
  }
}

bool has_foreign_writer(Format format) {
  return format == Format::TrtllmIterStats || format == Format::Sglang || format == Format::Vllm;
}

BatchCounts batch_counts(const core::TraceIteration& it) {
  BatchCounts c;
  for (const auto& item : it.items) {
    if (item.prefill > 0) {
      ++c.prefill_requests;
      c.prefill_tokens += item.prefill;
    } else if (item.decode) {
      ++c.decode_requests;
    }
    if (item.decode) ++c.decode_tokens;
  }
  return c;
}

RequestBook::Step RequestBook::apply(const core::TraceIteration& it) {
  Step step;
  for (const auto& a : it.arrivals) {
    auto [entry, fresh] = live_.try_emplace(a.id);
    if (!fresh) pending_ -= entry->second.prompt_left;
    entry->second = {a.time_s, a.prompt, 0, false};
    pending_ += a.prompt;
  }
  for (const auto& item : it.items) {
    // A request the trace never announced (a trace without arrivals) counts from here on.
    auto [entry, fresh] = live_.try_emplace(item.id, Entry{it.start_s, 0, 0, false});
    Entry& e = entry->second;
    if (item.prefill > 0) {
      if (!e.started) {
        e.started = true;
        ++step.admitted;
        step.admitted_wait_s += std::max(0.0, it.start_s - e.arrival_s);
      }
      const std::int64_t done = std::min(item.prefill, e.prompt_left);
      e.prompt_left -= done;
      pending_ -= done;
      e.processed += item.prefill;
    }
    if (item.decode) ++e.processed;
  }
  for (std::int64_t id : it.departures) {
    auto entry = live_.find(id);
    if (entry == live_.end()) continue;
    pending_ -= entry->second.prompt_left;
    live_.erase(entry);
  }
  // A restart by recompute processes again every token processed so far, before the prompt
  // tokens not reached yet, as vLLM and SGLang recompute; the request waits to be admitted
  // again.
  for (std::int64_t id : it.preempted) {
    auto entry = live_.find(id);
    if (entry == live_.end()) continue;
    Entry& e = entry->second;
    pending_ += e.processed;
    e.prompt_left += e.processed;
    e.processed = 0;
    e.started = false;
  }
  return step;
}

LogTime log_time(double t) {
  double whole = std::floor(t);
  auto micros = static_cast<std::int64_t>(std::llround((t - whole) * 1e6));
  if (micros >= 1000000) {
    whole += 1;
    micros -= 1000000;
  }
  const auto seconds = static_cast<std::int64_t>(whole);
  std::int64_t days = seconds / 86400, in_day = seconds % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --days;
  }
  LogTime lt;
  text::civil_from_days(days, lt.year, lt.month, lt.day);
  lt.hour = static_cast<unsigned>(in_day / 3600);
  lt.minute = static_cast<unsigned>(in_day / 60 % 60);
  lt.second = static_cast<unsigned>(in_day % 60);
  lt.micros = static_cast<unsigned>(micros);
  return lt;
}

void append(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }

void append_int(std::string& out, std::int64_t v) {
  const fmt::format_int text(v);
  out.append(text.data(), text.size());
}

void append_double(std::string& out, double v) { fmt::format_to(std::back_inserter(out), "{}", v); }

void append_fixed(std::string& out, double v, int decimals) {
  fmt::format_to(std::back_inserter(out), "{:.{}f}", v, decimals);
}

}  // namespace batchproof::traces
