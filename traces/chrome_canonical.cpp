#include "traces/chrome_canonical.hpp"

#include "traces/canonical_cursor.hpp"

namespace batchproof::traces {

namespace {

using canonical::Cursor;

bool non_negative_all(const std::vector<std::int64_t>& v) {
  for (std::int64_t n : v)
    if (n < 0) return false;
  return true;
}

// Vidur (BatchStage.to_chrome_trace): "batch_id" (read by the caller), "batch_size",
// "request_ids", "num_tokens".
bool vidur_args(Cursor& c, ChromeEvent& e) {
  std::int64_t batch_id = 0, size = 0;
  if (!c.non_negative(batch_id) || !c.literal(", \"batch_size\": ") ||
      !c.integer(size) || !c.literal(", \"request_ids\": ") || !c.integers(", ", e.ids) ||
      !c.literal(", \"num_tokens\": ") || !c.integers(", ", e.counts))
    return false;
  e.batch_id = batch_id;
  e.sarathi = false;
  return true;
}

// Sarathi-Serve (MetricsStore._to_chrome_trace_dict): "batch_size", "request_ids" (strings),
// "num_batched_tokens", "num_batched_prompt_tokens", "num_batched_output_tokens",
// "prompt_chunk_lens".
bool sarathi_args(Cursor& c, ChromeEvent& e) {
  std::int64_t size = 0, tokens = 0, prompt = 0, output = 0;
  if (!c.literal("\"batch_size\": ") || !c.integer(size) || !c.literal(", \"request_ids\": ") ||
      !c.quoted_integers(", ", e.ids) || !c.literal(", \"num_batched_tokens\": ") || !c.integer(tokens) ||
      !c.literal(", \"num_batched_prompt_tokens\": ") || !c.integer(prompt) ||
      !c.literal(", \"num_batched_output_tokens\": ") || !c.integer(output) ||
      !c.literal(", \"prompt_chunk_lens\": ") || !c.integers(", ", e.counts))
    return false;
  e.batch_id.reset();
  e.sarathi = true;
  return true;
}

}  // namespace

std::size_t canonical_event_length(std::string_view text, ChromeEvent& e) {
  Cursor c(text);
  std::string_view name;
  std::int64_t pid = 0;
  if (!c.literal("{\"name\": ") || !c.plain_string(name) || !c.literal(", \"ph\": \"X\", \"ts\": ") ||
      !c.number(e.ts_us) || !c.literal(", \"dur\": ") || !c.number(e.dur_us) || e.dur_us < 0 ||
      !c.literal(", \"pid\": ") || !c.integer(pid) || !c.literal(", \"tid\": "))
    return 0;
  e.pid = pid;
  e.pid_text.clear();
  e.scheduler = c.literal("\"scheduler\"");
  e.stage = 0;
  if (!e.scheduler && !c.integer(e.stage)) return 0;
  if (!c.literal(", \"args\": {")) return 0;
  const bool args = c.literal("\"batch_id\": ") ? vidur_args(c, e) : sarathi_args(c, e);
  if (!args || !c.literal("}}") || e.ids.size() != e.counts.size() || !non_negative_all(e.counts)) return 0;
  return static_cast<std::size_t>(c.position() - text.data());
}

bool read_canonical_event(std::string_view text, ChromeEvent& e) {
  return !text.empty() && canonical_event_length(text, e) == text.size();
}

}  // namespace batchproof::traces
