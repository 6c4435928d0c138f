#include "core/spec.hpp"

#include <algorithm>

namespace batchproof::core {

namespace {
template <class T>
const T* find_named(const std::vector<T>& items, const std::string& name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.name == name; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Profile* Spec::find_profile(const std::string& n) const { return find_named(profiles, n); }
const Policy* Spec::find_policy(const std::string& n) const { return find_named(policies, n); }
const Engine* Spec::find_engine(const std::string& n) const { return find_named(engines, n); }
const Workload* Spec::find_workload(const std::string& n) const { return find_named(workloads, n); }
const Network* Spec::find_network(const std::string& n) const { return find_named(networks, n); }

}  // namespace batchproof::core
