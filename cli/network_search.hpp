// `search --network`: runs the network search (cli/network_witness.hpp) and prints it; returns
// the exit code (1 a witness, 0 none or stable, 2 unknown or not confirmed, 3 a file not written).
#pragma once

#include <string>

#include "cli/network_witness.hpp"

namespace batchproof::cli {

int run_network_search(const core::Spec& spec, const core::Network& network, const NetworkSearchOptions& options,
                       bool json, const std::string& svg);

}  // namespace batchproof::cli
