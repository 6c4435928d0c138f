#include "traces/audit_describe.hpp"

#include <fmt/format.h>

namespace batchproof::traces {

namespace {

void append_count(std::string& out, std::string_view label, const std::optional<std::int64_t>& value) {
  if (!value) return;
  out.append(fmt::format(", {} {}", label, *value));
}

}  // namespace

std::string describe_record(const Iteration& r) {
  std::string out = fmt::format("line {}:", r.line);
  if (!r.stream.empty()) out.append(fmt::format(" {}", r.stream));
  if (r.index) out.append(fmt::format(" iteration {}", *r.index));
  if (r.start_s) out.append(fmt::format(" at {:.6f} s", *r.start_s));
  if (r.duration_s) out.append(fmt::format(" for {:.6f} s", *r.duration_s));
  out.append(":");
  if (auto t = r.tokens()) {
    out.append(fmt::format(" {} tokens", *t));
    std::string parts;
    if (r.prefill_tokens.value_or(0) > 0) {
      parts.append(fmt::format("{} prefill", *r.prefill_tokens));
      if (r.prefill_requests) parts.append(fmt::format(" in {}", *r.prefill_requests));
    }
    if (r.decode_tokens.value_or(0) > 0) {
      if (!parts.empty()) parts.append(", ");
      parts.append(fmt::format("{} decode", *r.decode_tokens));
      if (r.decode_requests) parts.append(fmt::format(" in {}", *r.decode_requests));
    }
    if (!parts.empty()) out.append(fmt::format(" ({})", parts));
  } else {
    out.append(" tokens not logged");
  }
  if (r.steps > 1) out.append(fmt::format(" (stands for {} steps)", r.steps));
  append_count(out, "waiting", r.waiting);
  append_count(out, "running", r.running);
  if (r.preempted.value_or(0) > 0) append_count(out, "preempted", r.preempted);
  if (r.kv_used_tokens) {
    out.append(fmt::format(", KV {}", *r.kv_used_tokens));
    if (r.kv_total_tokens) out.append(fmt::format(" of {}", *r.kv_total_tokens));
    out.append(" tokens");
  } else if (r.kv_usage) {
    out.append(fmt::format(", KV {:.1f}%", 100 * *r.kv_usage));
  }
  if (r.budget_tokens) out.append(fmt::format(", logged budget {} tokens", *r.budget_tokens));
  if (r.budget_requests) out.append(fmt::format(", logged batch cap {}", *r.budget_requests));
  return out;
}

std::string describe_items(const std::vector<core::BatchItem>& items, std::size_t max_items) {
  if (items.empty()) return "(empty)";
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    const auto& it = items[i];
    if (i) out.append(", ");
    out.append(fmt::format("{}:", it.request));
    if (it.prefill > 0) out.append(fmt::format("prefill {}", it.prefill));
    if (it.prefill > 0 && it.decode) out.append("+");
    if (it.decode) out.append("decode");
    if (it.prefill == 0 && !it.decode) out.append("nothing");
  }
  if (items.size() > max_items) out.append(fmt::format(", ... {} more", items.size() - max_items));
  return out;
}

}  // namespace batchproof::traces
