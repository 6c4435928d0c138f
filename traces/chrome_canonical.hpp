// A chrome trace event as Vidur's or Sarathi-Serve's json.dump writes it (", " and ": " between
// items, the keys in their writers' order), read without a JSON parser, and what the chrome
// reader takes from any event. An event in another form goes to the general path (simdjson).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchproof::traces {

// What the chrome reader takes from a complete ("ph": "X") event.
struct ChromeEvent {
  double ts_us = 0;
  double dur_us = 0;
  std::optional<std::int64_t> pid;  // the replica, a number
  std::string pid_text;             // or a name (pid unset)
  bool scheduler = false;           // tid "scheduler": Sarathi-Serve's scheduling step
  std::int64_t stage = 0;           // tid: the pipeline stage
  std::optional<std::int64_t> batch_id;
  bool sarathi = false;             // counts are prompt_chunk_lens (else Vidur's num_tokens)
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> counts;
};

// Reads `text` into `e` if it is a complete event in a writer's exact form whose every value
// the general path would accept; false (with `e` in any state) otherwise.
bool read_canonical_event(std::string_view text, ChromeEvent& e);

// The same for an event at the start of `text` (followed by whatever comes next): its length,
// or 0 if what starts `text` is not such an event. Such an event holds no line end.
std::size_t canonical_event_length(std::string_view text, ChromeEvent& e);

}  // namespace batchproof::traces
