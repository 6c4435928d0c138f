// The map of live requests by id: a sliding window for arrival-numbered ids, a hash map for
// the rest, the same answers either way.
#include <catch2/catch.hpp>

#include <map>

#include "sim/random.hpp"
#include "traces/id_window_map.hpp"

using batchproof::traces::IdWindowMap;

TEST_CASE("id window map: the same contents as a std::map under random use", "[audit][id_window_map]") {
  IdWindowMap<int> m;
  std::map<std::int64_t, int> truth;
  batchproof::sim::Random rng(5);
  std::int64_t next = 1000;
  for (int step = 0; step < 20000; ++step) {
    auto pick = rng.uniform_int(0, 9);
    std::int64_t id = pick < 5   ? next++                                            // a new arrival
                      : pick < 8 ? next - rng.uniform_int(1, 50)                     // a recent one
                      : pick < 9 ? -rng.uniform_int(0, 5)                           // below the window
                                 : next + IdWindowMap<int>::kMaxWindow + rng.uniform_int(0, 9);  // far above
    if (rng.uniform_int(0, 2) == 0) {
      m.erase(id);
      truth.erase(id);
    } else {
      m.get(id) += 1;
      truth[id] += 1;
    }
    if (step % 5000 == 0) {
      m.erase_if([](std::int64_t, int v) { return v > 1; });
      for (auto it = truth.begin(); it != truth.end();) it = it->second > 1 ? truth.erase(it) : std::next(it);
    }
  }
  REQUIRE(m.size() == truth.size());
  for (const auto& [id, v] : truth) {
    const int* found = m.find(id);
    REQUIRE(found);
    CHECK(*found == v);
  }
  CHECK_FALSE(m.find(next + 5));
}
