// Background reverse lookups for the flows view (see flows_names.h).
#include "flows_names.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "netshoot/hosts.h"
#include "netshoot/resolv_conf.h"
#include "netshoot/resolver.h"

namespace netshoot::applet::monitor::flows {

// Shared with the worker thread, which may outlive the AsyncNames (it is detached,
// so a lookup stuck on a dead server never delays the program's exit).
struct AsyncNames::State {
  Config cfg;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<core::IpAddr> queue;
  std::unordered_map<core::IpAddr, std::optional<std::string>> names;  // nullopt: asked, not answered yet
  size_t running = 0;
  bool stop = false;

  void work() {
    core::dns::HostsFile hosts;
    if (auto h = core::dns::HostsFile::load(cfg.hosts_path)) hosts = std::move(*h);
    std::optional<core::dns::ResolvConf> conf;
    bool dns = cfg.dns;
    if (dns) {
      if (auto r = core::dns::load_resolv_conf(cfg.resolv_conf_path)) {
        conf = std::move(*r);
        conf->attempts = 1;
      } else {
        dns = false;
      }
    }
    int failures = 0;
    for (;;) {
      core::IpAddr addr;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return stop || !queue.empty(); });
        if (stop) return;
        addr = queue.front();
        queue.pop_front();
        ++running;
      }
      std::string name;
      if (auto h = hosts.reverse(addr)) {
        name = *h;
      } else if (dns) {
        core::dns::ResolverConfig rc;
        rc.use_hosts = false;
        rc.use_env = false;
        rc.resolv_conf = conf;
        rc.timeout_ms = cfg.timeout_ms;
        auto t0 = std::chrono::steady_clock::now();
        auto r = core::dns::reverse_lookup(addr, rc);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        if (r && !r->empty()) name = *r;
        else if (!r && ms >= cfg.timeout_ms / 2 && ++failures >= cfg.max_dns_failures) dns = false;
      }
      if (name.empty()) name = addr.to_string();
      std::lock_guard lk(mu);
      names[addr] = std::move(name);
      --running;
    }
  }
};

AsyncNames::AsyncNames(Config cfg) : state_(std::make_shared<State>()) {
  state_->cfg = std::move(cfg);
  std::thread([s = state_] { s->work(); }).detach();
}

AsyncNames::~AsyncNames() {
  {
    std::lock_guard lk(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
}

std::string AsyncNames::name(const core::IpAddr& addr) {
  {
    std::lock_guard lk(state_->mu);
    auto [it, fresh] = state_->names.try_emplace(addr);
    if (!fresh && it->second) return *it->second;
    if (fresh) state_->queue.push_back(addr);
  }
  state_->cv.notify_one();
  return addr.to_string();
}

size_t AsyncNames::pending() const {
  std::lock_guard lk(state_->mu);
  return state_->queue.size() + state_->running;
}

}  // namespace netshoot::applet::monitor::flows
