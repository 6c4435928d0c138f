// Lowering of declarations: profile, policy, engine, workload, network, check.
#include <algorithm>

#include <fmt/format.h>

#include "dsl/lower.hpp"

namespace batchproof::dsl {

namespace {
template <class T>
std::vector<std::string> names(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const auto& x : items) out.push_back(x.name);
  return out;
}

const std::vector<std::string> kProfileKeys{"t", "gpu", "gpu_memory", "weights", "kv_per_token", "tensor_parallel",
                                            "provenance"};
const std::vector<std::string> kEngineKeys{"profile",    "token_budget",       "max_batch",   "max_running",
                                           "kv_cache",   "block_size",         "watermark",   "memory_utilization",
                                           "admission",  "max_seq_len",        "preemption",  "batching",
                                           "accounting", "class_priority",     "policy"};
const std::vector<std::string> kWorkloadKeys{"arrivals", "prompt", "output", "class"};
const std::vector<std::string> kClassKeys{"prompt", "output", "weight"};
const std::vector<std::string> kNetworkKeys{"station", "class", "priority"};
const std::vector<std::string> kNetClassKeys{"arrivals", "hop", "fork"};
}  // namespace

bool Lowerer::declare(const std::string& kind, const ast::Name& name) {
  auto& table = declared_[kind];
  auto it = table.find(name.text());
  if (it != table.end()) {
    error(name, fmt::format("{} '{}' is already declared at {}:{}:{}", kind, name.text(), it->second.file,
                            it->second.line, it->second.col));
    return false;
  }
  table.emplace(name.text(), loc(name));
  return true;
}

std::vector<std::string> Lowerer::names_of(const std::string& kind) const {
  std::vector<std::string> out;
  auto it = declared_.find(kind);
  if (it != declared_.end())
    for (const auto& [n, l] : it->second) out.push_back(n);
  return out;
}

void Lowerer::unknown(const ast::Name& name, const std::string& kind, const std::vector<std::string>& known) {
  bool declarable = kind == "profile" || kind == "policy" || kind == "engine" || kind == "workload" || kind == "network";
  if (incomplete_ && declarable) return;
  error(name, fmt::format("unknown {} '{}'{}", kind, name.text(), core::did_you_mean(name.text(), known)));
}

bool Lowerer::first_time(std::map<std::string, int>& seen, const std::string& key, const ast::Tagged& node) {
  auto here = loc(node);
  auto [it, inserted] = seen.emplace(key, here.line * 100000 + here.col);
  if (!inserted) {
    int line = it->second / 100000, col = it->second % 100000;
    error(node, line == here.line ? fmt::format("'{}' is given twice (first at column {})", key, col)
                                  : fmt::format("'{}' is given twice (first on line {})", key, line));
  }
  return inserted;
}

namespace {
// Reports an attribute whose key the block does not know.
void unknown_attr(Lowerer& l, const ast::UnknownAttr& u, const char* block, const std::vector<std::string>& keys) {
  l.error(u.key, fmt::format("unknown {} attribute '{}'{}", block, u.key.text(), core::did_you_mean(u.key.text(), keys)));
}
}  // namespace

// ---- passes ---------------------------------------------------------------------------------

void Lowerer::declare_independent(const ParsedFile& file) {
  file_ = &file;
  for (const auto& item : file.file.items) {
    if (const auto* p = boost::get<ast::ProfileDecl>(&item.get())) profile(*p);
    else if (const auto* p = boost::get<ast::PolicyDecl>(&item.get())) policy(*p);
    else if (const auto* w = boost::get<ast::WorkloadDecl>(&item.get())) workload(*w);
  }
}

void Lowerer::declare_engines(const ParsedFile& file) {
  file_ = &file;
  for (const auto& item : file.file.items)
    if (const auto* e = boost::get<ast::EngineDecl>(&item.get())) engine(*e);
}

void Lowerer::declare_dependent(const ParsedFile& file) {
  file_ = &file;
  for (const auto& item : file.file.items) {
    if (const auto* n = boost::get<ast::NetworkDecl>(&item.get())) network(*n);
    else if (const auto* c = boost::get<ast::CheckDecl>(&item.get())) check(*c);
  }
}

// ---- profile --------------------------------------------------------------------------------

void Lowerer::profile(const ast::ProfileDecl& d) {
  if (!declare("profile", d.name)) return;
  core::Profile p;
  p.name = d.name.text();
  p.loc = loc(d.name);
  std::map<std::string, int> seen;
  bool has_time = false, ok = true;
  for (const auto& a : d.attrs) {
    if (const auto* t = boost::get<ast::TimeAttr>(&a.get())) {
      if (!first_time(seen, "t(b)", *t)) continue;
      has_time = true;
      const ast::TimeModel& m = t->model;
      if (const auto* s = boost::get<ast::Staircase>(&m.get())) {
        p.time.form = core::TimeModel::Form::Staircase;
        auto c = quantity(s->c, core::Dimension::Time, "the constant C");
        auto a2 = quantity(s->a, core::Dimension::Time, "the step A");
        auto b0 = whole(s->b0, core::Dimension::Tokens, "the step width B0", 1, true);
        if (!c || !a2 || !b0) ok = false;
        else p.time.c_s = *c, p.time.a_s = *a2, p.time.b0 = *b0;
      } else if (const auto* l = boost::get<ast::Linear>(&m.get())) {
        p.time.form = core::TimeModel::Form::Linear;
        auto c = quantity(l->c, core::Dimension::Time, "the constant C");
        auto a2 = quantity(l->a, core::Dimension::TimePerToken, "the slope A");
        auto b0 = whole(l->b0, core::Dimension::Tokens, "the knee B0", 0, true);
        if (!c || !a2 || !b0) ok = false;
        else p.time.c_s = *c, p.time.a_s = *a2, p.time.b0 = *b0;
      } else {
        const auto& tab = boost::get<ast::Table>(m.get());
        p.time.form = core::TimeModel::Form::Table;
        if (tab.points.empty()) {
          error(*t, "a table needs at least one point 'TOKENS -> TIME'");
          ok = false;
        }
        for (const auto& pt : tab.points) {
          auto b = whole(pt.b, core::Dimension::Tokens, "a table point's batch size", 1, true);
          auto s = quantity(pt.t, core::Dimension::Time, "a table point's time");
          if (!b || !s) {
            ok = false;
            continue;
          }
          if (!p.time.table.empty() && *b <= p.time.table.back().first) {
            error(pt.b, fmt::format("table points must increase in tokens: {} after {}", *b, p.time.table.back().first));
            ok = false;
            continue;
          }
          p.time.table.emplace_back(*b, *s);
        }
      }
    } else if (const auto* q = boost::get<ast::QtyAttr>(&a.get())) {
      if (!first_time(seen, q->key, *q)) continue;
      if (q->flag) error(*q, fmt::format("'{}' applies only to token_budget", *q->flag));
      if (q->key == "tensor_parallel") {
        auto n = whole(q->value, core::Dimension::Number, "tensor_parallel", 1);
        if (n) p.tensor_parallel = *n;
        else ok = false;
        continue;
      }
      auto v = quantity(q->value, core::Dimension::Bytes, q->key);
      if (!v) {
        ok = false;
        continue;
      }
      if (*v <= 0) {
        error(q->value, fmt::format("{} must be positive", q->key));
        ok = false;
        continue;
      }
      if (q->key == "gpu_memory") p.gpu_memory_bytes = *v;
      else if (q->key == "weights") p.weights_bytes = *v;
      else p.kv_bytes_per_token = *v;
    } else if (const auto* s = boost::get<ast::StringAttr>(&a.get())) {
      if (!first_time(seen, s->key, *s)) continue;
      if (s->key == "gpu") p.gpu = s->value.text();
      else p.provenance = s->value.text();
    } else {
      unknown_attr(*this, boost::get<ast::UnknownAttr>(a.get()), "profile", kProfileKeys);
      ok = false;
    }
  }
  if (!has_time) {
    error(d.name, fmt::format("profile '{}' has no iteration time: add 't(b) = C + A * ceil(b / B0)' or another form",
                              p.name));
    ok = false;
  }
  if (ok) spec_.profiles.push_back(std::move(p));
}

// ---- policy ---------------------------------------------------------------------------------

void Lowerer::policy(const ast::PolicyDecl& d) {
  if (!declare("policy", d.name)) return;
  core::Policy p;
  p.name = d.name.text();
  p.loc = loc(d.name);
  int errors = diags_.error_count();
  p.body = policy_body(d.body);
  if (p.body.empty() && diags_.error_count() == errors) error(d.name, fmt::format("policy '{}' has no rules", p.name));
  if (diags_.error_count() == errors) spec_.policies.push_back(std::move(p));
}

// ---- engine ---------------------------------------------------------------------------------

void Lowerer::engine(const ast::EngineDecl& d) {
  if (!declare("engine", d.name)) return;
  core::Engine e;
  e.name = d.name.text();
  e.loc = loc(d.name);
  int errors = diags_.error_count();
  std::map<std::string, int> seen;
  bool has_profile = false, has_policy = false, has_block_size = false;
  const ast::Tagged* kv_node = nullptr;
  const ast::Tagged* admission_node = nullptr;
  for (const auto& a : d.attrs) {
    if (const auto* p = boost::get<ast::PolicyAttr>(&a.get())) {
      if (!first_time(seen, "policy", *p)) continue;
      has_policy = true;
      if (const auto* n = boost::get<ast::Name>(&p->value.get())) {
        if (const core::Policy* found = spec_.find_policy(n->text())) e.policy = *found;
        else if (!declared_["policy"].count(n->text())) unknown(*n, "policy", names_of("policy"));
        else has_policy = false;  // declared but invalid: its own errors were reported
      } else {
        e.policy.loc = loc(*p);
        int before = diags_.error_count();
        e.policy.body = policy_body(boost::get<ast::PolicyBody>(p->value.get()).body);
        if (e.policy.body.empty() && diags_.error_count() == before) error(*p, "the policy has no rules");
      }
    } else if (const auto* c = boost::get<ast::ChainAttr>(&a.get())) {
      if (!first_time(seen, c->key, *c)) continue;
      for (const auto& n : c->items) e.class_priority.push_back(n.text());
    } else if (const auto* q = boost::get<ast::QtyAttr>(&a.get())) {
      if (!first_time(seen, q->key, *q)) continue;
      if (q->flag && q->key != "token_budget") error(*q, fmt::format("'{}' applies only to token_budget", *q->flag));
      if (q->key == "token_budget") {
        if (auto n = whole(q->value, core::Dimension::Tokens, "token_budget", 1)) e.token_budget = *n;
        if (q->flag) e.budget_form = core::BudgetForm::Padded;
      } else if (q->key == "max_batch") {
        if (auto n = whole(q->value, core::Dimension::Requests, "max_batch", 1)) e.max_batch = *n;
      } else if (q->key == "max_running") {
        if (auto n = whole(q->value, core::Dimension::Requests, "max_running", 1)) e.max_running = *n;
      } else if (q->key == "kv_cache") {
        kv_node = q;
        // Tokens or blocks: the unit decides.
        const core::Unit* u = q->value.unit ? core::find_unit(q->value.unit->text()) : nullptr;
        if (u && u->dim == core::Dimension::Blocks) {
          if (auto n = whole(q->value, core::Dimension::Blocks, "kv_cache", 1))
            e.kv = {core::KvCache::Form::Blocks, 0, *n};
        } else if (auto n = whole(q->value, core::Dimension::Tokens, "kv_cache", 1)) {
          e.kv = {core::KvCache::Form::Tokens, *n, 0};
        }
      } else if (q->key == "block_size") {
        has_block_size = true;
        if (auto n = whole(q->value, core::Dimension::Tokens, "block_size", 1)) e.block_size = *n;
      } else if (q->key == "watermark" || q->key == "memory_utilization") {
        auto f = quantity(q->value, core::Dimension::Fraction, q->key);
        if (f && (*f < 0 || *f > 1 || (q->key == "memory_utilization" && *f == 0)))
          error(q->value, fmt::format("{} must be between 0 % and 100 %, found {} {}", q->key,
                                      q->value.number.text(), q->value.unit ? q->value.unit->text() : ""));
        else if (f && q->key == "watermark") e.watermark = *f;
        else if (f) e.memory_utilization = *f;
      } else if (q->key == "max_seq_len") {
        if (auto n = whole(q->value, core::Dimension::Tokens, "max_seq_len", 1)) e.max_seq_len = *n;
      }
    } else if (const auto* w = boost::get<ast::WordAttr>(&a.get())) {
      if (!first_time(seen, w->key, *w)) continue;
      if (w->key == "profile") {
        if (const core::Profile* p = spec_.find_profile(w->value.text())) {
          e.profile = *p;
          has_profile = true;
        } else if (!declared_["profile"].count(w->value.text())) {
          unknown(w->value, "profile", names_of("profile"));
        }
      } else if (w->key == "kv_cache") {
        kv_node = w;
        if (choice(w->value, "kv_cache form", {"derived"})) e.kv.form = core::KvCache::Form::Derived;
      } else if (w->key == "admission") {
        admission_node = w;
        if (auto i = choice(w->value, "admission", {"none", "prompt", "max_length", "peak_estimate"}))
          e.admission = static_cast<core::Admission>(*i);
      } else if (w->key == "preemption") {
        if (auto i = choice(w->value, "preemption", {"none", "recompute_youngest"}))
          e.preemption = static_cast<core::Preemption>(*i);
      } else if (w->key == "batching") {
        if (auto i = choice(w->value, "batching", {"continuous", "static"})) e.batching = static_cast<core::Batching>(*i);
      } else if (w->key == "accounting") {
        if (auto i = choice(w->value, "accounting", {"paper", "vidur"})) e.accounting = static_cast<core::Accounting>(*i);
      }
    } else {
      unknown_attr(*this, boost::get<ast::UnknownAttr>(a.get()), "engine", kEngineKeys);
    }
  }
  if (!has_profile && !seen.count("profile"))
    error(d.name, fmt::format("engine '{}' has no profile: add 'profile NAME'", e.name));
  if (!has_policy && !seen.count("policy"))
    error(d.name, fmt::format("engine '{}' has no policy: add 'policy NAME' or 'policy {{ ... }}'", e.name));
  if (e.kv.form == core::KvCache::Form::Blocks && !has_block_size)
    error(*kv_node, "kv_cache in blocks needs 'block_size N tokens'");
  if (e.kv.form == core::KvCache::Form::Derived && has_profile &&
      (!e.profile.gpu_memory_bytes || !e.profile.weights_bytes || !e.profile.kv_bytes_per_token))
    error(*kv_node, fmt::format("kv_cache derived needs gpu_memory, weights and kv_per_token in profile '{}'",
                                e.profile.name));
  if (e.kv.form == core::KvCache::Form::Derived && e.kv_tokens() && *e.kv_tokens() <= 0)
    error(*kv_node, fmt::format("kv_cache derived leaves no memory for the KV cache: the weights of profile '{}' "
                                "fill the usable GPU memory",
                                e.profile.name));
  if (e.admission == core::Admission::MaxLength && !e.max_seq_len)
    error(*admission_node, "admission max_length needs 'max_seq_len N tokens' (the length it reserves)");
  if (diags_.error_count() == errors) spec_.engines.push_back(std::move(e));
}

// ---- workload -------------------------------------------------------------------------------

bool Lowerer::class_laws(const std::vector<ast::ClassAttr>& attrs, const std::string& owner, core::LengthLaw& prompt,
                         core::LengthLaw& output, double* weight) {
  std::map<std::string, int> seen;
  bool ok = true, has_prompt = false, has_output = false;
  for (const auto& a : attrs) {
    if (const auto* l = boost::get<ast::LawAttr>(&a.get())) {
      if (!first_time(seen, l->key, *l)) {
        ok = false;
        continue;
      }
      bool is_prompt = l->key == "prompt";
      auto law_v = law(l->law, is_prompt ? "the prompt length" : "the output length", is_prompt);
      if (!law_v) {
        ok = false;
        continue;
      }
      (is_prompt ? prompt : output) = std::move(*law_v);
      (is_prompt ? has_prompt : has_output) = true;
    } else if (const auto* q = boost::get<ast::QtyAttr>(&a.get())) {
      if (!weight) {
        error(*q, fmt::format("'weight' is not an attribute of {}", owner));
        ok = false;
        continue;
      }
      if (!first_time(seen, "weight", *q)) continue;
      auto w = quantity(q->value, core::Dimension::Number, "a class weight");
      if (w && *w <= 0) error(q->value, "a class weight must be positive");
      if (!w || *w <= 0) ok = false;
      else *weight = *w;
    } else {
      unknown_attr(*this, boost::get<ast::UnknownAttr>(a.get()), weight ? "class" : "hop",
                   weight ? kClassKeys : std::vector<std::string>{"prompt", "output"});
      ok = false;
    }
  }
  if (ok && (!has_prompt || !has_output)) {
    error(attrs.front(), fmt::format("{} needs both 'prompt' and 'output' laws", owner));
    ok = false;
  }
  return ok;
}

void Lowerer::workload(const ast::WorkloadDecl& d) {
  if (!declare("workload", d.name)) return;
  core::Workload w;
  w.name = d.name.text();
  context_ = fmt::format("workload '{}'", w.name);
  w.loc = loc(d.name);
  int errors = diags_.error_count();
  std::map<std::string, int> seen;
  bool has_arrivals = false;
  const ast::Tagged* law_node = nullptr;
  for (const auto& a : d.attrs) {
    if (const auto* arr = boost::get<ast::ArrivalsAttr>(&a.get())) {
      if (!first_time(seen, "arrivals", *arr)) continue;
      has_arrivals = true;
      if (auto v = arrivals(arr->value)) w.arrivals = std::move(*v);
    } else if (const auto* l = boost::get<ast::LawAttr>(&a.get())) {
      if (!first_time(seen, l->key, *l)) continue;
      law_node = l;
      bool is_prompt = l->key == "prompt";
      if (auto v = law(l->law, is_prompt ? "the prompt length" : "the output length", is_prompt))
        (is_prompt ? w.prompt : w.output) = std::move(*v);
    } else if (const auto* c = boost::get<ast::ClassDecl>(&a.get())) {
      core::RequestClass rc;
      rc.name = c->name.text();
      rc.loc = loc(c->name);
      for (const auto& other : w.classes)
        if (other.name == rc.name) error(c->name, fmt::format("class '{}' is declared twice in workload '{}'", rc.name, w.name));
      if (c->attrs.empty()) {
        error(c->name, fmt::format("class '{}' needs both 'prompt' and 'output' laws", rc.name));
        continue;
      }
      if (class_laws(c->attrs, fmt::format("class '{}'", rc.name), rc.prompt, rc.output, &rc.weight))
        w.classes.push_back(std::move(rc));
    } else {
      unknown_attr(*this, boost::get<ast::UnknownAttr>(a.get()), "workload", kWorkloadKeys);
    }
  }
  if (diags_.error_count() == errors) {
    bool trace = w.arrivals.form == core::ArrivalProcess::Form::Trace;
    bool laws = seen.count("prompt") || seen.count("output");
    if (!has_arrivals)
      error(d.name, fmt::format("workload '{}' has no arrivals: add 'arrivals poisson RATE' or another process", w.name));
    else if (trace && (laws || !w.classes.empty()))
      error(law_node ? *law_node : static_cast<const ast::Tagged&>(d.name),
            "a trace workload takes its lengths from the trace: remove 'prompt', 'output' and classes");
    else if (!trace && !w.classes.empty() && laws)
      error(*law_node, "a workload with classes gives its lengths per class: move 'prompt' and 'output' into them");
    else if (!trace && w.classes.empty() && !(w.prompt && w.output))
      error(d.name, fmt::format("workload '{}' needs both 'prompt' and 'output' laws (or classes)", w.name));
  }
  if (diags_.error_count() == errors) spec_.workloads.push_back(std::move(w));
}

// ---- network --------------------------------------------------------------------------------

void Lowerer::network(const ast::NetworkDecl& d) {
  if (!declare("network", d.name)) return;
  core::Network n;
  n.name = d.name.text();
  n.loc = loc(d.name);
  int errors = diags_.error_count();
  auto station_names = [&] {
    std::vector<std::string> s;
    for (const auto& st : n.stations) s.push_back(st.name);
    return s;
  };
  auto find_station = [&](const ast::Name& name) {
    for (const auto& st : n.stations)
      if (st.name == name.text()) return true;
    std::string known;
    for (const auto& st : station_names()) known += (known.empty() ? "" : ", ") + st;
    error(name, fmt::format("unknown station '{}'{}; the stations of network '{}' are: {}", name.text(),
                            core::did_you_mean(name.text(), station_names()), n.name, known.empty() ? "none" : known));
    return false;
  };
  // Stations first, so classes and priorities may name stations declared below them.
  for (const auto& a : d.attrs) {
    const auto* s = boost::get<ast::StationDecl>(&a.get());
    if (!s) continue;
    core::Station st;
    st.name = s->name.text();
    st.loc = loc(s->name);
    for (const auto& other : n.stations)
      if (other.name == st.name) error(s->name, fmt::format("station '{}' is declared twice", st.name));
    if (spec_.find_engine(s->engine.text())) st.engine = s->engine.text();
    else if (!declared_["engine"].count(s->engine.text())) unknown(s->engine, "engine", names_of("engine"));
    if (s->replicas)
      if (auto r = whole(*s->replicas, core::Dimension::Number, "replicas", 1)) st.replicas = *r;
    if (s->dispatch)
      if (auto i = choice(*s->dispatch, "dispatch", {"round_robin", "jsq_requests", "jsq_tokens"}))
        st.dispatch = static_cast<core::Dispatch>(*i);
    n.stations.push_back(std::move(st));
  }
  auto lower_hop = [&](const ast::HopDecl& h, core::Hop& out) {
    out.station = h.station.text();
    out.loc = loc(h);
    bool ok = find_station(h.station);
    if (h.attrs.empty()) {
      error(h.station, fmt::format("hop at '{}' needs both 'prompt' and 'output' laws", out.station));
      return false;
    }
    return class_laws(h.attrs, fmt::format("the hop at '{}'", out.station), out.prompt, out.output, nullptr) && ok;
  };
  for (const auto& a : d.attrs) {
    if (const auto* c = boost::get<ast::NetClassDecl>(&a.get())) {
      core::NetworkClass nc;
      nc.name = c->name.text();
      context_ = fmt::format("class '{}' of network '{}'", nc.name, n.name);
      nc.loc = loc(c->name);
      for (const auto& other : n.classes)
        if (other.name == nc.name) error(c->name, fmt::format("class '{}' is declared twice", nc.name));
      bool has_arrivals = false;
      for (const auto& ca : c->attrs) {
        if (const auto* arr = boost::get<ast::ArrivalsAttr>(&ca.get())) {
          if (has_arrivals) error(*arr, "'arrivals' is given twice");
          has_arrivals = true;
          if (auto v = arrivals(arr->value)) nc.arrivals = std::move(*v);
        } else if (const auto* h = boost::get<ast::HopDecl>(&ca.get())) {
          core::Stage stage;
          stage.hops.emplace_back();
          lower_hop(*h, stage.hops.back());
          nc.route.push_back(std::move(stage));
        } else if (const auto* f = boost::get<ast::ForkDecl>(&ca.get())) {
          core::Stage stage;
          stage.fork = true;
          for (const auto& h : f->hops) {
            stage.hops.emplace_back();
            lower_hop(h, stage.hops.back());
          }
          if (f->hops.size() < 2) error(*f, "a fork needs at least two hops");
          nc.route.push_back(std::move(stage));
        } else {
          unknown_attr(*this, boost::get<ast::UnknownAttr>(ca.get()), "network class", kNetClassKeys);
        }
      }
      if (!has_arrivals) error(c->name, fmt::format("class '{}' has no arrivals", nc.name));
      if (nc.route.empty()) error(c->name, fmt::format("class '{}' has no route: add 'hop STATION {{ ... }}'", nc.name));
      n.classes.push_back(std::move(nc));
    } else if (const auto* u = boost::get<ast::UnknownAttr>(&a.get())) {
      unknown_attr(*this, *u, "network", kNetworkKeys);
    }
  }
  for (const auto& a : d.attrs) {
    const auto* p = boost::get<ast::PriorityDecl>(&a.get());
    if (!p) continue;
    if (!find_station(p->station)) continue;
    if (n.priority.count(p->station.text())) {
      error(p->station, fmt::format("station '{}' has two priority orders", p->station.text()));
      continue;
    }
    std::vector<std::string> order;
    std::vector<std::string> class_names;
    for (const auto& c : n.classes) class_names.push_back(c.name);
    for (const auto& c : p->classes) {
      if (std::find(class_names.begin(), class_names.end(), c.text()) == class_names.end())
        unknown(c, "class", class_names);
      else if (std::find(order.begin(), order.end(), c.text()) != order.end())
        error(c, fmt::format("class '{}' appears twice in the priority order", c.text()));
      else
        order.push_back(c.text());
    }
    n.priority[p->station.text()] = std::move(order);
  }
  if (n.stations.empty()) error(d.name, fmt::format("network '{}' has no stations", n.name));
  if (n.classes.empty() && n.stations.size() > 0) error(d.name, fmt::format("network '{}' has no classes", n.name));
  if (diags_.error_count() == errors) spec_.networks.push_back(std::move(n));
}

// ---- check ----------------------------------------------------------------------------------

void Lowerer::check(const ast::CheckDecl& d) {
  if (!declare("check", d.name)) return;
  core::Check c;
  c.name = d.name.text();
  c.loc = loc(d.name);
  int errors = diags_.error_count();
  auto prop = core::property_from_name(d.property.text());
  if (!prop) {
    unknown(d.property, "property", core::property_names());
    return;
  }
  c.property = *prop;
  const std::string pname{core::property_name(c.property)};
  auto engine_arg = [&](const ast::Name& n) {
    if (spec_.find_engine(n.text())) return true;
    if (!declared_["engine"].count(n.text())) unknown(n, "engine", names_of("engine"));
    return false;
  };
  auto workload_arg = [&](const ast::Name& n) {
    if (spec_.find_workload(n.text())) return true;
    if (!declared_["workload"].count(n.text())) unknown(n, "workload", names_of("workload"));
    return false;
  };
  const auto& args = d.args;
  if (core::is_per_iteration(c.property)) {
    if (args.size() != 1) error(d.property, fmt::format("{} takes one engine: {}(ENGINE)", pname, pname));
    else if (engine_arg(args[0])) c.engine = args[0].text();
  } else if (c.property == core::Property::NoInstability) {
    if (args.size() == 1 && declared_["network"].count(args[0].text())) {
      c.engine = args[0].text();
      c.on_network = true;
    } else if (args.size() == 2) {
      if (engine_arg(args[0])) c.engine = args[0].text();
      if (workload_arg(args[1])) c.workload = args[1].text();
    } else if (args.size() == 1) {
      error(args[0], fmt::format("no_instability takes an engine and a workload, or a network; '{}' is no network{}",
                                 args[0].text(), core::did_you_mean(args[0].text(), names_of("network"))));
    } else {
      error(d.property, "no_instability takes (ENGINE, WORKLOAD) or (NETWORK)");
    }
  } else {  // backlog_bound
    if (args.empty() || args.size() > 2) error(d.property, "backlog_bound takes (ENGINE) or (ENGINE, WORKLOAD)");
    else {
      if (engine_arg(args[0])) c.engine = args[0].text();
      if (args.size() == 2 && workload_arg(args[1])) c.workload = args[1].text();
    }
  }
  std::map<std::string, int> seen;
  for (const auto& p : d.params) {
    std::string key = p.key == "up" ? "up to" : p.key == "load" ? "load <=" : p.key;
    if (!first_time(seen, key, p)) continue;
    bool applies = (p.key == "up") ? core::is_per_iteration(c.property)
                   : (p.key == "load" || p.key == "period") ? c.property == core::Property::NoInstability
                   : (p.key == "sigma" || p.key == "rho") ? c.property == core::Property::BacklogBound
                                                          : true;
    if (!applies) {
      error(p, fmt::format("'{}' does not apply to {}", key, pname));
      continue;
    }
    if (p.key == "up") {
      if (auto n = whole(p.value, core::Dimension::Requests, "'up to'", 1)) c.up_to_requests = *n;
    } else if (p.key == "load" || p.key == "rho") {
      auto v = quantity(p.value, core::Dimension::Number, fmt::format("'{}'", key));
      if (v && (*v <= 0 || *v > 1))
        error(p.value, fmt::format("'{}' must be above 0 and at most 1, found {}", key, p.value.number.text()));
      else if (v) (p.key == "load" ? c.load : c.rho) = *v;
    } else if (p.key == "period") {
      if (auto n = whole(p.value, core::Dimension::Iterations, "the period", 1, true)) c.period = *n;
    } else if (p.key == "sigma") {
      if (auto n = whole(p.value, core::Dimension::Tokens, "sigma", 0)) c.sigma_tokens = *n;
    } else if (p.key == "timeout") {
      auto v = quantity(p.value, core::Dimension::Time, "the timeout");
      if (v && *v <= 0) error(p.value, "the timeout must be positive");
      else if (v) c.timeout_s = *v;
    }
  }
  if (d.expect)
    if (auto i = choice(*d.expect, "expected verdict", {"holds", "violated"}))
      c.expect = *i == 0 ? core::Expect::Holds : core::Expect::Violated;
  if (diags_.error_count() == errors) spec_.checks.push_back(std::move(c));
}

}  // namespace batchproof::dsl
