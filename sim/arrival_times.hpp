// When requests arrive: the instants of a core::ArrivalProcess, one at a time, in order.
// Lengths are someone else's business (ArrivalStream for a workload, the network simulator
// for a class of a network), so this is shared by both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/workload.hpp"
#include "sim/random.hpp"

namespace batchproof::sim {

// The rate to run a process at: `rate_per_s` replaces the process's own mean rate when given,
// and `rate_scale` multiplies whichever applies (so a load sweep can scale a trace too).
struct RateChoice {
  std::optional<double> rate_per_s;
  double rate_scale = 1;
};

struct ArrivalInstant {
  double time_s = 0;
  std::size_t index = 0;  // 0, 1, 2, ...; for a trace, the record replayed
};

class ArrivalTimes {
 public:
  // The process must outlive this object (a trace is replayed in place, not copied).
  //   Poisson: exponential gaps at the rate; the first arrival one gap after 0.
  //   Fixed: one request at each k·gap, k = 1, 2, ... (a rate r sets gap = 1/r).
  //   Bursts: burst_size requests at the same instant k·gap, k = 1, 2, ... (a rate r sets
  //     gap = burst_size/r). Instants are computed as k·gap, never summed, so they are exact
  //     multiples with no drift.
  //   Trace: the records' times, in order; a different rate stretches them about the first
  //     record's time, t₀ + (t − t₀)·(mean rate / rate), so the replay has the requested mean
  //     rate. A trace whose mean rate is 0 (one record, or all at one instant) keeps its times.
  // A Poisson, Fixed or Bursts process whose effective rate is not positive and finite (or a
  // bad burst size) yields no arrivals at all: validation reports it; the simulator must not hang.
  ArrivalTimes(const core::ArrivalProcess& process, const RateChoice& rate, Random rng);
  ArrivalTimes(core::ArrivalProcess&&, const RateChoice&, Random) = delete;

  std::optional<ArrivalInstant> next();
  // The mean rate of the arrivals produced (requests per second), after the rate choice.
  double rate_per_s() const { return rate_; }

 private:
  const core::ArrivalProcess* process_;
  Random rng_;
  double rate_ = 0;
  double gap_s_ = 0;        // Fixed, Bursts
  double stretch_ = 1;      // Trace
  double clock_s_ = 0;      // Poisson
  std::size_t index_ = 0;
  bool live_ = true;
};

}  // namespace batchproof::sim
