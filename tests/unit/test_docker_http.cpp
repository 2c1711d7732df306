// The Docker API client: HTTP response parsing (lengths, chunked coding, errors),
// the client mechanics against a fake server on a unix socket, and the API calls.
#include <catch2/catch.hpp>

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netshoot/docker.h"
#include "netshoot/fd.h"

using namespace netshoot::core;
using State = HttpResponseParser::State;

// ---- parsing -------------------------------------------------------------------------

TEST_CASE("docker http: Content-Length body", "[docker][http]") {
  auto r = parse_http_response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n[1,2,3]");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->reason == "OK");
  CHECK(r->body == "[1,2,3]");
  CHECK(r->header("content-type").value() == "application/json");
  CHECK_FALSE(r->header("X-Missing").has_value());
}

TEST_CASE("docker http: chunked body with extensions and trailers", "[docker][http]") {
  std::string raw =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n"
      "6;ext=1\r\npedia \r\n"
      "E\r\nin \r\n\r\nchunks.\r\n"
      "0\r\nX-Trailer: yes\r\n\r\n";
  auto r = parse_http_response(raw);
  REQUIRE(r.ok());
  CHECK(r->body == "Wikipedia in \r\n\r\nchunks.");
}

TEST_CASE("docker http: chunked body fed one byte at a time", "[docker][http]") {
  std::string raw =
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1b\r\n{\"message\":\"no such thing\"}\r\n0\r\n\r\nGARBAGE AFTER";
  HttpResponseParser p;
  State s = State::kNeedMore;
  size_t i = 0;
  for (; i < raw.size() && s == State::kNeedMore; ++i) s = p.feed(std::string_view(&raw[i], 1));
  INFO(p.error());
  REQUIRE(s == State::kDone);
  CHECK(raw.substr(i) == "GARBAGE AFTER");  // stops at the end of the message
  CHECK(p.response().status == 404);
  CHECK(p.response().body == "{\"message\":\"no such thing\"}");
}

TEST_CASE("docker http: body until close, 204, 1xx, HEAD", "[docker][http]") {
  auto eof = parse_http_response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello world");
  REQUIRE(eof.ok());
  CHECK(eof->body == "hello world");

  auto none = parse_http_response("HTTP/1.1 204 No Content\r\n\r\n");
  REQUIRE(none.ok());
  CHECK(none->status == 204);
  CHECK(none->body.empty());

  auto cont = parse_http_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(cont.ok());
  CHECK(cont->status == 201);
  CHECK(cont->body == "ok");

  auto head = parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
  REQUIRE(head.ok());
  CHECK(head->body.empty());

  auto lf = parse_http_response("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi");
  REQUIRE(lf.ok());
  CHECK(lf->body == "hi");

  auto noreason = parse_http_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(noreason.ok());
  CHECK(noreason->reason.empty());
}

TEST_CASE("docker http: malformed and truncated responses are errors", "[docker][http]") {
  CHECK_FALSE(parse_http_response("").ok());
  CHECK_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 2x0 OK\r\n\r\n").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n").ok());
  CHECK_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nBad header line\r\n\r\n").ok());
  auto r = parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  CHECK_THAT(r.error().message(), Catch::Contains("closed in the middle"));
}

// ---- client mechanics ------------------------------------------------------------------

namespace {

// A one-thread HTTP server on a unix socket: answers each connection with
// respond(request) (the reply is sent in small pieces), records the requests.
class FakeServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;

  explicit FakeServer(Handler h) : handler_(std::move(h)) {
    char tmpl[] = "/tmp/netshoot-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/docker.sock";
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    REQUIRE(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_.get(), 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> g(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> g(mu_);
        requests_.push_back(req);
      }
      std::string reply = handler_(req);
      if (reply == "<hang>") {  // never answer: let the client time out
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      for (size_t off = 0; off < reply.size(); off += 7)  // small pieces: exercise reassembly
        (void)::send(c.get(), reply.data() + off, std::min<size_t>(7, reply.size() - off), MSG_NOSIGNAL);
    }
  }

  Handler handler_;
  std::string dir_, path_;
  UniqueFd listen_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
};

std::string chunked(int status, const std::string& reason, const std::string& body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                  "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < body.size(); off += 10) {
    std::string part = body.substr(off, 10);
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx", part.size());
    r += std::string(hex) + "\r\n" + part + "\r\n";
  }
  return r + "0\r\n\r\n";
}

const char* kList = R"J([{"Id":"abc123","Names":["/web"],"Image":"localhost/bb:latest","State":"running",
  "Status":"Up 2 minutes","Labels":{"app":"demo"}},
  {"Id":"def456","Names":["/db","/alias"],"Image":"pg","State":"exited","Status":"Exited (0)","Labels":null}])J";

const char* kInspect = R"({"Id":"abc123","Name":"/web","State":{"Status":"running","Running":true,"Pid":4242},
  "Config":{"Hostname":"abc123"},
  "NetworkSettings":{"SandboxKey":"/run/netns/netns-1234",
    "Networks":{"testnet":{"IPAddress":"10.89.0.5","IPPrefixLen":24,"Gateway":"10.89.0.1",
                           "MacAddress":"aa:bb:cc:dd:ee:ff","GlobalIPv6Address":""}}}})";

std::string docker_handler(const std::string& req) {
  if (req.rfind("GET /containers/json?all=1 ", 0) == 0 || req.rfind("GET /containers/json ", 0) == 0)
    return chunked(200, "OK", kList);
  if (req.rfind("GET /containers/web/json ", 0) == 0) return chunked(200, "OK", kInspect);
  if (req.rfind("GET /containers/web/stats?stream=false ", 0) == 0)
    return chunked(200, "OK", R"({"pids_stats":{"current":1},"networks":{"eth0":{"rx_bytes":10}}})");
  if (req.rfind("GET /containers/slow/json ", 0) == 0) return "<hang>";
  if (req.rfind("GET /containers/broken/json ", 0) == 0) {
    std::string body = "{\"message\":\"it broke\"}\n";
    return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }
  std::string body = R"({"message":"no such container"})";
  return "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("docker http: exchange over a socketpair", "[docker][http]") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  UniqueFd a(sv[0]), b(sv[1]);
  std::thread peer([&] {
    std::string req;
    char buf[1024];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(b.get(), buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string reply = (req.find("Host: docker\r\n") != std::string::npos && req.rfind("GET /_ping HTTP/1.1\r\n", 0) == 0)
                            ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
                            : "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)::send(b.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
  });
  HttpRequest req;
  req.target = "/_ping";
  auto r = http_exchange(a.get(), req, 2000);
  peer.join();
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "OK");
}

TEST_CASE("docker http: timeout when the server never answers", "[docker][http]") {
  FakeServer srv(docker_handler);
  HttpRequest req;
  req.target = "/containers/slow/json";
  auto t0 = std::chrono::steady_clock::now();
  auto r = http_unix_request(srv.path(), req, 200);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ETIMEDOUT);
  CHECK(ms >= 150);
  CHECK(ms < 2000);
}

TEST_CASE("docker http: connection refused / missing socket", "[docker][http]") {
  HttpRequest req;
  auto r = http_unix_request("/nonexistent/netshoot/docker.sock", req, 200);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENOENT);
  CHECK_THAT(r.error().message(), Catch::Contains("/nonexistent/netshoot/docker.sock"));
}

// ---- Docker API --------------------------------------------------------------------------

TEST_CASE("docker: list, inspect, stats against a fake daemon", "[docker]") {
  FakeServer srv(docker_handler);
  DockerClient c(srv.path(), 2000);

  auto list = c.list_containers(true);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == "abc123");
  CHECK((*list)[0].names == std::vector<std::string>{"web"});
  CHECK((*list)[0].image == "localhost/bb:latest");
  CHECK((*list)[0].state == "running");
  CHECK((*list)[0].status == "Up 2 minutes");
  CHECK((*list)[0].labels.at("app") == "demo");
  CHECK((*list)[1].names == std::vector<std::string>{"db", "alias"});
  CHECK((*list)[1].labels.empty());

  auto info = c.inspect("web");
  REQUIRE(info.ok());
  CHECK(info->id == "abc123");
  CHECK(info->name == "web");
  CHECK(info->pid == 4242);
  CHECK(info->running);
  CHECK(info->state == "running");
  CHECK(info->netns_path == "/run/netns/netns-1234");
  CHECK(info->hostname == "abc123");
  REQUIRE(info->networks.size() == 1);
  CHECK(info->networks[0].network == "testnet");
  CHECK(info->networks[0].ip == "10.89.0.5");
  CHECK(info->networks[0].prefix_len == 24);
  CHECK(info->networks[0].gateway == "10.89.0.1");
  CHECK(info->networks[0].mac == "aa:bb:cc:dd:ee:ff");

  auto stats = c.stats_once("web");
  REQUIRE(stats.ok());
  CHECK((*stats)["pids_stats"]["current"] == 1);

  auto missing = c.inspect("nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "no such container: nope");

  auto broken = c.inspect("broken");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().message(), Catch::Contains("HTTP 500") && Catch::Contains("it broke"));

  auto reqs = srv.requests();
  REQUIRE(!reqs.empty());
  CHECK(reqs[0].rfind("GET /containers/json?all=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(reqs[0].find("\r\nHost: ") != std::string::npos);
}

TEST_CASE("docker: a stopped container has no PID", "[docker]") {
  auto doc = nlohmann::json::parse(R"({"Id":"x","Name":"/old","State":{"Status":"exited","Running":false,"Pid":0},
    "NetworkSettings":{"SandboxKey":"","Networks":{}}})");
  auto info = parse_container_inspect(doc);
  REQUIRE(info.ok());
  CHECK_FALSE(info->running);
  CHECK(info->pid == 0);
  CHECK(info->state == "exited");
  CHECK_FALSE(parse_container_list(nlohmann::json::object()).ok());
}

namespace {
struct EnvGuard {
  std::string name;
  std::string old;
  bool had;
  EnvGuard(const char* n, const char* v) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (had) old = o;
    if (v) ::setenv(n, v, 1);
    else ::unsetenv(n);
  }
  ~EnvGuard() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};
}  // namespace

TEST_CASE("docker: socket discovery", "[docker]") {
  {
    EnvGuard h("DOCKER_HOST", nullptr);
    EnvGuard x("XDG_RUNTIME_DIR", "/run/user/4321");
    auto c = docker_socket_candidates();
    REQUIRE(c.size() == 4);
    CHECK(c[0] == "/var/run/docker.sock");
    CHECK(c[1] == "/run/docker.sock");
    CHECK(c[2] == "/run/podman/podman.sock");
    CHECK(c[3] == "/run/user/4321/podman/podman.sock");
    CHECK(docker_socket_candidates("unix:///tmp/x.sock") == std::vector<std::string>{"/tmp/x.sock"});
  }
  {
    EnvGuard h("DOCKER_HOST", "unix:///nonexistent/d.sock");
    CHECK(docker_socket_candidates() == std::vector<std::string>{"/nonexistent/d.sock"});
    auto r = find_docker_socket();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "no container API socket found (tried /nonexistent/d.sock)");
    auto client = DockerClient::connect();
    CHECK_FALSE(client.ok());
  }
  {
    EnvGuard h("DOCKER_HOST", "tcp://127.0.0.1:2375");
    auto r = find_docker_socket();
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), Catch::Contains("only unix://"));
  }
  {
    FakeServer srv(docker_handler);
    EnvGuard h("DOCKER_HOST", ("unix://" + srv.path()).c_str());
    auto client = DockerClient::connect();
    REQUIRE(client.ok());
    CHECK(client->socket_path() == srv.path());
    CHECK(client->inspect("web").ok());
    // The override wins over DOCKER_HOST.
    auto other = find_docker_socket("/nonexistent/other.sock");
    REQUIRE_FALSE(other.ok());
    CHECK_THAT(other.error().message(), Catch::Contains("tried /nonexistent/other.sock"));
  }
}

TEST_CASE("docker: url encoding of names", "[docker]") {
  CHECK(url_encode_segment("web-1_x.y") == "web-1_x.y");
  CHECK(url_encode_segment("a/b c?") == "a%2Fb%20c%3F");
}
