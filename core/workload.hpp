// Workloads: how requests arrive and how long their prompts and outputs are. MODEL.md §1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/source.hpp"

namespace batchproof::core {

// One request of an arrivals file (batchproof's JSON Lines, or a public trace).
struct Arrival {
  double time_s = 0;
  std::int64_t prompt = 0;
  std::int64_t output = 0;
  std::string cls;  // request class, empty if none
};

// A law for a length in tokens (always ≥ 1). Discrete laws throughout:
//   constant n; uniform on {lo..hi}; geometric on {1,2,..} with the given mean;
//   exponential: ⌈X⌉ for X ~ Exp(mean) (so its exact mean is 1/(1 − e^(−1/mean)));
//   empirical: the values of a column of an arrivals file, equally likely.
// An optional maximum truncates the law (P(max) absorbs the tail) — "max 4096 tokens".
struct LengthLaw {
  enum class Form { Constant, Uniform, Geometric, Exponential, Empirical };
  Form form = Form::Constant;
  std::int64_t lo = 1, hi = 1;      // Constant (lo), Uniform (lo..hi)
  double mean_param = 1;            // Geometric, Exponential
  std::string path;                 // Empirical: the file as written in the spec
  std::vector<std::int64_t> values; // Empirical: the loaded values
  std::optional<std::int64_t> max;  // truncation

  double mean() const;
  double second_moment() const;
  // The largest value the law can take, or nullopt when unbounded (geometric/exponential without max).
  std::optional<std::int64_t> largest() const;
};

enum class TraceFormat { Auto, Batchproof, Azure, Vidur, Mooncake };

struct ArrivalProcess {
  enum class Form { Poisson, Fixed, Bursts, Trace };
  Form form = Form::Poisson;
  double rate_per_s = 0;          // Poisson
  double gap_s = 0;               // Fixed: one request every gap; Bursts: a burst every gap
  std::int64_t burst_size = 1;    // Bursts
  std::string path;               // Trace: as written in the spec
  std::string resolved_path;      // Trace: relative to the spec file
  TraceFormat format = TraceFormat::Auto;
  std::vector<Arrival> trace;     // Trace: loaded and sorted by time

  // Mean requests per second (a trace: requests over its span).
  double mean_rate() const;
};

struct RequestClass {
  std::string name;
  double weight = 1;  // share of arrivals, relative to the other classes
  LengthLaw prompt, output;
  SourceLoc loc;
};

struct Workload {
  std::string name;
  ArrivalProcess arrivals;
  // Either lengths from the trace, or laws; classes split arrivals by weight, each with its laws.
  std::optional<LengthLaw> prompt, output;
  std::vector<RequestClass> classes;
  SourceLoc loc;

  double mean_prompt() const;
  double mean_output() const;
  std::optional<std::int64_t> max_prompt() const;
  std::optional<std::int64_t> max_output() const;
  // E[g] where g(s, o) = o·s + o(o+1)/2 for independent s, o (MODEL.md §3, paper accounting).
  double mean_prompt_output() const;       // E[s·o]
  double mean_output_squared() const;      // E[o²]
};

}  // namespace batchproof::core
