// A small Docker Engine API client over a unix socket (dockerd, or podman's
// compatible service): socket discovery, a minimal HTTP/1.1 client, and the few
// calls netshoot needs (list, inspect, one-shot stats).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "netshoot/result.h"

namespace netshoot::core {

// ---- HTTP/1.1 over a stream socket ---------------------------------------------------

struct HttpResponse {
  int status = 0;               // 200, 404, ...
  std::string reason;           // "OK"
  std::vector<std::pair<std::string, std::string>> headers;  // in order received
  std::string body;             // de-chunked

  // Value of the first header named `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

// Incremental parser of one HTTP/1.1 response. Feed bytes as they arrive; the body
// is framed by chunked transfer coding, Content-Length, or the end of the stream
// (finish()). 1xx interim responses are skipped.
class HttpResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  // For responses to HEAD (no body whatever the headers say).
  explicit HttpResponseParser(bool head_request = false) : head_(head_request) {}

  // Consumes bytes; returns the state after them. Bytes past the end of the
  // response are ignored.
  State feed(std::string_view data);
  // The peer closed the connection: completes a body delimited by EOF, otherwise
  // an incomplete message becomes an error.
  State finish();

  State state() const { return state_; }
  const std::string& error() const { return error_; }
  HttpResponse& response() { return resp_; }

 private:
  enum class Phase { kHead, kBodyLength, kBodyEof, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };
  State fail(std::string msg);
  bool parse_head(std::string_view head);
  State step();

  bool head_ = false;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kHead;
  std::string buf_;        // unconsumed input
  size_t remaining_ = 0;   // body or chunk bytes still expected
  HttpResponse resp_;
  std::string error_;
};

// Parses a complete response held in memory (the stream ended after `raw`).
Result<HttpResponse> parse_http_response(std::string_view raw, bool head_request = false);

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";          // origin-form: "/containers/json?all=1"
  std::string host = "docker";       // Host header (required by HTTP/1.1)
  std::string body;                  // sent with Content-Length when non-empty
  std::string content_type = "application/json";
};

// Sends `req` on a connected stream socket and reads the response. The whole
// exchange must finish within timeout_ms (poll-based; the fd may be blocking).
Result<HttpResponse> http_exchange(int fd, const HttpRequest& req, int timeout_ms);

// Connects to the unix socket at `socket_path` and runs one exchange.
Result<HttpResponse> http_unix_request(const std::string& socket_path, const HttpRequest& req,
                                       int timeout_ms);

// ---- Docker Engine API ---------------------------------------------------------------

struct ContainerSummary {
  std::string id;                              // full ID
  std::vector<std::string> names;              // without the leading '/'
  std::string image;
  std::string state;                           // "running", "exited", ...
  std::string status;                          // "Up 3 minutes"
  std::map<std::string, std::string> labels;
};

struct ContainerNetwork {
  std::string network;      // network name ("bridge", "podman", "mynet")
  std::string ip;           // IPv4 address, may be empty
  int prefix_len = 0;
  std::string ipv6;
  std::string mac;
  std::string gateway;
};

struct ContainerInfo {
  std::string id;
  std::string name;                 // without the leading '/'
  int pid = 0;                      // 0 when not running
  bool running = false;
  std::string state;                // "running", "exited", "created", ...
  std::string netns_path;           // NetworkSettings.SandboxKey (may be empty)
  std::string hostname;
  std::vector<ContainerNetwork> networks;
};

// The unix socket paths tried, in order: the override when given, else
// DOCKER_HOST=unix://PATH when set, else /var/run/docker.sock, /run/docker.sock,
// /run/podman/podman.sock, $XDG_RUNTIME_DIR/podman/podman.sock.
std::vector<std::string> docker_socket_candidates(std::string_view override_socket = {});

// The first candidate that is a socket. An override may be "unix://PATH" or a PATH.
// Error: "no container API socket found (tried A, B, ...)".
Result<std::string> find_docker_socket(std::string_view override_socket = {});

class DockerClient {
 public:
  static constexpr int kDefaultTimeoutMs = 5000;

  // Discovers the socket (see find_docker_socket); does not connect yet.
  static Result<DockerClient> connect(std::string_view override_socket = {});
  explicit DockerClient(std::string socket_path, int timeout_ms = kDefaultTimeoutMs)
      : socket_(std::move(socket_path)), timeout_ms_(timeout_ms) {}

  const std::string& socket_path() const { return socket_; }
  void set_timeout_ms(int ms) { timeout_ms_ = ms; }

  // GET /containers/json[?all=1]
  Result<std::vector<ContainerSummary>> list_containers(bool all = false) const;
  // GET /containers/NAME/json. 404 -> "no such container: NAME".
  Result<ContainerInfo> inspect(std::string_view name_or_id) const;
  // GET /containers/ID/stats?stream=false: the raw document (cpu_stats,
  // memory_stats, networks, blkio_stats, pids_stats).
  Result<nlohmann::json> stats_once(std::string_view id) const;

  // GET `target` and parse the body as JSON; non-2xx becomes an error carrying the
  // API's "message". *http_status (when given) receives the status, 0 if none.
  Result<nlohmann::json> get_json(const std::string& target, int* http_status = nullptr) const;

 private:
  std::string socket_;
  int timeout_ms_;
};

// Parsers of the API documents (exposed for tests).
Result<std::vector<ContainerSummary>> parse_container_list(const nlohmann::json& doc);
Result<ContainerInfo> parse_container_inspect(const nlohmann::json& doc);

// Percent-encodes a path segment (container names are safe, but IDs from users
// need not be).
std::string url_encode_segment(std::string_view s);

}  // namespace netshoot::core
