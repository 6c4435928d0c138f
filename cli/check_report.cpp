#include "cli/check_report.hpp"

#include <cmath>

#include <fmt/format.h>

#include "cli/text_table.hpp"

namespace batchproof::cli {

namespace {

std::string ms(double s) { return fmt::format("{:.2f} ms", s * 1e3); }
std::string rate(double tokens_per_s) { return tokens_per_s > 0 ? fmt::format("{:.1f}", tokens_per_s) : "-"; }
std::string opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string time_formula(const core::TimeModel& t) {
  switch (t.form) {
    case core::TimeModel::Form::Staircase:
      return fmt::format("{:g} ms + {:g} ms * ceil(b / {})", t.c_s * 1e3, t.a_s * 1e3, t.b0);
    case core::TimeModel::Form::Linear:
      return fmt::format("{:g} ms + {:g} ms/token * max(0, b - {})", t.c_s * 1e3, t.a_s * 1e3, t.b0);
    case core::TimeModel::Form::Table:
      return fmt::format("table of {} points, b = {} .. {}", t.table.size(), t.table.front().first,
                         t.table.back().first);
  }
  return "";
}

std::string arrivals_text(const core::ArrivalProcess& a) {
  switch (a.form) {
    case core::ArrivalProcess::Form::Poisson: return fmt::format("poisson {:g} req/s", a.rate_per_s);
    case core::ArrivalProcess::Form::Fixed: return fmt::format("every {:g} ms", a.gap_s * 1e3);
    case core::ArrivalProcess::Form::Bursts: return fmt::format("bursts {} every {:g} ms", a.burst_size, a.gap_s * 1e3);
    case core::ArrivalProcess::Form::Trace: return fmt::format("trace {} ({} requests)", a.path, a.trace.size());
  }
  return "";
}

std::string kv_text(const core::Engine& e) {
  auto kv = e.kv_tokens();
  if (!kv) return "-";
  if (e.block_size > 1) return fmt::format("{} ({} blocks)", *kv, *kv / e.block_size);
  return std::to_string(*kv);
}

}  // namespace

CheckReport build_report(const std::string& file, const core::Spec& spec) {
  CheckReport r;
  r.file = file;
  r.spec = &spec;
  for (const auto& e : spec.engines) r.engine_capacity.push_back(core::compute_capacity(e));
  for (const auto& w : spec.workloads)
    for (const auto& e : spec.engines) r.loads.push_back({&e, &w, core::load_on(e, w)});
  for (const auto& n : spec.networks)
    for (const auto& sl : core::station_loads(spec, n)) {
      StationLoad row;
      static_cast<core::StationLoad&>(row) = sl;
      row.network = n.name;
      r.stations.push_back(row);
    }
  r.findings = core::find_issues(spec);
  return r;
}

std::string render_text(const CheckReport& r) {
  const core::Spec& s = *r.spec;
  auto count = [](std::size_t n, const char* one, const char* many = nullptr) {
    return n == 1 ? fmt::format("1 {}", one) : many ? fmt::format("{} {}", n, many) : fmt::format("{} {}s", n, one);
  };
  std::string out = fmt::format("{}: ok: {}, {}, {}, {}, {}, {}\n", r.file, count(s.profiles.size(), "profile"),
                                count(s.policies.size(), "policy", "policies"), count(s.engines.size(), "engine"),
                                count(s.workloads.size(), "workload"), count(s.networks.size(), "network"),
                                count(s.checks.size(), "check"));
  if (s.files.size() > 1) {
    out += "  imports:";
    for (std::size_t i = 1; i < s.files.size(); ++i) out += " " + s.files[i];
    out += "\n";
  }
  if (!s.profiles.empty() && s.engines.empty()) {
    std::vector<std::vector<std::string>> rows{{"profile", "iteration time t(b)", "t(512)", "gpu"}};
    for (const auto& p : s.profiles)
      rows.push_back({p.name, time_formula(p.time), ms(p.time.seconds(512)), p.gpu.value_or("-")});
    out += "\nprofiles\n" + render_table(rows);
  }
  if (!s.engines.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"engine", "profile", "budget", "k_max", "KV tokens", "t(b_max)", "compute capacity"}};
    for (std::size_t i = 0; i < s.engines.size(); ++i) {
      const auto& e = s.engines[i];
      const auto& c = r.engine_capacity[i];
      std::string budget = e.token_budget ? std::to_string(*e.token_budget) +
                                                (e.budget_form == core::BudgetForm::Padded ? " padded" : "")
                                          : "-";
      rows.push_back({e.name, e.profile.name, budget, opt(e.max_batch), kv_text(e),
                      c.b_max.from_budget ? ms(c.t_b_max_s) : "-",
                      c.b_max.from_budget ? rate(c.tokens_per_s) + " tokens/s" : "(per workload)"});
    }
    out += "\nengines\n" + render_table(rows);
  }
  if (!s.workloads.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"workload", "arrivals", "rate", "mean prompt", "mean output", "offered"}};
    for (const auto& w : s.workloads)
      rows.push_back({w.name, arrivals_text(w.arrivals), fmt::format("{:.3f} req/s", w.arrivals.mean_rate()),
                      fmt::format("{:.1f}", w.mean_prompt()), fmt::format("{:.1f}", w.mean_output()),
                      fmt::format("{:.1f} tokens/s", w.arrivals.mean_rate() * (w.mean_prompt() + w.mean_output()))});
    out += "\nworkloads\n" + render_table(rows);
  }
  if (!r.loads.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"engine", "workload", "compute tok/s", "memory tok/s", "usable tok/s", "load"}};
    for (const auto& p : r.loads) {
      const auto& f = p.figures;
      rows.push_back({p.engine->name, p.workload->name, rate(f.compute.tokens_per_s),
                      f.memory ? rate(f.memory->tokens_per_s) : "-", rate(f.usable_tokens_per_s),
                      std::isfinite(f.load) ? fmt::format("{:.3f}", f.load) : "-"});
    }
    out += "\nload = offered / usable capacity (MODEL.md §3)\n" + render_table(rows);
    bool any_memory = false;
    for (const auto& p : r.loads) any_memory |= p.figures.memory.has_value();
    if (any_memory)
      out += "  memory capacity: μ·(m_p+m_d) with μ = M / (t̄·E[g]) (Nie-Si-Zhou), t̄ = t(b̄) at the batch that the KV "
             "cache allows on average\n";
  }
  if (!r.stations.empty()) {
    std::vector<std::vector<std::string>> rows{{"network", "station", "engine", "replicas", "offered tok/s",
                                                "capacity tok/s", "load"}};
    for (const auto& st : r.stations)
      rows.push_back({st.network, st.station, st.engine, std::to_string(st.replicas), rate(st.offered_tokens_per_s),
                      rate(st.capacity_tokens_per_s), std::isfinite(st.load) ? fmt::format("{:.3f}", st.load) : "-"});
    out += "\nstations (per-engine capacity condition, MODEL.md §7)\n" + render_table(rows);
  }
  if (!r.findings.empty()) {
    out += "\nfindings\n";
    for (const auto& f : r.findings)
      out += fmt::format("  {}:{}:{}: warning: {} [{}]\n", f.loc.file, f.loc.line, f.loc.col, f.message, f.kind);
  }
  return out;
}

nlohmann::json render_json(const CheckReport& r) {
  using nlohmann::json;
  const core::Spec& s = *r.spec;
  json j;
  j["file"] = r.file;
  j["ok"] = true;
  j["imports"] = json::array();
  for (std::size_t i = 1; i < s.files.size(); ++i) j["imports"].push_back(s.files[i]);
  j["profiles"] = json::array();
  for (const auto& p : s.profiles)
    j["profiles"].push_back({{"name", p.name}, {"time", time_formula(p.time)}, {"t_512_ms", p.time.seconds(512) * 1e3}});
  j["engines"] = json::array();
  for (std::size_t i = 0; i < s.engines.size(); ++i) {
    const auto& e = s.engines[i];
    const auto& c = r.engine_capacity[i];
    json je{{"name", e.name}, {"profile", e.profile.name}};
    je["token_budget"] = e.token_budget ? json(*e.token_budget) : json(nullptr);
    je["max_batch"] = e.max_batch ? json(*e.max_batch) : json(nullptr);
    je["kv_tokens"] = e.kv_tokens() ? json(*e.kv_tokens()) : json(nullptr);
    if (c.b_max.from_budget) {
      je["t_b_max_ms"] = c.t_b_max_s * 1e3;
      je["compute_capacity_tokens_per_s"] = c.tokens_per_s;
    } else {
      je["t_b_max_ms"] = nullptr;
      je["compute_capacity_tokens_per_s"] = nullptr;
    }
    j["engines"].push_back(je);
  }
  j["workloads"] = json::array();
  for (const auto& w : s.workloads)
    j["workloads"].push_back({{"name", w.name},
                              {"rate_per_s", w.arrivals.mean_rate()},
                              {"mean_prompt", w.mean_prompt()},
                              {"mean_output", w.mean_output()}});
  j["loads"] = json::array();
  for (const auto& p : r.loads) {
    const auto& f = p.figures;
    json jl{{"engine", p.engine->name},
            {"workload", p.workload->name},
            {"offered_tokens_per_s", f.offered_tokens_per_s},
            {"compute_capacity_tokens_per_s", f.compute.tokens_per_s},
            {"b_max_tokens", f.compute.b_max.tokens ? json(*f.compute.b_max.tokens) : json(nullptr)},
            {"b_max_from_budget", f.compute.b_max.from_budget},
            {"usable_capacity_tokens_per_s", f.usable_tokens_per_s},
            {"load", std::isfinite(f.load) ? json(f.load) : json(nullptr)}};
    if (!f.compute.b_max.from_budget) jl["b_max_reason"] = f.compute.b_max.reason;
    if (f.memory)
      jl["memory"] = {{"kv_tokens", f.memory->kv_tokens},
                      {"mean_g_token_iterations", f.memory->mean_g},
                      {"t_bar_ms", f.memory->t_bar_s * 1e3},
                      {"requests_per_s", f.memory->requests_per_s},
                      {"tokens_per_s", f.memory->tokens_per_s}};
    else
      jl["memory"] = nullptr;
    j["loads"].push_back(jl);
  }
  j["stations"] = json::array();
  for (const auto& st : r.stations)
    j["stations"].push_back({{"network", st.network},
                             {"station", st.station},
                             {"engine", st.engine},
                             {"replicas", st.replicas},
                             {"offered_tokens_per_s", st.offered_tokens_per_s},
                             {"capacity_tokens_per_s", st.capacity_tokens_per_s},
                             {"load", std::isfinite(st.load) ? json(st.load) : json(nullptr)}});
  j["findings"] = json::array();
  for (const auto& f : r.findings)
    j["findings"].push_back({{"kind", f.kind},
                             {"file", f.loc.file},
                             {"line", f.loc.line},
                             {"col", f.loc.col},
                             {"message", f.message}});
  return j;
}

}  // namespace batchproof::cli
