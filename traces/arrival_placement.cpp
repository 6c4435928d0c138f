#include "traces/arrival_placement.hpp"

#include <algorithm>

namespace batchproof::traces {

std::optional<std::size_t> ArrivalPlacement::stream_index(const std::string& name) const {
  auto it = std::find(streams.begin(), streams.end(), name);
  if (it == streams.end()) return std::nullopt;
  return static_cast<std::size_t>(it - streams.begin());
}

std::optional<std::size_t> arrival_index(std::int64_t id, std::int64_t base, std::size_t count) {
  if (id < base) return std::nullopt;
  const auto k = static_cast<std::uint64_t>(id - base);
  if (k >= count) return std::nullopt;
  return static_cast<std::size_t>(k);
}

void PlacementPass::add(const Iteration& r) {
  if (!r.has_items || r.items.empty()) return;
  if (!base_) {
    base_ = 0;
    if (ids_ == ArrivalIds::FromFirstListed) {
      base_ = r.items.front().id;
      for (const auto& it : r.items) base_ = std::min(*base_, it.id);
    }
  }
  auto [slot, fresh] = index_.try_emplace(r.stream, static_cast<std::int32_t>(streams_.size()));
  if (fresh) streams_.push_back(r.stream);
  for (const auto& it : r.items) {
    if (it.prefill == 0 && !it.decode) continue;  // listed, not served: not where it ran yet
    if (auto k = arrival_index(it.id, *base_, stream_of_.size()); k && stream_of_[*k] < 0)
      stream_of_[*k] = slot->second;
  }
}

ArrivalPlacement PlacementPass::finish() const {
  ArrivalPlacement p;
  p.streams = streams_;
  p.arrivals_of.resize(streams_.size());
  p.id_base = base_;
  for (std::size_t k = 0; k < stream_of_.size(); ++k) {
    if (stream_of_[k] < 0) ++p.unplaced;
    else p.arrivals_of[static_cast<std::size_t>(stream_of_[k])].push_back(k);
  }
  return p;
}

}  // namespace batchproof::traces
