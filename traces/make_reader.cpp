// The reader of each format (traces/readers.hpp has one factory per format).
#include "traces/readers.hpp"

namespace batchproof::traces {

std::unique_ptr<RecordReader> make_reader(Format format, std::unique_ptr<Input> input) {
  switch (format) {
    case Format::Batchproof: return make_batchproof_reader(std::move(input));
    case Format::TrtllmIterStats: return make_trtllm_iteration_stats_reader(std::move(input));
    case Format::TrtllmPyExecutor: return make_trtllm_pyexecutor_reader(std::move(input));
    case Format::Sglang: return make_sglang_reader(std::move(input));
    case Format::Vllm: return make_vllm_reader(std::move(input));
    case Format::VidurChrome: return make_vidur_chrome_reader(std::move(input));
    case Format::SarathiChrome: return make_sarathi_chrome_reader(std::move(input));
    case Format::VidurBatchCsv: return make_vidur_batch_csv_reader(std::move(input));
  }
  return nullptr;
}

}  // namespace batchproof::traces
