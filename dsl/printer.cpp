// The canonical printer behind `batchproof fmt`: prints a syntax tree back as text, keeping
// every comment and literal as written. Layout rules: two-space indentation; one declaration
// or attribute per line; values aligned within a block; consecutive checks aligned on their
// property; one blank line between block declarations, and a blank line kept (never more than
// one) where the source had one; hops and request classes on one line when they fit.
#include <algorithm>

#include <fmt/format.h>

#include "dsl/dsl.hpp"
#include "dsl/parse.hpp"

namespace batchproof::dsl {

namespace x3 = boost::spirit::x3;

namespace {

constexpr std::size_t kOneLineWidth = 100;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string q(const ast::Quantity& x) { return x.unit ? x.number.text() + " " + x.unit->text() : x.number.text(); }

std::string expr(const ast::Expr& e) {
  auto operand = [](const ast::Operand& o) {
    if (const auto* n = boost::get<ast::Name>(&o.get())) return n->text();
    return q(boost::get<ast::Quantity>(o.get()));
  };
  std::string out = operand(e.first);
  for (const auto& s : e.rest) out += fmt::format(" {} {}", s.sign, operand(s.operand));
  return out;
}

std::string or_cond(const ast::OrCond& c);
std::string unary(const ast::Unary& u) {
  if (const auto* c = boost::get<ast::Comparison>(&u.get())) return expr(c->lhs) + " " + c->op + " " + expr(c->rhs);
  if (const auto* n = boost::get<x3::forward_ast<ast::NotCond>>(&u.get())) return "not " + unary(n->get().operand);
  return "(" + or_cond(boost::get<x3::forward_ast<ast::OrCond>>(u.get()).get()) + ")";
}
std::string and_cond(const ast::AndCond& a) {
  std::string out = unary(a.first);
  for (const auto& u : a.rest) out += " and " + unary(u);
  return out;
}
std::string or_cond(const ast::OrCond& c) {
  std::string out = and_cond(c.first);
  for (const auto& a : c.rest) out += " or " + and_cond(a);
  return out;
}

std::string rule(const ast::Rule& r) {
  std::string out = r.phase.text();
  for (const auto& w : r.words) {
    if (const auto* c = boost::get<ast::ChunkMax>(&w.get())) out += " chunk <= " + q(c->max);
    else if (const auto* l = boost::get<ast::Limit>(&w.get())) out += " limit " + q(l->count);
    else out += " " + boost::get<ast::Name>(w.get()).text();
  }
  if (r.guard) out += " if " + or_cond(*r.guard);
  return out;
}

std::string law(const ast::Law& l) {
  std::string out;
  const ast::LawForm& f = l.form;
  if (const auto* u = boost::get<ast::UniformLaw>(&f.get())) out = "uniform " + q(u->lo) + " .. " + q(u->hi);
  else if (const auto* e = boost::get<ast::EmpiricalLaw>(&f.get())) out = "empirical " + quoted(e->file.text());
  else {
    const auto& o = boost::get<ast::OneArgLaw>(f.get());
    out = o.form + (o.form == "constant" ? " " : " mean ") + q(o.value);
  }
  if (l.max) out += " max " + q(*l.max);
  return out;
}

std::string arrivals(const ast::Arrivals& a) {
  if (const auto* p = boost::get<ast::Poisson>(&a.get())) return "poisson " + q(p->rate);
  if (const auto* e = boost::get<ast::Every>(&a.get())) return "every " + q(e->gap);
  if (const auto* b = boost::get<ast::Bursts>(&a.get())) return "bursts " + q(b->size) + " every " + q(b->gap);
  const auto& t = boost::get<ast::TraceArrivals>(a.get());
  return "trace " + quoted(t.file.text()) + (t.format ? " format " + t.format->text() : "");
}

std::string time_model(const ast::TimeModel& m) {
  if (const auto* s = boost::get<ast::Staircase>(&m.get()))
    return fmt::format("{} + {} * ceil(b / {})", q(s->c), q(s->a), q(s->b0));
  if (const auto* l = boost::get<ast::Linear>(&m.get()))
    return fmt::format("{} + {} * max(0, b - {})", q(l->c), q(l->a), q(l->b0));
  const auto& t = boost::get<ast::Table>(m.get());
  std::string out = "table {";
  for (std::size_t i = 0; i < t.points.size(); ++i)
    out += fmt::format("{} {} -> {}", i ? "," : "", q(t.points[i].b), q(t.points[i].t));
  return out + " }";
}

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// A key and its value, to be printed with the key padded to the block's widest key.
struct KeyValue {
  std::string key, value;
};

class Printer {
 public:
  explicit Printer(const ParsedFile& f) : f_(f) {}

  std::string run() {
    const auto& items = f_.file.items;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const ast::Item& item = items[i];
      bool block = !boost::get<ast::Import>(&item.get()) && !boost::get<ast::CheckDecl>(&item.get());
      bool prev_block = i > 0 && !boost::get<ast::Import>(&items[i - 1].get()) &&
                        !boost::get<ast::CheckDecl>(&items[i - 1].get());
      int line = f_.first_line(item);
      // A block declaration is set off by a blank line, before its leading comments if any.
      bool spaced = i > 0 && (block || prev_block);
      if (!comments_before(line, spaced) && spaced) blank();
      if (const auto* imp = boost::get<ast::Import>(&item.get())) {
        emit(item, "import " + quoted(imp->path.text()));
      } else if (const auto* c = boost::get<ast::CheckDecl>(&item.get())) {
        emit(item, check(*c, check_width(i)));
      } else if (const auto* p = boost::get<ast::ProfileDecl>(&item.get())) {
        profile(*p);
      } else if (const auto* p = boost::get<ast::PolicyDecl>(&item.get())) {
        open(item, "policy " + p->name.text() + " {", first_child(p->body));
        body(p->body);
        close(item);
      } else if (const auto* e = boost::get<ast::EngineDecl>(&item.get())) {
        engine(*e);
      } else if (const auto* w = boost::get<ast::WorkloadDecl>(&item.get())) {
        workload(*w);
      } else if (const auto* n = boost::get<ast::NetworkDecl>(&item.get())) {
        network(*n);
      }
    }
    comments_before(1 << 30, false);
    return out_;
  }

 private:
  // ---- layout primitives ----
  void blank() {
    if (!out_.empty() && !ends_with("\n\n") && !ends_with("{\n")) out_ += "\n";
  }
  bool ends_with(const char* s) const {
    std::string_view v(s);
    return out_.size() >= v.size() && out_.compare(out_.size() - v.size(), v.size(), v) == 0;
  }
  std::string pad() const { return std::string(static_cast<std::size_t>(indent_) * 2, ' '); }
  bool source_blank_between(int a, int b) const {
    for (int l = a + 1; l < b; ++l)
      if (trimmed(f_.line_text(l)).empty()) return true;
    return false;
  }
  // Comments that lie before `line` and were not printed yet, each on its own line, with a
  // blank line kept where the source had one.
  bool comments_before(int line, bool blank_first) {
    bool first = true;
    while (next_ < f_.comments.size() && f_.comments[next_].line < line) {
      const Comment& c = f_.comments[next_++];
      if ((first && blank_first) || (!first && source_blank_between(last_line_, c.line))) blank();
      else if (first && last_line_ > 0 && source_blank_between(last_line_, c.line)) blank();
      first = false;
      out_ += pad() + c.text + "\n";
      last_line_ = c.end_line;
    }
    if (!first && source_blank_between(last_line_, line) && line < (1 << 30)) blank();
    return !first;
  }
  // Comments that trail `node`: on its last line, with nothing but blanks between the two.
  std::string trailing_after(const ast::Tagged& node) {
    if (next_ >= f_.comments.size()) return "";
    const Comment& c = f_.comments[next_];
    std::size_t end = f_.end_offset(node);
    if (c.own_line || c.line != f_.last_line(node) || c.offset < end) return "";
    if (!trimmed(f_.source->text().substr(end, c.offset - end)).empty()) return "";
    return trailing(c.line);
  }
  // Comments that trail code on `line`.
  std::string trailing(int line) {
    std::string s;
    while (next_ < f_.comments.size() && f_.comments[next_].line == line && !f_.comments[next_].own_line)
      s += "  " + f_.comments[next_++].text;
    return s;
  }
  // One line of output for a node; keeps a blank line before it if the source had one.
  void emit(const ast::Tagged& node, const std::string& text) {
    int first = f_.first_line(node);
    comments_before(first, false);
    if (last_line_ > 0 && !ends_with("{\n") && source_blank_between(last_line_, first)) blank();
    out_ += pad() + text + trailing_after(node) + "\n";
    last_line_ = f_.last_line(node);
  }
  // Opens a block. A comment trailing the header's line belongs to the header only if the
  // block's first child starts on a later line (child_line); otherwise the child takes it.
  void open(const ast::Tagged& node, const std::string& header, int child_line = 0) {
    int first = f_.first_line(node);
    comments_before(first, false);
    if (last_line_ > 0 && !ends_with("{\n") && source_blank_between(last_line_, first)) blank();
    out_ += pad() + header + (child_line == first ? "" : trailing(first)) + "\n";
    last_line_ = first;
    ++indent_;
  }
  void close(const ast::Tagged& node, const std::string& suffix = "") {
    int last = f_.last_line(node);
    comments_before(last, false);
    --indent_;
    out_ += pad() + "}" + suffix + trailing(last) + "\n";
    last_line_ = last;
  }
  template <class T>
  int first_child(const std::vector<T>& children) const {
    return children.empty() ? 0 : f_.first_line(children.front());
  }
  bool has_comments_within(const ast::Tagged& node) const {
    int a = f_.first_line(node), b = f_.last_line(node);
    for (std::size_t i = next_; i < f_.comments.size(); ++i)
      if (f_.comments[i].line >= a && f_.comments[i].line <= b) return true;
    return false;
  }
  void key_values(const std::vector<std::pair<const ast::Tagged*, KeyValue>>& rows) {
    std::size_t width = 0;
    for (const auto& r : rows) width = std::max(width, r.second.key.size());
    for (const auto& [node, kv] : rows)
      emit(*node, kv.value.empty() ? kv.key : fmt::format("{:<{}} {}", kv.key, width, kv.value));
  }

  // ---- declarations ----
  static KeyValue simple(const ast::QtyAttr& a) { return {a.key, q(a.value) + (a.flag ? " " + *a.flag : "")}; }
  static KeyValue simple(const ast::WordAttr& a) { return {a.key, a.value.text()}; }
  static KeyValue simple(const ast::StringAttr& a) { return {a.key, quoted(a.value.text())}; }
  static KeyValue simple(const ast::ChainAttr& a) {
    std::string v;
    for (const auto& n : a.items) v += (v.empty() ? "" : " > ") + n.text();
    return {a.key, v};
  }
  static KeyValue simple(const ast::UnknownAttr& a) { return {a.key.text(), trimmed(a.rest)}; }

  // Prints attributes, aligning the runs of simple key-value lines between blocks.
  template <class Attr, class Block>
  void attributes(const std::vector<Attr>& attrs, Block&& print_block) {
    std::size_t width = 0;
    // t(b) and provenance stand alone: their values are long, and padding them helps nobody.
    auto aligned = [](const KeyValue& kv) { return kv.key != "t(b) =" && kv.key != "provenance"; };
    for (const auto& a : attrs) {
      auto kv = as_simple(a);
      if (kv && aligned(*kv)) width = std::max(width, kv->key.size());
    }
    for (const auto& a : attrs) {
      if (auto kv = as_simple(a)) {
        if (aligned(*kv)) kv->key.resize(width, ' ');
        emit(a, trimmed(kv->key + " " + kv->value));
      } else {
        print_block(a);
      }
    }
  }
  template <class Attr>
  std::optional<KeyValue> as_simple(const Attr& a) {
    std::optional<KeyValue> out;
    boost::apply_visitor(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, ast::QtyAttr> || std::is_same_v<T, ast::WordAttr> ||
                        std::is_same_v<T, ast::StringAttr> || std::is_same_v<T, ast::ChainAttr> ||
                        std::is_same_v<T, ast::UnknownAttr>)
            out = simple(x);
          else if constexpr (std::is_same_v<T, ast::TimeAttr>)
            out = KeyValue{"t(b) =", time_model(x.model)};
          else if constexpr (std::is_same_v<T, ast::LawAttr>)
            out = KeyValue{x.key, law(x.law)};
          else if constexpr (std::is_same_v<T, ast::ArrivalsAttr>)
            out = KeyValue{x.key, arrivals(x.value)};
          else if constexpr (std::is_same_v<T, ast::PolicyAttr>) {
            if (const auto* n = boost::get<ast::Name>(&x.value.get())) out = KeyValue{"policy", n->text()};
          }
        },
        a.get());
    return out;
  }

  void profile(const ast::ProfileDecl& p) {
    open(p, "profile " + p.name.text() + " {", first_child(p.attrs));
    attributes(p.attrs, [](const auto&) {});
    close(p);
  }

  void engine(const ast::EngineDecl& e) {
    open(e, "engine " + e.name.text() + " {", first_child(e.attrs));
    attributes(e.attrs, [&](const ast::EngineAttr& a) {
      const auto& p = boost::get<ast::PolicyAttr>(a.get());
      const auto& stmts = boost::get<ast::PolicyBody>(p.value.get()).body;
      open(p, "policy {", first_child(stmts));
      body(stmts);
      close(p);
    });
    close(e);
  }

  void body(const std::vector<ast::Stmt>& stmts) {
    for (const auto& s : stmts) {
      if (const auto* r = boost::get<ast::Rule>(&s.get())) {
        emit(s, rule(*r));
        continue;
      }
      const ast::When& w = boost::get<x3::forward_ast<ast::When>>(s.get()).get();
      open(w.first, "when " + or_cond(w.first.condition) + " {", first_child(w.first.body));
      body(w.first.body);
      for (const auto& b : w.else_when) {
        reopen(b, "} else when " + or_cond(b.condition) + " {");
        body(b.body);
      }
      if (w.otherwise) {
        reopen(s, "} else {", /*at_end=*/true, w.otherwise->empty() ? nullptr : &w.otherwise->front());
        body(*w.otherwise);
      }
      close(s);
    }
  }
  // "} else ... {": closes one branch and opens the next on the same line.
  void reopen(const ast::Tagged& node, const std::string& text, bool at_end = false, const ast::Tagged* first = nullptr) {
    int line = at_end ? (first ? f_.first_line(*first) - 1 : f_.last_line(node) - 1) : f_.first_line(node);
    comments_before(line, false);
    --indent_;
    out_ += pad() + text + "\n";
    ++indent_;
    last_line_ = std::max(last_line_, line);
  }

  std::string one_line(const std::string& head, const std::vector<ast::ClassAttr>& attrs) {
    std::string s = head + " {";
    for (const auto& a : attrs) {
      auto kv = as_simple(a);
      s += " " + kv->key + " " + kv->value;
    }
    return s + " }";
  }
  void class_block(const ast::Tagged& node, const std::string& head, const std::vector<ast::ClassAttr>& attrs) {
    std::string line = one_line(head, attrs);
    if (!has_comments_within(node) && pad().size() + line.size() <= kOneLineWidth) {
      emit(node, line);
      return;
    }
    open(node, head + " {", first_child(attrs));
    attributes(attrs, [](const auto&) {});
    close(node);
  }

  void workload(const ast::WorkloadDecl& w) {
    open(w, "workload " + w.name.text() + " {", first_child(w.attrs));
    attributes(w.attrs, [&](const ast::WorkloadAttr& a) {
      const auto& c = boost::get<ast::ClassDecl>(a.get());
      class_block(c, "class " + c.name.text(), c.attrs);
    });
    close(w);
  }

  void network(const ast::NetworkDecl& n) {
    open(n, "network " + n.name.text() + " {", first_child(n.attrs));
    for (const auto& a : n.attrs) {
      if (const auto* s = boost::get<ast::StationDecl>(&a.get())) {
        std::string line = "station " + s->name.text() + " = " + s->engine.text();
        if (s->replicas) line += " replicas " + q(*s->replicas);
        if (s->dispatch) line += " dispatch " + s->dispatch->text();
        emit(a, line);
      } else if (const auto* p = boost::get<ast::PriorityDecl>(&a.get())) {
        std::string line = "priority " + p->station.text() + ":";
        for (std::size_t i = 0; i < p->classes.size(); ++i) line += (i ? " > " : " ") + p->classes[i].text();
        emit(a, line);
      } else if (const auto* u = boost::get<ast::UnknownAttr>(&a.get())) {
        emit(a, trimmed(u->key.text() + " " + trimmed(u->rest)));
      } else {
        const auto& c = boost::get<ast::NetClassDecl>(a.get());
        open(c, "class " + c.name.text() + " {", first_child(c.attrs));
        for (const auto& ca : c.attrs) {
          if (const auto* arr = boost::get<ast::ArrivalsAttr>(&ca.get())) emit(ca, "arrivals " + arrivals(arr->value));
          else if (const auto* h = boost::get<ast::HopDecl>(&ca.get())) class_block(*h, "hop " + h->station.text(), h->attrs);
          else if (const auto* f = boost::get<ast::ForkDecl>(&ca.get())) {
            open(*f, "fork {", first_child(f->hops));
            for (const auto& h : f->hops) class_block(h, "hop " + h.station.text(), h.attrs);
            close(*f);
          } else {
            const auto& u = boost::get<ast::UnknownAttr>(ca.get());
            emit(ca, trimmed(u.key.text() + " " + trimmed(u.rest)));
          }
        }
        close(c);
      }
    }
    close(n);
  }

  // Width of "check NAME:" over the run of checks that item i belongs to: adjacent checks,
  // with no blank line or comment between them.
  std::size_t check_width(std::size_t i) const {
    const auto& items = f_.file.items;
    auto adjacent = [&](std::size_t k) {  // items k and k + 1 are checks next to each other
      if (!boost::get<ast::CheckDecl>(&items[k].get()) || !boost::get<ast::CheckDecl>(&items[k + 1].get())) return false;
      int a = f_.last_line(items[k]), b = f_.first_line(items[k + 1]);
      for (const auto& c : f_.comments)
        if (c.line > a && c.line < b) return false;
      return !source_blank_between(a, b);
    };
    std::size_t a = i, b = i;
    while (a > 0 && adjacent(a - 1)) --a;
    while (b + 1 < items.size() && adjacent(b)) ++b;
    std::size_t width = 0;
    for (std::size_t k = a; k <= b; ++k)
      width = std::max(width, boost::get<ast::CheckDecl>(items[k].get()).name.text().size());
    return width;
  }

  static std::string check(const ast::CheckDecl& c, std::size_t width) {
    std::string head = fmt::format("check {}:", c.name.text());
    std::string line = fmt::format("{:<{}} {}(", head, width + 7, c.property.text());
    for (std::size_t i = 0; i < c.args.size(); ++i) line += (i ? ", " : "") + c.args[i].text();
    line += ")";
    for (const auto& p : c.params) {
      std::string key = p.key == "up" ? "up to" : p.key == "load" ? "load <=" : p.key;
      line += " " + key + " " + q(p.value);
    }
    if (c.expect) line += " expect " + c.expect->text();
    return line;
  }

  const ParsedFile& f_;
  std::string out_;
  std::size_t next_ = 0;  // next comment to print
  int indent_ = 0;
  int last_line_ = 0;  // last source line printed
};

}  // namespace

std::optional<std::string> format_source(const std::string& path, std::string text, core::Diagnostics& diags) {
  ParsedFile parsed;
  if (!parse_text(path, std::move(text), parsed, diags)) return std::nullopt;
  return Printer(parsed).run();
}

}  // namespace batchproof::dsl
