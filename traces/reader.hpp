// Reading logs: the byte input (plain, gzip, stdin), the formats batchproof knows, their
// detection from the first 64 KiB, and the reader interface every format implements. Each
// reader streams (bounded memory on any file size) and yields normalised records
// (traces/record.hpp). A malformed record is counted, reported with its line (the first few,
// then a summary) and skipped; an input that is unreadable or not the format is fatal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// A byte stream: a plain file, a gzip file (recognised by its magic bytes, whatever its name),
// or standard input ("-"). Reads in large blocks; lines are views into its buffer.
class Input {
 public:
  // The longest line held by default; a longer one is read past, not held (line_too_long()),
  // so that a file without line breaks cannot fill memory.
  static constexpr std::size_t kDefaultMaxLine = std::size_t{64} << 20;
  // What padded() promises: every view returned (head, line, block) is followed by at least
  // this many readable bytes of the same buffer, so that simdjson can parse it in place
  // (SIMDJSON_PADDING).
  static constexpr std::size_t kPadding = 64;
  static constexpr std::size_t kHeadBytes = std::size_t{64} << 10;

  // Null, with a located diagnostic in `diags`, when the input cannot be opened or read.
  static std::unique_ptr<Input> open(const std::string& path, core::Diagnostics& diags);
  virtual ~Input() = default;

  const std::string& path() const { return path_; }
  // Up to the first 64 KiB of (decompressed) content, without consuming anything; a leading
  // UTF-8 byte order mark is left out (as it is from the first line).
  virtual std::string_view head() = 0;
  // The next line without its end ("\n" or "\r\n"); valid until the next call. False at the
  // end of the input or on a read error (error() then says why).
  virtual bool next_line(std::string_view& line) = 0;
  // 1-based number of the line last returned by next_line().
  virtual std::int64_t line_number() const = 0;
  // The read error that ended the input early (a truncated gzip stream, an I/O error), if any.
  virtual std::optional<std::string> error() const = 0;

  // What follows has defaults, for inputs in memory (tests): Input::open's input overrides all.
  //
  // The line last returned ended with '\n' (false: the input ends there, maybe cut short).
  virtual bool line_terminated() const { return true; }
  // The line last returned was longer than max_line(): it was read past and the view holds
  // only its first bytes (up to 4 KiB, for a message).
  virtual bool line_too_long() const { return false; }
  virtual void set_max_line(std::size_t /*bytes*/) {}
  virtual std::size_t max_line() const { return kDefaultMaxLine; }
  // The next block of raw (decompressed) bytes, not split into lines, for readers of JSON
  // documents that span lines or fill one huge line; it continues where the last line or
  // block ended. Valid until the next call. False at the end or on a read error. (Default:
  // the next line with its "\n".)
  virtual bool next_block(std::string_view& block);
  // Whether every view is followed by kPadding readable bytes (else a reader copies it first).
  virtual bool padded() const { return false; }

 protected:
  explicit Input(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
  std::string block_;  // the default next_block's line
};

enum class Format {
  Batchproof,        // batchproof's own JSON Lines (docs/trace-format.md)
  TrtllmIterStats,   // TensorRT-LLM IterationStats: JSON array or one object a line
  TrtllmPyExecutor,  // TensorRT-LLM PyExecutor "iter = ..." log lines
  Sglang,            // SGLang scheduler log: Prefill/Decode batch lines, Retract requests
  Vllm,              // vLLM V1 Iteration(i) lines, periodic stats lines, V0 stats/preemption
  VidurChrome,       // Vidur chrome trace (JSON)
  SarathiChrome,     // Sarathi-Serve chrome trace (JSON)
  VidurBatchCsv,     // Vidur / Sarathi-Serve batch metrics CSV
};

// What a format can support, so that a check it cannot support is reported as not checked.
struct FormatSupport {
  bool request_level = false;   // per-request batch membership (conformance replay, FCFS)
  bool budget = false;          // tokens per iteration
  bool batch_limit = false;     // requests per iteration
  bool kv = false;              // KV memory in use
  bool work_conservation = false;  // waiting work beside the batch
  bool durations = false;       // iteration times (profile fitting)
  bool every_iteration = false; // one record per engine step (false: sampled lines)
};

std::string_view format_name(Format format);               // "batchproof", "trtllm", ...
std::optional<Format> parse_format(std::string_view name); // the inverse; --format values
std::vector<Format> all_formats();
FormatSupport format_support(Format format);
// The format of a log from its first 64 KiB (logs may open with start-up banners), or none.
std::optional<Format> detect_format(std::string_view head);
// Why detect_format found none, in words for a message: "the input is empty", "the input is
// binary (a NUL byte at offset 12)", "no line of a known log format in the first 64 KiB".
std::string undetected_reason(std::string_view head);

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // The next record, or false at the end of the input or on a fatal error.
  virtual bool next(Iteration& record) = 0;
  // Stops reading before the end (the caller has seen enough): diagnostics(), malformed_count()
  // and fatal() then say what was found so far. A reader that reads ahead (traces/read_ahead.hpp)
  // may have read past the last record it returned.
  virtual void close() {}

  Format format() const { return format_; }
  const core::Diagnostics& diagnostics() const { return diags_; }
  std::int64_t malformed_count() const { return malformed_; }
  bool fatal() const { return fatal_; }

 protected:
  explicit RecordReader(Format format) : format_(format) {}
  Format format_;
  core::Diagnostics diags_;
  std::int64_t malformed_ = 0;
  bool fatal_ = false;
};

// A reader of `format` over `input`.
std::unique_ptr<RecordReader> make_reader(Format format, std::unique_ptr<Input> input);

}  // namespace batchproof::traces
