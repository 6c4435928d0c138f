// A whole resolved specification: everything declared in a file and its imports, with every
// name resolved and every unit checked. What dsl/ produces and every other library consumes.
#pragma once

#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/engine.hpp"
#include "core/network.hpp"
#include "core/policy.hpp"
#include "core/profile.hpp"
#include "core/workload.hpp"

namespace batchproof::core {

struct Spec {
  std::vector<std::string> files;  // the root file first, then its imports in load order
  std::vector<Profile> profiles;
  std::vector<Policy> policies;
  std::vector<Engine> engines;
  std::vector<Workload> workloads;
  std::vector<Network> networks;
  std::vector<Check> checks;

  const Profile* find_profile(const std::string& name) const;
  const Policy* find_policy(const std::string& name) const;
  const Engine* find_engine(const std::string& name) const;
  const Workload* find_workload(const std::string& name) const;
  const Network* find_network(const std::string& name) const;
};

}  // namespace batchproof::core
