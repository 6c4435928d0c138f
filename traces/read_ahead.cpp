#include "traces/read_ahead.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace batchproof::traces {

namespace {

class ReadAheadReader final : public RecordReader {
 public:
  explicit ReadAheadReader(std::unique_ptr<RecordReader> inner)
      : RecordReader(inner->format()), inner_(std::move(inner)) {
    for (auto& c : chunks_) {
      c.records.resize(kChunkRecords);
      empty_.push_back(&c);
    }
    thread_ = std::thread([this] { produce(); });
  }

  ~ReadAheadReader() override { stop(); }

  bool next(Iteration& record) override {
    for (;;) {
      if (done_) return false;
      if (current_ && position_ < current_->count) {
        std::swap(record, current_->records[position_++]);
        return true;
      }
      if (current_ && current_->last) {
        close();
        return false;
      }
      std::unique_lock lock(mutex_);
      if (current_) {
        empty_.push_back(current_);
        current_ = nullptr;
        changed_.notify_all();
      }
      changed_.wait(lock, [&] { return !full_.empty(); });
      current_ = full_.front();
      full_.pop_front();
      position_ = 0;
    }
  }

  void close() override {
    if (done_) return;
    stop();
    inner_->close();
    diags_ = inner_->diagnostics();
    malformed_ = inner_->malformed_count();
    fatal_ = inner_->fatal();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  // Records per chunk, and chunks: enough for the two threads to work apart (a hand-over per
  // chunk), few enough that the records in flight stay small.
  static constexpr std::size_t kChunkRecords = 128;
  static constexpr std::size_t kChunks = 4;

  struct Chunk {
    std::vector<Iteration> records;
    std::size_t count = 0;
    bool last = false;  // the wrapped reader ended after these records
  };

  // Tells the reading thread to stop after the record it is reading, and waits for it.
  void stop() {
    done_ = true;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    stopping_.store(true, std::memory_order_relaxed);
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void produce() {
    Chunk* chunk = nullptr;  // the one being filled
    try {
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          changed_.wait(lock, [&] { return stop_ || !empty_.empty(); });
          if (stop_) return;
          chunk = empty_.front();
          empty_.pop_front();
        }
        chunk->count = 0;
        chunk->last = false;
        while (chunk->count < kChunkRecords && !stopping_.load(std::memory_order_relaxed)) {
          if (!inner_->next(chunk->records[chunk->count])) {
            chunk->last = true;
            break;
          }
          ++chunk->count;
        }
        {
          std::lock_guard lock(mutex_);
          full_.push_back(chunk);
        }
        changed_.notify_all();
        if (chunk->last) return;
        chunk = nullptr;
      }
    } catch (...) {
      // Handed to the caller's thread: the records read before it are delivered, then next()
      // ends and close() rethrows it.
      failure_ = std::current_exception();
      std::lock_guard lock(mutex_);
      if (!chunk) {
        chunk = &failed_chunk_;
        chunk->count = 0;
      }
      chunk->last = true;
      full_.push_back(chunk);
      changed_.notify_all();
    }
  }

  std::unique_ptr<RecordReader> inner_;
  Chunk chunks_[kChunks];
  Chunk failed_chunk_;  // an empty last chunk, sent when the reader threw
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk*> full_, empty_;  // guarded by mutex_
  bool stop_ = false;                // guarded by mutex_
  std::atomic<bool> stopping_{false};  // stop_, read without the lock between records
  std::exception_ptr failure_;
  std::thread thread_;
  // The caller's side.
  Chunk* current_ = nullptr;
  std::size_t position_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordReader> read_ahead(std::unique_ptr<RecordReader> inner) {
  return std::make_unique<ReadAheadReader>(std::move(inner));
}

bool worth_reading_ahead(Format format) {
  return format == Format::Batchproof || format == Format::VidurChrome || format == Format::SarathiChrome ||
         format == Format::TrtllmIterStats;
}

}  // namespace batchproof::traces
