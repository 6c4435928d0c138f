// A map from request ids to values for ids that are mostly arrival numbers: the live ones fill
// a window [base, base + n) of a ring buffer, found by subtraction rather than by hashing, and
// the window slides as the oldest leave. Ids outside it (below it, or too far above) go to a hash
// map, so any ids work; the window never holds more than kMaxWindow slots.
#pragma once

#include <cstdint>
#include <vector>
#include <unordered_map>

namespace batchproof::traces {

template <typename T>
class IdWindowMap {
 public:
  static constexpr std::int64_t kMaxWindow = std::int64_t{1} << 18;

  T* find(std::int64_t id) {
    if (in_window(id)) {
      Slot& s = slot(id);
      return s.present ? &s.value : nullptr;
    }
    auto it = others_.find(id);
    return it == others_.end() ? nullptr : &it->second;
  }

  // The value of `id`, made (value-initialised) if absent.
  T& get(std::int64_t id) {
    if (T* t = find(id)) return *t;
    ++size_;
    if (count_ == 0) base_ = id;
    if (id >= base_ && id - base_ < kMaxWindow) {
      if (id - base_ >= static_cast<std::int64_t>(count_)) extend(static_cast<std::size_t>(id - base_ + 1));
      Slot& s = slot(id);
      s.present = true;
      s.value = T{};
      return s.value;
    }
    return others_[id];
  }

  void erase(std::int64_t id) {
    if (in_window(id)) {
      Slot& s = slot(id);
      if (!s.present) return;
      s.present = false;
      --size_;
      trim();
      return;
    }
    size_ -= others_.erase(id);
  }

  // Erases every entry for which pred(id, value) holds.
  template <typename Pred>
  void erase_if(Pred pred) {
    for (std::size_t k = 0; k < count_; ++k) {
      Slot& s = ring_[(head_ + k) & (ring_.size() - 1)];
      if (s.present && pred(base_ + static_cast<std::int64_t>(k), s.value)) {
        s.present = false;
        --size_;
      }
    }
    for (auto it = others_.begin(); it != others_.end();) {
      if (pred(it->first, it->second)) {
        it = others_.erase(it);
        --size_;
      } else {
        ++it;
      }
    }
    trim();
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    T value{};
    bool present = false;
  };
  bool in_window(std::int64_t id) const {
    return count_ > 0 && id >= base_ && id - base_ < static_cast<std::int64_t>(count_);
  }
  Slot& slot(std::int64_t id) { return ring_[(head_ + static_cast<std::size_t>(id - base_)) & (ring_.size() - 1)]; }
  // Grows the window to n slots (empty ones), the ring to a power of two that holds them.
  void extend(std::size_t n) {
    if (n > ring_.size()) {
      std::size_t capacity = ring_.empty() ? 64 : ring_.size();
      while (capacity < n) capacity *= 2;
      std::vector<Slot> bigger(capacity);
      for (std::size_t k = 0; k < count_; ++k) bigger[k] = std::move(ring_[(head_ + k) & (ring_.size() - 1)]);
      ring_.swap(bigger);
      head_ = 0;
    }
    for (std::size_t k = count_; k < n; ++k) ring_[(head_ + k) & (ring_.size() - 1)] = Slot{};
    count_ = n;
  }
  void trim() {
    while (count_ > 0 && !ring_[head_].present) {
      head_ = (head_ + 1) & (ring_.size() - 1);
      ++base_;
      --count_;
    }
    while (count_ > 0 && !ring_[(head_ + count_ - 1) & (ring_.size() - 1)].present) --count_;
  }

  std::vector<Slot> ring_;  // a power of two in size; the window is count_ slots from head_
  std::size_t head_ = 0, count_ = 0;
  std::int64_t base_ = 0;
  std::unordered_map<std::int64_t, T> others_;
  std::size_t size_ = 0;
};

}  // namespace batchproof::traces
