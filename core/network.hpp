// Networks of engines (AI agents): classes of requests follow routes of hops. MODEL.md §7.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/workload.hpp"

namespace batchproof::core {

enum class Dispatch { RoundRobin, ShortestQueueRequests, ShortestQueueTokens };

// A station of the network: `replicas` copies of one engine behind a dispatcher.
struct Station {
  std::string name;
  std::string engine;
  std::int64_t replicas = 1;
  Dispatch dispatch = Dispatch::RoundRobin;
  SourceLoc loc;
};

struct Hop {
  std::string station;
  LengthLaw prompt, output;
  SourceLoc loc;
};

// A stage of a route: one hop, or a fork of hops that run in parallel and join before the
// next stage.
struct Stage {
  std::vector<Hop> hops;  // one element, or several for a fork
  bool fork = false;
};

struct NetworkClass {
  std::string name;
  ArrivalProcess arrivals;
  std::vector<Stage> route;
  SourceLoc loc;
};

struct Network {
  std::string name;
  std::vector<Station> stations;
  std::vector<NetworkClass> classes;
  std::map<std::string, std::vector<std::string>> priority;  // station -> classes, highest first
  SourceLoc loc;
};

}  // namespace batchproof::core
