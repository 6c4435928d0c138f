// A reader that reads ahead: the wrapped reader runs in a thread of its own (reading the
// input, decompressing, splitting lines, parsing, normalising) while the caller audits the
// records it has already produced. The records arrive in the order the wrapped reader makes
// them, each the same as it would be read directly, so the audit's result does not depend on
// it; on a machine with two cores it roughly halves the wall time of an audit whose reading
// and judging take about as long as each other (docs/benchmarks.md, "Audit").
//
// Memory stays bounded: records travel in a few chunks that go back and forth between the
// two threads, and their buffers are reused (a record handed to next() is swapped with one
// the reader will fill again). The wrapped reader's diagnostics, malformed count and fatal
// flag are copied here when it has finished, so they are read, as for any reader, once next()
// has returned false.
#pragma once

#include <memory>

#include "traces/reader.hpp"

namespace batchproof::traces {

// `inner` read in a thread of its own. Stopping early (destroying the reader before the end)
// is fine: the thread is told to stop and joined.
std::unique_ptr<RecordReader> read_ahead(std::unique_ptr<RecordReader> inner);

// Whether an audit of `format` gains by reading ahead: the JSON formats whose batches list
// their requests (batchproof's trace, Vidur's and Sarathi-Serve's chrome traces, TensorRT-LLM's
// IterationStats with request stats), where the replay and the lifecycles take about as long
// as reading. The text logs and the batch CSV are read directly: their records are cheap to
// read and to judge in tight loops, and on the benchmarks' machine such loops run about half as
// fast while the other vCPU is busy, so splitting them loses however the records are handed
// over (400-byte records: the batch CSV 2.5 times slower; packed into a few words: still 1.1 –
// 4 times slower, the text logs 1.6 – 2.5; docs/benchmarks.md, "Audit").
bool worth_reading_ahead(Format format);

}  // namespace batchproof::traces
