// Loading a spec: read the root file, follow imports (each file once; a cycle is an error),
// then lower all files together so that declarations may refer across files.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dsl/dsl.hpp"
#include "dsl/lower.hpp"
#include "dsl/parse.hpp"

namespace batchproof::dsl {

namespace {

constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

struct Loader {
  core::Diagnostics& diags;
  std::vector<ParsedFile> files;           // in load order: imports before their importer
  std::vector<std::string> stack;          // canonical paths being loaded (for cycles)
  std::vector<std::string> done;           // canonical paths loaded
  bool import_failed = false;

  static std::string canonical(const std::string& path) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
  }

  void load(const std::string& path, std::string text) {
    std::string key = canonical(path);
    stack.push_back(key);
    ParsedFile parsed;
    parse_text(path, std::move(text), parsed, diags);
    for (const auto& item : parsed.file.items) {
      const auto* imp = boost::get<ast::Import>(&item.get());
      if (!imp) continue;
      std::filesystem::path target(imp->path.text());
      if (!target.is_absolute()) target = std::filesystem::path(path).parent_path() / target;
      std::string target_path = target.lexically_normal().string();
      std::string target_key = canonical(target_path);
      auto where = parsed.loc(imp->path);
      auto cycle = std::find(stack.begin(), stack.end(), target_key);
      if (cycle != stack.end()) {
        std::string chain;
        for (auto it = cycle; it != stack.end(); ++it)
          chain += std::filesystem::path(*it).filename().string() + " -> ";
        chain += std::filesystem::path(target_key).filename().string();
        diags.error(where, fmt::format("import cycle: {}", chain), parsed.line_text(where.line));
        import_failed = true;
        continue;
      }
      if (std::find(done.begin(), done.end(), target_key) != done.end()) continue;
      auto content = read_file(target_path, diags, where, parsed.line_text(where.line));
      if (!content) {
        import_failed = true;
        continue;
      }
      load(target_path, std::move(*content));
    }
    stack.pop_back();
    done.push_back(key);
    files.push_back(std::move(parsed));
  }
};

}  // namespace

std::optional<std::string> read_file(const std::string& path, core::Diagnostics& diags, const core::SourceLoc& from,
                                     const std::string& from_line) {
  auto fail = [&](const std::string& why) {
    core::SourceLoc loc = from.known() ? from : core::SourceLoc{path, 0, 0};
    diags.error(loc, from.known() ? fmt::format("cannot read imported file '{}': {}", path, why)
                                  : fmt::format("cannot read '{}': {}", path, why),
                from_line);
    return std::nullopt;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) return fail(fmt::format("file too large ({} bytes; the limit is {})", size, kMaxFileBytes));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail(std::strerror(errno));
  return ss.str();
}

std::optional<core::Spec> load_spec_text(const std::string& path, std::string text, core::Diagnostics& diags) {
  int errors = diags.error_count();
  Loader loader{diags, {}, {}, {}};
  loader.load(path, std::move(text));
  core::Spec spec;
  // The root file is loaded last; list it first.
  for (auto it = loader.files.rbegin(); it != loader.files.rend(); ++it) spec.files.push_back(it->source->path());
  Lowerer lowerer(spec, diags);
  if (loader.import_failed) lowerer.set_incomplete();
  for (const auto& f : loader.files) lowerer.declare_independent(f);
  for (const auto& f : loader.files) lowerer.declare_engines(f);
  for (const auto& f : loader.files) lowerer.declare_dependent(f);
  if (diags.error_count() != errors) return std::nullopt;
  return spec;
}

std::optional<core::Spec> load_spec(const std::string& path, core::Diagnostics& diags) {
  auto text = read_file(path, diags);
  if (!text) return std::nullopt;
  return load_spec_text(path, std::move(*text), diags);
}

}  // namespace batchproof::dsl
