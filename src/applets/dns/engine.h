// The one query engine behind dig, drill, nslookup and host.
#pragma once

#include <string>
#include <vector>

#include "format.h"
#include "netshoot/applet.h"

namespace netshoot::applet::dns {

// dig's exit codes.
inline constexpr int kDigOk = 0, kDigUsage = 1, kDigNoReply = 9, kDigInternal = 10;

struct ServerSet {
  std::vector<wire::NameServer> servers;
  std::string label;  // the server as the user named it ("" for resolv.conf's)
  wire::ResolvConf conf;
};

// @server (a name is resolved), else resolv.conf's nameservers; -4/-6 filter them.
core::Result<ServerSet> choose_servers(const Options& o);

// Asks every candidate name (search list) on each server in turn; the first
// server that answers wins; NXDOMAIN moves to the next search candidate.
Reply run_lookup(const Options& o, const ServerSet& s, const Lookup& l, uint16_t qtype);

// "timed out" from "query x. A @1.2.3.4#53: timed out"
std::string short_error(const std::string& message);

int run_trace(Context& ctx, const Options& o);
int run_resolve(Context& ctx, const Options& o);
int run_bench(Context& ctx, const Options& o);
int run_batch(Context& ctx, Options o);

}  // namespace netshoot::applet::dns
