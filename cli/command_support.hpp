// What the commands share: loading a spec with its diagnostics printed, the usage-error exit,
// and escaping text for XML (SVG plots, JUnit reports).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/spec.hpp"
#include "traces/reader.hpp"

namespace batchproof::cli {

// The spec in `file` and its imports; nullopt (diagnostics printed on stderr) on bad input.
std::optional<core::Spec> load_spec_reporting(const std::string& file);
// A log opened for reading (traces::Input::open), or null with the reason printed.
std::unique_ptr<traces::Input> open_log_reporting(const std::string& path);

// Prints "batchproof COMMAND: error: MESSAGE" on stderr; returns the bad-input exit code.
int usage_error(std::string_view command, const std::string& message);

std::string xml_escaped(std::string_view text);

}  // namespace batchproof::cli
