// The public face of dsl/: read a spec (with its imports) into a core::Spec, and format
// source text canonically. No Spirit here: the grammar stays private to dsl/.
#pragma once

#include <optional>
#include <string>

#include "core/source.hpp"
#include "core/spec.hpp"

namespace batchproof::dsl {

// Reads `path` and everything it imports. Every syntax, name, type and unit error goes to
// `diags`; the result is nullopt if there was any error.
std::optional<core::Spec> load_spec(const std::string& path, core::Diagnostics& diags);
// The same for text already in memory (named `path`; imports are resolved relative to it).
std::optional<core::Spec> load_spec_text(const std::string& path, std::string text, core::Diagnostics& diags);

// The canonical form of `text`: one declaration after another with one blank line between
// blocks, two-space indentation, values aligned within a block, comments kept. nullopt on a
// syntax error (in `diags`). Formatting does not resolve names or read imports.
std::optional<std::string> format_source(const std::string& path, std::string text, core::Diagnostics& diags);

// Reads a whole file; an error (with the reason) if it cannot be read or is too large.
// `from` and `from_line` locate the import that asked for it, if any.
std::optional<std::string> read_file(const std::string& path, core::Diagnostics& diags,
                                     const core::SourceLoc& from = {}, const std::string& from_line = {});

}  // namespace batchproof::dsl
