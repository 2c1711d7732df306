// Host names for the flows view without -n: hosts(5), then a PTR query through the
// project resolver, looked up on a worker thread so the capture loop never waits.
// A name not yet known shows as the address; the next refresh picks it up.
#pragma once

#include <memory>
#include <string>

#include "netshoot/addr.h"

namespace netshoot::applet::monitor::flows {

class AsyncNames {
 public:
  struct Config {
    std::string hosts_path = "/etc/hosts";
    std::string resolv_conf_path = "/etc/resolv.conf";
    bool dns = true;           // ask PTR when hosts(5) has no name
    int timeout_ms = 1000;     // per server, one attempt
    int max_dns_failures = 3;  // unanswered lookups before DNS is no longer asked
  };
  explicit AsyncNames(Config cfg);
  AsyncNames() : AsyncNames(Config{}) {}
  ~AsyncNames();
  AsyncNames(const AsyncNames&) = delete;
  AsyncNames& operator=(const AsyncNames&) = delete;

  // The name when known; otherwise the numeric form, and a lookup is queued (once).
  std::string name(const core::IpAddr& addr);
  // Lookups still waiting or running.
  size_t pending() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace netshoot::applet::monitor::flows
