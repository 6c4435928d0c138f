// The factory of each format's reader; make_reader (traces/reader.hpp) picks one. Internal to
// traces/ (the CLI goes through make_reader).
#pragma once

#include <memory>

#include "traces/reader.hpp"

namespace batchproof::traces {

std::unique_ptr<RecordReader> make_batchproof_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_trtllm_iteration_stats_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_trtllm_pyexecutor_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_sglang_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_vllm_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_vidur_chrome_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_sarathi_chrome_reader(std::unique_ptr<Input> input);
std::unique_ptr<RecordReader> make_vidur_batch_csv_reader(std::unique_ptr<Input> input);

}  // namespace batchproof::traces
