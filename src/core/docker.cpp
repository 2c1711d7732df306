// Docker Engine API client: socket discovery and the list / inspect / stats calls.
// Works against dockerd and podman's compatible service; uses unversioned paths so
// the daemon answers with its own current API version.
#include "netshoot/docker.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdlib>

namespace netshoot::core {
namespace {

using nlohmann::json;

std::string strip_unix_scheme(std::string_view s) {
  if (s.rfind("unix://", 0) == 0) s.remove_prefix(7);
  return std::string(s);
}

bool is_socket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

std::string str_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const json& obj_at(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string strip_slash(std::string s) {
  if (!s.empty() && s[0] == '/') s.erase(0, 1);
  return s;
}

// The API's error text: {"message": "..."} (docker and podman), else the raw body.
std::string api_message(const HttpResponse& r) {
  auto doc = json::parse(r.body, nullptr, false);
  std::string m = str_at(doc, "message");
  if (m.empty()) {
    m = r.body.substr(0, 200);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
  }
  return m;
}

}  // namespace

std::string url_encode_segment(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> docker_socket_candidates(std::string_view override_socket) {
  if (!override_socket.empty()) return {strip_unix_scheme(override_socket)};
  if (const char* host = std::getenv("DOCKER_HOST"); host && *host) {
    std::string_view h = host;
    if (h.rfind("unix://", 0) == 0) return {strip_unix_scheme(h)};
    return {};  // tcp://, ssh://: not ours (find_docker_socket says so)
  }
  std::vector<std::string> c = {"/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock"};
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg)
    c.push_back(std::string(xdg) + "/podman/podman.sock");
  return c;
}

Result<std::string> find_docker_socket(std::string_view override_socket) {
  if (override_socket.empty()) {
    if (const char* host = std::getenv("DOCKER_HOST"); host && *host) {
      if (std::string_view(host).rfind("unix://", 0) != 0)
        return make_error(std::string("DOCKER_HOST=") + host + ": only unix:// sockets are supported");
    }
  }
  auto cands = docker_socket_candidates(override_socket);
  for (const auto& c : cands)
    if (is_socket(c)) return c;
  std::string tried;
  for (const auto& c : cands) tried += (tried.empty() ? "" : ", ") + c;
  return make_error("no container API socket found (tried " + tried + ")");
}

Result<DockerClient> DockerClient::connect(std::string_view override_socket) {
  auto path = find_docker_socket(override_socket);
  if (!path) return path.error();
  return DockerClient(std::move(*path));
}

Result<json> DockerClient::get_json(const std::string& target, int* http_status) const {
  if (http_status) *http_status = 0;
  HttpRequest req;
  req.target = target;
  auto r = http_unix_request(socket_, req, timeout_ms_);
  if (!r) {
    Error e = r.error();
    e.context = "container API " + socket_ + ": " + e.context;
    return e;
  }
  if (http_status) *http_status = r->status;
  if (r->status < 200 || r->status > 299)
    return make_error("container API " + socket_ + ": GET " + target + ": HTTP " +
                      std::to_string(r->status) + ": " + api_message(*r));
  auto doc = json::parse(r->body, nullptr, false);
  if (doc.is_discarded())
    return make_error("container API " + socket_ + ": GET " + target + ": response is not JSON");
  return doc;
}

Result<std::vector<ContainerSummary>> parse_container_list(const json& doc) {
  if (!doc.is_array()) return make_error("container list: expected a JSON array");
  std::vector<ContainerSummary> out;
  for (const auto& c : doc) {
    ContainerSummary s;
    s.id = str_at(c, "Id");
    s.image = str_at(c, "Image");
    s.state = str_at(c, "State");
    s.status = str_at(c, "Status");
    const json& names = obj_at(c, "Names");
    if (names.is_array())
      for (const auto& n : names)
        if (n.is_string()) s.names.push_back(strip_slash(n.get<std::string>()));
    const json& labels = obj_at(c, "Labels");
    if (labels.is_object())
      for (auto it = labels.begin(); it != labels.end(); ++it)
        if (it->is_string()) s.labels[it.key()] = it->get<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}

Result<ContainerInfo> parse_container_inspect(const json& doc) {
  if (!doc.is_object()) return make_error("container inspect: expected a JSON object");
  ContainerInfo info;
  info.id = str_at(doc, "Id");
  info.name = strip_slash(str_at(doc, "Name"));
  const json& state = obj_at(doc, "State");
  info.state = str_at(state, "Status");
  if (const json& pid = obj_at(state, "Pid"); pid.is_number_integer()) info.pid = pid.get<int>();
  if (const json& run = obj_at(state, "Running"); run.is_boolean()) info.running = run.get<bool>();
  if (!info.running) info.pid = 0;
  info.hostname = str_at(obj_at(doc, "Config"), "Hostname");
  const json& ns = obj_at(doc, "NetworkSettings");
  info.netns_path = str_at(ns, "SandboxKey");
  const json& nets = obj_at(ns, "Networks");
  if (nets.is_object()) {
    for (auto it = nets.begin(); it != nets.end(); ++it) {
      ContainerNetwork n;
      n.network = it.key();
      n.ip = str_at(*it, "IPAddress");
      if (const json& p = obj_at(*it, "IPPrefixLen"); p.is_number_integer()) n.prefix_len = p.get<int>();
      n.ipv6 = str_at(*it, "GlobalIPv6Address");
      n.mac = str_at(*it, "MacAddress");
      n.gateway = str_at(*it, "Gateway");
      info.networks.push_back(std::move(n));
    }
  }
  return info;
}

Result<std::vector<ContainerSummary>> DockerClient::list_containers(bool all) const {
  auto doc = get_json(all ? "/containers/json?all=1" : "/containers/json");
  if (!doc) return doc.error();
  return parse_container_list(*doc);
}

Result<ContainerInfo> DockerClient::inspect(std::string_view name_or_id) const {
  if (name_or_id.empty()) return make_error("empty container name");
  int status = 0;
  auto doc = get_json("/containers/" + url_encode_segment(name_or_id) + "/json", &status);
  if (!doc) {
    if (status == 404) return make_error("no such container: " + std::string(name_or_id));
    return doc.error();
  }
  return parse_container_inspect(*doc);
}

Result<json> DockerClient::stats_once(std::string_view id) const {
  if (id.empty()) return make_error("empty container name");
  int status = 0;
  auto doc = get_json("/containers/" + url_encode_segment(id) + "/stats?stream=false", &status);
  if (!doc && status == 404) return make_error("no such container: " + std::string(id));
  return doc;
}

}  // namespace netshoot::core
