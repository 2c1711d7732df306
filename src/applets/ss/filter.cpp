// ss: state names and the filter expression (ports, addresses, and/or/not).
#include <cctype>

#include "applets/ss/ss.h"

namespace netshoot::applet::ss {

using core::state_bit;
using core::TcpState;

uint32_t parse_state_name(std::string_view n) {
  const uint32_t all = 0x1ffe & ~state_bit(TcpState::new_syn_recv);
  if (n == "established" || n == "estab") return state_bit(TcpState::established);
  if (n == "syn-sent") return state_bit(TcpState::syn_sent);
  if (n == "syn-recv") return state_bit(TcpState::syn_recv);
  if (n == "fin-wait-1") return state_bit(TcpState::fin_wait1);
  if (n == "fin-wait-2") return state_bit(TcpState::fin_wait2);
  if (n == "time-wait") return state_bit(TcpState::time_wait);
  if (n == "closed" || n == "unconn") return state_bit(TcpState::close);
  if (n == "close-wait") return state_bit(TcpState::close_wait);
  if (n == "last-ack") return state_bit(TcpState::last_ack);
  if (n == "listening" || n == "listen") return state_bit(TcpState::listen);
  if (n == "closing") return state_bit(TcpState::closing);
  if (n == "all") return all;
  if (n == "connected") return all & ~(state_bit(TcpState::listen) | state_bit(TcpState::close));
  if (n == "synchronized")
    return all & ~(state_bit(TcpState::listen) | state_bit(TcpState::close) | state_bit(TcpState::syn_sent));
  if (n == "bucket") return state_bit(TcpState::syn_recv) | state_bit(TcpState::time_wait);
  if (n == "big") return all & ~(state_bit(TcpState::syn_recv) | state_bit(TcpState::time_wait));
  return 0;
}

bool Expr::match(const SockView& s) const {
  switch (kind) {
    case Kind::kAnd: return a->match(s) && b->match(s);
    case Kind::kOr: return a->match(s) || b->match(s);
    case Kind::kNot: return !a->match(s);
    case Kind::kPort:
    case Kind::kAddr: {
      bool ok = true;
      if (kind == Kind::kAddr && cidr) {
        core::IpAddr addr = (dst ? s.remote : s.local).unmapped();
        ok = cidr->family() == addr.family() && cidr->contains(addr);
      }
      if (ok && port) {
        uint16_t p = dst ? s.remote_port : s.local_port;
        switch (cmp) {
          case Cmp::kEq: ok = p == *port; break;
          case Cmp::kNe: ok = p != *port; break;
          case Cmp::kLt: ok = p < *port; break;
          case Cmp::kLe: ok = p <= *port; break;
          case Cmp::kGt: ok = p > *port; break;
          case Cmp::kGe: ok = p >= *port; break;
        }
      }
      return ok;
    }
  }
  return false;
}

bool Filter::match(const SockView& s) const {
  if (states && !(states & (1u << s.state))) return false;
  return !expr || expr->match(s);
}

namespace {

std::vector<std::string> lex(const std::vector<std::string>& args) {
  std::string all;
  for (const auto& a : args) all += a + " ";
  std::vector<std::string> toks;
  size_t i = 0;
  while (i < all.size()) {
    char c = all[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == '(' || c == ')') { toks.emplace_back(1, c); ++i; continue; }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      size_t j = i + 1;
      if (j < all.size() && all[j] == '=') ++j;
      toks.push_back(all.substr(i, j - i));
      i = j;
      continue;
    }
    size_t j = i;
    while (j < all.size() && !std::isspace(static_cast<unsigned char>(all[j])) && all[j] != '(' && all[j] != ')' &&
           !(all[j] == '=' || all[j] == '<' || all[j] == '>' || (all[j] == '!' && j + 1 < all.size() && all[j + 1] == '=')))
      ++j;
    toks.push_back(all.substr(i, j - i));
    i = j;
  }
  return toks;
}

class Parser {
 public:
  explicit Parser(std::vector<std::string> t) : t_(std::move(t)) {}

  core::Result<Filter> run() {
    Filter f;
    bool exclude_only = true;
    uint32_t excluded = 0;
    while (pos_ < t_.size() && (t_[pos_] == "state" || t_[pos_] == "exclude" || t_[pos_] == "excl")) {
      bool excl = t_[pos_] != "state";
      if (++pos_ >= t_.size()) return core::make_error("ss: missing state name after '" + t_[pos_ - 1] + "'");
      uint32_t m = parse_state_name(t_[pos_]);
      if (!m) return core::make_error("ss: wrong state name: " + t_[pos_]);
      ++pos_;
      if (excl) excluded |= m;
      else f.states |= m, exclude_only = false;
    }
    if (excluded) {
      if (exclude_only) f.states = parse_state_name("all");
      f.states &= ~excluded;
    }
    if (pos_ < t_.size()) {
      auto e = parse_or();
      if (!e) return e.error();
      f.expr = std::move(*e);
      if (pos_ < t_.size()) return core::make_error("ss: unexpected '" + t_[pos_] + "' in the filter");
    }
    return f;
  }

 private:
  using ExprP = std::unique_ptr<Expr>;

  bool at(std::string_view s) const { return pos_ < t_.size() && t_[pos_] == s; }

  core::Result<ExprP> parse_or() {
    auto l = parse_and();
    if (!l) return l;
    while (at("or") || at("||") || at("|")) {
      ++pos_;
      auto r = parse_and();
      if (!r) return r;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kOr;
      e->a = std::move(*l);
      e->b = std::move(*r);
      l = std::move(e);
    }
    return l;
  }

  core::Result<ExprP> parse_and() {
    auto l = parse_not();
    if (!l) return l;
    while (pos_ < t_.size() && !at(")") && !at("or") && !at("||") && !at("|")) {
      if (at("and") || at("&&") || at("&")) ++pos_;
      auto r = parse_not();
      if (!r) return r;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kAnd;
      e->a = std::move(*l);
      e->b = std::move(*r);
      l = std::move(e);
    }
    return l;
  }

  core::Result<ExprP> parse_not() {
    if (at("not") || at("!")) {
      ++pos_;
      auto inner = parse_not();
      if (!inner) return inner;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kNot;
      e->a = std::move(*inner);
      return ExprP(std::move(e));
    }
    if (at("(")) {
      ++pos_;
      auto e = parse_or();
      if (!e) return e;
      if (!at(")")) return core::make_error("ss: missing ')' in the filter");
      ++pos_;
      return e;
    }
    return parse_pred();
  }

  static std::optional<uint16_t> port_value(std::string_view s) {
    if (!s.empty() && s[0] == ':') s.remove_prefix(1);
    if (s.empty() || s == "*") return std::nullopt;
    uint32_t v = 0;
    bool digits = true;
    for (char c : s) {
      if (c < '0' || c > '9') { digits = false; break; }
      v = v * 10 + static_cast<uint32_t>(c - '0');
      if (v > 65535) return std::nullopt;
    }
    if (digits) return static_cast<uint16_t>(v);
    return core::service_port(s);
  }

  core::Result<ExprP> parse_pred() {
    if (pos_ >= t_.size()) return core::make_error("ss: the filter ends too early");
    std::string key = t_[pos_++];
    auto e = std::make_unique<Expr>();
    bool is_port = key == "sport" || key == "dport";
    bool is_addr = key == "src" || key == "dst";
    if (!is_port && !is_addr) return core::make_error("ss: unknown filter word '" + key + "'");
    e->kind = is_port ? Expr::Kind::kPort : Expr::Kind::kAddr;
    e->dst = key == "dport" || key == "dst";
    if (pos_ < t_.size()) {
      const std::string& op = t_[pos_];
      static const std::pair<const char*, Expr::Cmp> kOps[] = {
          {"=", Expr::Cmp::kEq}, {"==", Expr::Cmp::kEq}, {"eq", Expr::Cmp::kEq}, {"!=", Expr::Cmp::kNe},
          {"ne", Expr::Cmp::kNe}, {"neq", Expr::Cmp::kNe}, {"<", Expr::Cmp::kLt}, {"lt", Expr::Cmp::kLt},
          {"<=", Expr::Cmp::kLe}, {"le", Expr::Cmp::kLe}, {">", Expr::Cmp::kGt}, {"gt", Expr::Cmp::kGt},
          {">=", Expr::Cmp::kGe}, {"ge", Expr::Cmp::kGe}};
      for (const auto& [name, cmp] : kOps)
        if (op == name) {
          e->cmp = cmp;
          ++pos_;
          break;
        }
    }
    if (pos_ >= t_.size()) return core::make_error("ss: '" + key + "' needs a value");
    std::string v = t_[pos_++];
    if (is_port) {
      auto p = port_value(v);
      if (!p) return core::make_error("ss: bad port '" + v + "' after " + key);
      e->port = p;
      return ExprP(std::move(e));
    }
    if (is_addr && e->cmp != Expr::Cmp::kEq) {
      if (e->cmp == Expr::Cmp::kNe) {
        e->cmp = Expr::Cmp::kEq;
        auto n = std::make_unique<Expr>();
        n->kind = Expr::Kind::kNot;
        auto inner = fill_addr(std::move(e), v, key);
        if (!inner) return inner;
        n->a = std::move(*inner);
        return ExprP(std::move(n));
      }
      return core::make_error("ss: only = and != compare addresses");
    }
    return fill_addr(std::move(e), v, key);
  }

  // "10.0.0.1", "10.0.0.0/8", "10.0.0.1:80", "[::1]:22", "[fe80::/10]", ":80", "*:80".
  core::Result<ExprP> fill_addr(ExprP e, std::string v, const std::string& key) {
    std::string host = v, port;
    if (!v.empty() && v[0] == '[') {
      size_t close = v.find(']');
      if (close == std::string::npos) return core::make_error("ss: bad address '" + v + "' after " + key);
      host = v.substr(1, close - 1);
      if (close + 1 < v.size() && v[close + 1] == ':') port = v.substr(close + 2);
    } else if (std::count(v.begin(), v.end(), ':') == 1) {
      size_t c = v.find(':');
      host = v.substr(0, c);
      port = v.substr(c + 1);
    }
    if (!port.empty() && port != "*") {
      auto p = port_value(port);
      if (!p) return core::make_error("ss: bad port '" + port + "' after " + key);
      e->port = p;
    }
    if (!host.empty() && host != "*") {
      auto c = core::Cidr::parse(host);
      if (!c) return core::make_error("ss: bad address '" + host + "' after " + key);
      e->cidr = *c;
    }
    return ExprP(std::move(e));
  }

  std::vector<std::string> t_;
  size_t pos_ = 0;
};

}  // namespace

core::Result<Filter> parse_filter(const std::vector<std::string>& args) { return Parser(lex(args)).run(); }

}  // namespace netshoot::applet::ss
