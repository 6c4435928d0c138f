// Lowering of values: quantities with units, keyword choices, length laws, arrival processes.
#include <charconv>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/arrivals_file.hpp"
#include "dsl/lower.hpp"

namespace batchproof::dsl {

namespace {
std::string example(core::Dimension d) {
  switch (d) {
    case core::Dimension::Time: return "11.28 ms";
    case core::Dimension::Tokens: return "512 tokens";
    case core::Dimension::Blocks: return "8192 blocks";
    case core::Dimension::Requests: return "8 requests";
    case core::Dimension::Iterations: return "40 iterations";
    case core::Dimension::Bytes: return "80 GiB";
    case core::Dimension::Rate: return "14 req/s";
    case core::Dimension::TimePerToken: return "0.28 ms/token";
    case core::Dimension::Fraction: return "90 %";
    case core::Dimension::Number: return "0.9";
  }
  return "";
}

std::string shown(const ast::Quantity& q) {
  return q.unit ? fmt::format("{} {}", q.number.text(), q.unit->text()) : q.number.text();
}
}  // namespace

void Lowerer::error(const ast::Tagged& node, const std::string& message) {
  auto l = loc(node);
  diags_.error(l, message, file_->line_text(l.line));
}

void Lowerer::warning(const ast::Tagged& node, const std::string& message) {
  auto l = loc(node);
  diags_.warning(l, message, file_->line_text(l.line));
}

std::optional<double> Lowerer::quantity(const ast::Quantity& q, core::Dimension expected, const std::string& what,
                                        bool unitless_ok) {
  double value = 0;
  const std::string& text = q.number.text();
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    error(q, fmt::format("number '{}' is out of range", text));
    return std::nullopt;
  }
  if (!q.unit) {
    if (expected == core::Dimension::Number || unitless_ok) return value;
    error(q, fmt::format("missing unit: {} is {}, such as '{}'", what, core::describe(expected), example(expected)));
    return std::nullopt;
  }
  const core::Unit* unit = core::find_unit(q.unit->text());
  if (!unit) {
    error(*q.unit, fmt::format("unknown unit '{}'{}", q.unit->text(), core::did_you_mean(q.unit->text(), core::unit_spellings())));
    return std::nullopt;
  }
  if (unit->dim != expected) {
    if (expected == core::Dimension::Number)
      error(*q.unit, fmt::format("{} is a plain number, without a unit; found '{}'", what, shown(q)));
    else
      error(*q.unit, fmt::format("wrong unit: {} is {}, but '{}' is {}", what, core::describe(expected), shown(q),
                                 core::describe(unit->dim)));
    return std::nullopt;
  }
  return value * unit->scale;
}

std::optional<std::int64_t> Lowerer::whole(const ast::Quantity& q, core::Dimension expected, const std::string& what,
                                           std::int64_t minimum, bool unitless_ok) {
  auto v = quantity(q, expected, what, unitless_ok);
  if (!v) return std::nullopt;
  if (*v != std::floor(*v) || *v > 9.0e15) {
    error(q, fmt::format("{} must be a whole number, found '{}'", what, shown(q)));
    return std::nullopt;
  }
  auto n = static_cast<std::int64_t>(*v);
  if (n < minimum) {
    error(q, fmt::format("{} must be at least {}, found '{}'", what, minimum, shown(q)));
    return std::nullopt;
  }
  return n;
}

std::optional<std::size_t> Lowerer::choice(const ast::Name& word, const std::string& what,
                                           const std::vector<std::string>& allowed) {
  for (std::size_t i = 0; i < allowed.size(); ++i)
    if (allowed[i] == word.text()) return i;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  error(word, fmt::format("unknown {} '{}'{}; expected one of: {}", what, word.text(),
                          core::did_you_mean(word.text(), allowed), list));
  return std::nullopt;
}

namespace {
// Resolves a path written in a spec relative to the spec's own folder.
std::string relative_to(const std::string& spec_path, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(spec_path).parent_path() / p).lexically_normal().string();
}
}  // namespace

std::optional<core::LengthLaw> Lowerer::law(const ast::Law& l, const std::string& what, bool is_prompt) {
  core::LengthLaw out;
  bool ok = true;
  const ast::LawForm& form = l.form;
  if (const auto* u = boost::get<ast::UniformLaw>(&form.get())) {
    out.form = core::LengthLaw::Form::Uniform;
    // "uniform 10 .. 248 tokens": the low end borrows the high end's unit.
    ast::Quantity lo = u->lo;
    if (!lo.unit) lo.unit = u->hi.unit;
    auto a = whole(lo, core::Dimension::Tokens, "the low end of " + what, 1);
    auto b = whole(u->hi, core::Dimension::Tokens, "the high end of " + what, 1);
    if (a && b && *a > *b) {
      error(u->hi, fmt::format("empty range: the low end {} is above the high end {}", *a, *b));
      ok = false;
    }
    if (!a || !b) return std::nullopt;
    out.lo = *a;
    out.hi = *b;
  } else if (const auto* e = boost::get<ast::EmpiricalLaw>(&form.get())) {
    out.form = core::LengthLaw::Form::Empirical;
    out.path = e->file.text();
    std::string resolved = relative_to(file_->source->path(), e->file.text());
    auto arrivals = read_arrivals_at(e->file, resolved, core::TraceFormat::Auto, what);
    if (!arrivals) return std::nullopt;
    for (const auto& a : *arrivals) out.values.push_back(is_prompt ? a.prompt : a.output);
  } else {
    const auto& o = boost::get<ast::OneArgLaw>(form.get());
    if (o.form == "constant") {
      out.form = core::LengthLaw::Form::Constant;
      auto n = whole(o.value, core::Dimension::Tokens, what, 1);
      if (!n) return std::nullopt;
      out.lo = out.hi = *n;
    } else {
      out.form = o.form == "geometric" ? core::LengthLaw::Form::Geometric : core::LengthLaw::Form::Exponential;
      auto m = quantity(o.value, core::Dimension::Tokens, "the mean of " + what);
      if (!m) return std::nullopt;
      if (*m < 1.0 && out.form == core::LengthLaw::Form::Geometric) {
        error(o.value, fmt::format("the mean of a geometric law on 1, 2, ... must be at least 1 token, found {}", *m));
        return std::nullopt;
      }
      if (*m <= 0.0) {
        error(o.value, fmt::format("the mean of {} must be positive", what));
        return std::nullopt;
      }
      out.mean_param = *m;
    }
  }
  if (l.max) {
    auto m = whole(*l.max, core::Dimension::Tokens, "the maximum of " + what, 1);
    if (!m) return std::nullopt;
    if (out.form != core::LengthLaw::Form::Empirical && *m < out.lo) {
      error(*l.max, fmt::format("the maximum {} is below the law's smallest value {}", *m, out.lo));
      return std::nullopt;
    }
    out.max = *m;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<core::Arrival>> Lowerer::read_arrivals_at(const ast::String& where, const std::string& path,
                                                                    core::TraceFormat format,
                                                                    const std::string& purpose) {
  core::Diagnostics file_diags;
  auto arrivals = core::read_arrivals(path, format, file_diags);
  if (arrivals) return arrivals;
  bool in_file = false;
  for (const auto& d : file_diags.all()) in_file |= d.loc.known();
  if (!in_file) {
    // The file as a whole (missing, unreadable, empty, of no known format): one error, here.
    const std::string prefix = "cannot read arrivals file: ";
    for (const auto& d : file_diags.all()) {
      if (d.severity != core::Severity::Error) continue;
      if (d.message.rfind(prefix, 0) == 0)
        error(where, fmt::format("cannot read arrivals file '{}': {}", path, d.message.substr(prefix.size())));
      else
        error(where, fmt::format("arrivals file '{}': {}", path, d.message));
    }
    return std::nullopt;
  }
  for (const auto& d : file_diags.all()) diags_.add(d);
  auto l = loc(where);
  diags_.add({core::Severity::Note, l, fmt::format("while reading {} of {}", purpose, context_),
              file_->line_text(l.line)});
  return std::nullopt;
}

std::optional<core::ArrivalProcess> Lowerer::arrivals(const ast::Arrivals& a) {
  core::ArrivalProcess out;
  if (const auto* p = boost::get<ast::Poisson>(&a.get())) {
    out.form = core::ArrivalProcess::Form::Poisson;
    auto r = quantity(p->rate, core::Dimension::Rate, "an arrival rate");
    if (!r) return std::nullopt;
    if (*r <= 0) {
      error(p->rate, "the arrival rate must be positive");
      return std::nullopt;
    }
    out.rate_per_s = *r;
  } else if (const auto* e = boost::get<ast::Every>(&a.get())) {
    out.form = core::ArrivalProcess::Form::Fixed;
    auto g = quantity(e->gap, core::Dimension::Time, "the gap between arrivals");
    if (!g) return std::nullopt;
    if (*g <= 0) {
      error(e->gap, "the gap between arrivals must be positive");
      return std::nullopt;
    }
    out.gap_s = *g;
  } else if (const auto* b = boost::get<ast::Bursts>(&a.get())) {
    out.form = core::ArrivalProcess::Form::Bursts;
    auto n = whole(b->size, core::Dimension::Requests, "the burst size", 1);
    auto g = quantity(b->gap, core::Dimension::Time, "the gap between bursts");
    if (!n || !g) return std::nullopt;
    if (*g <= 0) {
      error(b->gap, "the gap between bursts must be positive");
      return std::nullopt;
    }
    out.burst_size = *n;
    out.gap_s = *g;
  } else {
    const auto& t = boost::get<ast::TraceArrivals>(a.get());
    out.form = core::ArrivalProcess::Form::Trace;
    out.path = t.file.text();
    out.resolved_path = relative_to(file_->source->path(), t.file.text());
    if (t.format) {
      auto names = core::format_names();
      auto i = choice(*t.format, "trace format", names);
      if (!i) return std::nullopt;
      out.format = *core::format_from_name(names[*i]);
    }
    auto loaded = read_arrivals_at(t.file, out.resolved_path, out.format, "the arrivals");
    if (!loaded) return std::nullopt;
    out.trace = std::move(*loaded);
  }
  return out;
}

}  // namespace batchproof::dsl
