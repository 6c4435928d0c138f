// Which format a log is in, from its first 64 KiB. JSON inputs are told apart by the keys of
// their first record (the head may cut it: the keys that decide come early); CSV by its header
// row; text logs by counting, line by line, the lines each engine writes per iteration (logs
// open with start-up banners, so no single line decides).
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "traces/reader.hpp"

namespace batchproof::traces {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view without_bom(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  return s;
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// The members of the JSON object that starts at text[0] == '{', as far as `text` goes: each
// top-level key (as written, escapes left alone) and, for a string value, that value.
struct Member {
  std::string_view key;
  std::string_view string_value;  // empty unless the value is a string
};

std::vector<Member> top_level_members(std::string_view text) {
  std::vector<Member> members;
  int depth = 0;
  bool expect_key = false;
  bool expect_value = false;  // after a top-level key's ':'
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (j >= text.size()) break;  // cut by the head's end
      const std::string_view s = text.substr(i + 1, j - i - 1);
      if (depth == 1 && expect_key) {
        members.push_back({s, {}});
        expect_key = false;
      } else if (depth == 1 && expect_value && !members.empty()) {
        members.back().string_value = s;
      }
      expect_value = false;
      i = j + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (depth == 1) expect_key = true;
      expect_value = false;
    } else if (c == '}' || c == ']') {
      if (--depth <= 0) break;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    } else if (c == ':' && depth == 1) {
      expect_value = true;
    } else if (!is_space(c)) {
      expect_value = false;
    }
    ++i;
  }
  return members;
}

bool has_key(const std::vector<Member>& members, std::string_view key) {
  for (const auto& m : members)
    if (m.key == key) return true;
  return false;
}

std::string_view string_member(const std::vector<Member>& members, std::string_view key) {
  for (const auto& m : members)
    if (m.key == key) return m.string_value;
  return {};
}

// Vidur's events carry "num_tokens" per request, Sarathi-Serve's "num_batched_tokens" and
// "prompt_chunk_lens" (TRACE-FORMATS.md §4, §5). Neither seen: the wrapper decides.
Format chrome_kind(std::string_view text, Format otherwise) {
  const std::size_t sarathi = std::min(text.find("\"num_batched_tokens\""), text.find("\"prompt_chunk_lens\""));
  const std::size_t vidur = std::min(text.find("\"num_tokens\""), text.find("\"batch_id\""));
  if (sarathi == std::string_view::npos && vidur == std::string_view::npos) return otherwise;
  return sarathi < vidur ? Format::SarathiChrome : Format::VidurChrome;
}

bool is_trtllm_record(const std::vector<Member>& m) {
  if (has_key(m, "iterLatencyMS")) return true;
  if (!has_key(m, "iter")) return false;
  for (std::string_view key : {"numActiveRequests", "numQueuedRequests", "inflightBatchingStats", "kvCacheStats",
                               "requestStats", "maxNumTokensRuntime", "timestamp"})
    if (has_key(m, key)) return true;
  return false;
}

std::optional<Format> detect_json_record(std::string_view text, std::string_view whole, bool in_array) {
  const auto members = top_level_members(text);
  const std::string_view type = string_member(members, "type");
  if (!in_array && (type == "header" || ((type == "iteration" || type == "state") && has_key(members, "index"))))
    return Format::Batchproof;
  if (!in_array && has_key(members, "traceEvents")) return chrome_kind(whole, Format::VidurChrome);
  if (in_array && has_key(members, "ph")) return chrome_kind(whole, Format::SarathiChrome);
  if (is_trtllm_record(members)) return Format::TrtllmIterStats;
  return std::nullopt;
}

// '[' followed by an object or the end of the array: JSON, not a "[2026-04-05 ...]" prefix.
bool json_array_start(std::string_view t, std::size_t& first) {
  first = skip_space(t, 1);
  return first < t.size() && (t[first] == '{' || t[first] == ']');
}

// A CSV header row: its cells, quotes and spaces trimmed.
std::vector<std::string_view> csv_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    std::string_view cell = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!cell.empty() && (is_space(cell.front()) || cell.front() == '"')) cell.remove_prefix(1);
    while (!cell.empty() && (is_space(cell.back()) || cell.back() == '"')) cell.remove_suffix(1);
    cells.push_back(cell);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

bool is_batch_metrics_header(std::string_view line) {
  bool batch_id = false, tokens = false;
  for (auto cell : csv_cells(line)) {
    batch_id = batch_id || cell == "Batch Id";
    tokens = tokens || cell == "batch_num_tokens" || cell == "batch_num_prefill_tokens";
  }
  return batch_id && tokens;
}

// Text logs: how strongly one line speaks for each format.
enum TextFormat { kPyExecutor, kSglang, kVllm, kTextFormats };

void score_line(std::string_view line, std::array<int, kTextFormats>& score) {
  // TensorRT-LLM PyExecutor: "iter = 198, global_rank = 0, ... states = {...}" (§1.5).
  if (contains(line, "iter = ") && (contains(line, "num_scheduled_requests") || contains(line, "states = {")))
    ++score[kPyExecutor];
  // SGLang: "Prefill batch. #new-seq: ...", "Decode batch, #running-req: ...", the 2024 forms
  // "new fill batch. #seq:" and a bare "#running-req: 5, #token: 1938, ...", retractions (§2).
  if ((contains(line, "Prefill batch") && contains(line, "#new-seq")) ||
      (contains(line, "Decode batch") && contains(line, "#running-req")) || contains(line, "new fill batch. #seq:") ||
      (contains(line, "#running-req:") && contains(line, "#queue-req:")) ||
      (contains(line, "Retract requests") && contains(line, "#retracted_reqs")))
    ++score[kSglang];
  // vLLM: "Iteration(515): 0 context requests, ...", the periodic "Avg prompt throughput: ..."
  // line, V0's preemption warning (§3).
  if ((contains(line, "Iteration(") && contains(line, "context requests")) ||
      contains(line, "Avg prompt throughput:") || contains(line, "is preempted by PreemptionMode"))
    ++score[kVllm];
}

std::optional<Format> detect_text(std::string_view head) {
  std::array<int, kTextFormats> score{};
  std::size_t start = 0;
  while (start < head.size()) {
    std::size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) nl = head.size();
    score_line(head.substr(start, nl - start), score);
    start = nl + 1;
  }
  int best = -1;
  for (int f = 0; f < kTextFormats; ++f)
    if (score[f] > 0 && (best < 0 || score[f] > score[best])) best = f;
  switch (best) {
    case kPyExecutor: return Format::TrtllmPyExecutor;
    case kSglang: return Format::Sglang;
    case kVllm: return Format::Vllm;
    default: return std::nullopt;
  }
}

std::string_view first_line(std::string_view s) {
  const std::size_t start = skip_space(s, 0);
  s.remove_prefix(start);
  return s.substr(0, s.find('\n'));
}

}  // namespace

std::optional<Format> detect_format(std::string_view head) {
  head = without_bom(head);
  const std::size_t start = skip_space(head, 0);
  if (start == head.size()) return std::nullopt;
  const std::string_view t = head.substr(start);
  if (t[0] == '{') return detect_json_record(t, t, false);
  std::size_t first = 0;
  if (t[0] == '[' && json_array_start(t, first)) {
    if (t[first] == ']') return std::nullopt;  // an empty array: nothing says whose
    return detect_json_record(t.substr(first), t, true);
  }
  if (is_batch_metrics_header(first_line(t))) return Format::VidurBatchCsv;
  return detect_text(head);
}

std::string undetected_reason(std::string_view head) {
  head = without_bom(head);
  const std::size_t start = skip_space(head, 0);
  if (start == head.size()) return "the input is empty";
  const std::size_t nul = head.find('\0');
  if (nul != std::string_view::npos) return fmt::format("the input is binary (a NUL byte at offset {})", nul);
  std::size_t control = 0;
  for (char c : head) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && !is_space(c)) ++control;
  }
  if (control * 20 > head.size())
    return fmt::format("the input is not text ({} control bytes in the first {})", control, head.size());
  const std::string_view t = head.substr(start);
  std::size_t first = 0;
  if (t[0] == '[' && json_array_start(t, first) && t[first] == ']') return "the input is an empty JSON array";
  if (t[0] == '{' || (t[0] == '[' && json_array_start(t, first)))
    return "JSON of no known log format: its first record has none of the keys that tell one "
           "(\"type\": \"header\", \"iterLatencyMS\", \"traceEvents\", \"ph\")";
  return "no line of a known log format in the first 64 KiB (TensorRT-LLM \"iter = ...\", SGLang "
         "\"Prefill batch\"/\"Decode batch\", vLLM \"Iteration(...)\"/\"Avg prompt throughput\"), and no "
         "batch metrics CSV header";
}

}  // namespace batchproof::traces
