// TensorRT-LLM IterationStats records as the C++ executor's JSON serialiser writes them
// (nlohmann's dump: keys sorted, no blanks), read without a JSON parser (internal to traces/).
// Most records of a log are such records, and reading them directly skips building a DOM and
// walking its keys. Every key must be one this path knows, in sorted order (so none twice);
// the values the reader uses must be exactly what it accepts (counts as non-negative JSON
// integers, numbers finite and non-negative, the timestamp a plain string it parses), the
// others plain scalars (null, true, false, a number, an ASCII string without escapes).
// Anything else (blanks, another order, a sub-object it does not read, "12.0", a flat key of
// the branch snapshot, staticBatchingStats not null) is "not canonical", and the reader's
// general path (simdjson) decides, with its messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace batchproof::traces {

// What one record says, before it is put in the normalised form.
struct TrtllmStats {
  std::optional<std::int64_t> iter, active, queued, max_batch_runtime, max_batch_static, max_tokens_runtime,
      max_tokens_static, dp_rank;
  std::optional<double> end_s, latency_ms, host_step_ms;
  // kvCacheStats
  std::optional<std::int64_t> max_blocks, free_blocks, used_blocks, tokens_per_block;
  // inflightBatchingStats
  bool inflight = false;
  std::optional<std::int64_t> ctx_requests, ctx_tokens, gen_requests, paused, queued_ctx_tokens;
  std::optional<double> decoded_per_iter;
  // staticBatchingStats
  bool static_batching = false;
  std::optional<std::int64_t> st_scheduled, st_ctx_requests, st_ctx_tokens, st_gen_tokens;
  // flat keys
  std::optional<std::int64_t> flat_prefill_requests, flat_prefill_tokens, flat_decode_requests, flat_queued_prefill,
      flat_queued_prefill_tokens, flat_queued_decode;

  bool operator==(const TrtllmStats&) const = default;
};

// One element of requestStats.
struct TrtllmRequestEntry {
  std::int64_t id = 0;
  std::optional<std::int64_t> position, generated;
  std::optional<bool> scheduled, paused;

  bool operator==(const TrtllmRequestEntry&) const = default;
};

// Reads `record` into `stats` (given default-constructed: it is not cleared first) and
// `entries` (requestStats' elements; `has_request_stats` when it is an array) if it is a
// canonical record with "iter"; false (outputs in any state) otherwise.
bool read_canonical_trtllm_stats(std::string_view record, TrtllmStats& stats, std::vector<TrtllmRequestEntry>& entries,
                                 bool& has_request_stats);

struct TrtllmRecordShape;

// The same reading, record after record, faster: a record with the keys of the one before
// (the usual case) is read along that record's shape (trtllm_canonical.cpp). Accepts exactly
// the records read_canonical_trtllm_stats accepts, with the same outputs.
class TrtllmCanonicalReader {
 public:
  TrtllmCanonicalReader();
  ~TrtllmCanonicalReader();
  TrtllmCanonicalReader(const TrtllmCanonicalReader&) = delete;
  TrtllmCanonicalReader& operator=(const TrtllmCanonicalReader&) = delete;

  bool read(std::string_view record, TrtllmStats& stats, std::vector<TrtllmRequestEntry>& entries,
            bool& has_request_stats);

  // How many records were read along the shape of the one before.
  std::size_t along_shape() const { return along_shape_; }

 private:
  std::unique_ptr<TrtllmRecordShape> shape_;
  std::size_t along_shape_ = 0;
};

}  // namespace batchproof::traces
