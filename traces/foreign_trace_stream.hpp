// An output stream that takes batchproof's own trace, as core::TraceWriter writes it, and
// writes it on in a foreign format (TensorRT-LLM IterationStats, SGLang, vLLM): what lets
// `batchproof simulate --trace-format` use the simulator's trace output as it is. Each line is
// read back (header and iteration records; state records are not needed) and handed to the
// format's writer, so nothing is held but the current line.
#pragma once

#include <iosfwd>
#include <memory>
#include <ostream>
#include <string>

#include "traces/foreign_writers.hpp"

namespace batchproof::traces {

class ForeignTraceStream : public std::ostream {
 public:
  // `format` must have a writer (has_foreign_writer).
  ForeignTraceStream(Format format, std::ostream& out, const ForeignWriterOptions& options = {});
  ~ForeignTraceStream() override;

  // Ends the foreign log (what it writes last) and flushes `out`. False if a trace line could
  // not be read (error() says which) or `out` failed.
  bool finish();
  const std::string& error() const;

 private:
  class Converter;
  std::unique_ptr<Converter> converter_;
};

}  // namespace batchproof::traces
