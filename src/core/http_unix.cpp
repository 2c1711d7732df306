// A minimal HTTP/1.1 client for local unix sockets (the Docker Engine API):
// one request per connection, poll-based timeouts, Content-Length, chunked and
// read-until-close bodies.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "netshoot/docker.h"
#include "netshoot/fd.h"

namespace netshoot::core {
namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxLine = 8 * 1024;
constexpr size_t kMaxBody = 256 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Finds the end of a line; returns the index of '\n' or npos. The line content
// excludes a trailing '\r'.
size_t find_eol(std::string_view s) { return s.find('\n'); }

std::string_view line_content(std::string_view s, size_t eol) {
  std::string_view line = s.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool parse_decimal(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 15) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  out = v;
  return true;
}

bool parse_hex(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 15) return false;
  size_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * 16 + static_cast<size_t>(d);
  }
  out = v;
  return true;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

HttpResponseParser::State HttpResponseParser::fail(std::string msg) {
  error_ = std::move(msg);
  state_ = State::kError;
  return state_;
}

bool HttpResponseParser::parse_head(std::string_view head) {
  resp_ = HttpResponse{};
  size_t eol = find_eol(head);
  std::string_view status_line = line_content(head, eol == std::string_view::npos ? head.size() : eol);
  // HTTP/1.1 200 OK
  if (status_line.rfind("HTTP/", 0) != 0) {
    fail("malformed status line '" + std::string(status_line.substr(0, 80)) + "'");
    return false;
  }
  size_t sp = status_line.find(' ');
  if (sp == std::string_view::npos || status_line.size() < sp + 4) {
    fail("malformed status line '" + std::string(status_line.substr(0, 80)) + "'");
    return false;
  }
  std::string_view code = status_line.substr(sp + 1, 3);
  size_t status = 0;
  if (!parse_decimal(code, status) || status < 100 || status > 999 ||
      (status_line.size() > sp + 4 && status_line[sp + 4] != ' ')) {
    fail("malformed status code in '" + std::string(status_line.substr(0, 80)) + "'");
    return false;
  }
  resp_.status = static_cast<int>(status);
  if (status_line.size() > sp + 5) resp_.reason = std::string(status_line.substr(sp + 5));
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
  while (!rest.empty()) {
    size_t e = find_eol(rest);
    std::string_view line = line_content(rest, e == std::string_view::npos ? rest.size() : e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      fail("malformed header line '" + std::string(line.substr(0, 80)) + "'");
      return false;
    }
    resp_.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

HttpResponseParser::State HttpResponseParser::step() {
  while (state_ == State::kNeedMore) {
    switch (phase_) {
      case Phase::kHead: {
        // The head ends at an empty line (CRLF CRLF, or bare LF LF from lax peers).
        size_t end = std::string::npos, skip = 0;
        for (size_t i = 0; i < buf_.size(); ++i) {
          if (buf_[i] != '\n') continue;
          if (i + 1 < buf_.size() && buf_[i + 1] == '\n') { end = i; skip = 2; break; }
          if (i + 2 < buf_.size() && buf_[i + 1] == '\r' && buf_[i + 2] == '\n') { end = i; skip = 3; break; }
        }
        if (end == std::string::npos) {
          if (buf_.size() > kMaxHead) return fail("response head larger than 64 KiB");
          return state_;
        }
        std::string head = buf_.substr(0, end + 1);
        buf_.erase(0, end + skip);
        if (!parse_head(head)) return state_;
        int st = resp_.status;
        if (st >= 100 && st < 200 && st != 101) continue;  // interim response: read the next head
        if (head_ || st == 204 || st == 304 || (st >= 100 && st < 200)) {
          phase_ = Phase::kDone;
          break;
        }
        auto te = resp_.header("Transfer-Encoding");
        if (te) {
          std::string v = *te;
          std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
          if (v.find("chunked") != std::string::npos) {
            phase_ = Phase::kChunkSize;
            break;
          }
        }
        if (auto cl = resp_.header("Content-Length")) {
          size_t n = 0;
          if (!parse_decimal(trim(*cl), n)) return fail("bad Content-Length '" + *cl + "'");
          for (const auto& [k, v] : resp_.headers)
            if (iequals(k, "Content-Length") && trim(v) != trim(*cl))
              return fail("conflicting Content-Length headers");
          if (n > kMaxBody) return fail("response body too large");
          remaining_ = n;
          resp_.body.reserve(n);
          phase_ = n == 0 ? Phase::kDone : Phase::kBodyLength;
          break;
        }
        phase_ = Phase::kBodyEof;
        break;
      }
      case Phase::kBodyLength: {
        size_t take = std::min(remaining_, buf_.size());
        resp_.body.append(buf_, 0, take);
        buf_.erase(0, take);
        remaining_ -= take;
        if (remaining_ == 0) { phase_ = Phase::kDone; break; }
        return state_;
      }
      case Phase::kBodyEof:
        resp_.body.append(buf_);
        buf_.clear();
        if (resp_.body.size() > kMaxBody) return fail("response body too large");
        return state_;
      case Phase::kChunkSize: {
        size_t eol = find_eol(buf_);
        if (eol == std::string::npos) {
          if (buf_.size() > kMaxLine) return fail("chunk size line too long");
          return state_;
        }
        std::string_view line = line_content(buf_, eol);
        std::string_view size_text = trim(line.substr(0, line.find(';')));  // drop chunk extensions
        size_t n = 0;
        if (!parse_hex(size_text, n)) return fail("bad chunk size '" + std::string(line.substr(0, 40)) + "'");
        buf_.erase(0, eol + 1);
        if (n == 0) { phase_ = Phase::kTrailers; break; }
        if (resp_.body.size() + n > kMaxBody) return fail("response body too large");
        remaining_ = n;
        phase_ = Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        size_t take = std::min(remaining_, buf_.size());
        resp_.body.append(buf_, 0, take);
        buf_.erase(0, take);
        remaining_ -= take;
        if (remaining_ == 0) { phase_ = Phase::kChunkDataEnd; break; }
        return state_;
      }
      case Phase::kChunkDataEnd: {
        if (buf_.empty()) return state_;
        if (buf_[0] == '\n') { buf_.erase(0, 1); phase_ = Phase::kChunkSize; break; }
        if (buf_.size() < 2) return state_;
        if (buf_[0] != '\r' || buf_[1] != '\n') return fail("missing CRLF after chunk data");
        buf_.erase(0, 2);
        phase_ = Phase::kChunkSize;
        break;
      }
      case Phase::kTrailers: {
        size_t eol = find_eol(buf_);
        if (eol == std::string::npos) {
          if (buf_.size() > kMaxLine) return fail("trailer line too long");
          return state_;
        }
        bool empty = line_content(buf_, eol).empty();
        buf_.erase(0, eol + 1);
        if (empty) phase_ = Phase::kDone;
        break;  // trailer fields are ignored
      }
      case Phase::kDone:
        state_ = State::kDone;
        buf_.clear();
        break;
    }
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view data) {
  if (state_ != State::kNeedMore) return state_;
  buf_.append(data);
  return step();
}

HttpResponseParser::State HttpResponseParser::finish() {
  if (state_ != State::kNeedMore) return state_;
  step();
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kBodyEof) {
    state_ = State::kDone;
    return state_;
  }
  if (phase_ == Phase::kHead && buf_.empty() && resp_.status == 0)
    return fail("connection closed before a response");
  return fail("connection closed in the middle of the response");
}

Result<HttpResponse> parse_http_response(std::string_view raw, bool head_request) {
  HttpResponseParser p(head_request);
  p.feed(raw);
  p.finish();
  if (p.state() != HttpResponseParser::State::kDone) return make_error("HTTP: " + p.error());
  return std::move(p.response());
}

namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline. Returns false with errno set on
// timeout (ETIMEDOUT) or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_left(deadline));
    if (n > 0) return true;  // also on POLLHUP/POLLERR: the next call reports it
    if (n == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (errno != EINTR) return false;
  }
}

std::string format_request(const HttpRequest& req) {
  std::string s;
  s.reserve(256 + req.body.size());
  s += req.method + " " + req.target + " HTTP/1.1\r\n";
  s += "Host: " + req.host + "\r\n";
  s += "User-Agent: netshoot/" NETSHOOT_VERSION "\r\n";
  s += "Accept: application/json\r\n";
  s += "Connection: close\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    if (!req.body.empty()) s += "Content-Type: " + req.content_type + "\r\n";
    s += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  }
  s += "\r\n";
  s += req.body;
  return s;
}

}  // namespace

Result<HttpResponse> http_exchange(int fd, const HttpRequest& req, int timeout_ms) {
  const std::string what = req.method + " " + req.target;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out = format_request(req);
  size_t off = 0;
  while (off < out.size()) {
    if (!wait_for(fd, POLLOUT, deadline)) return os_error(what + ": sending the request");
    ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return os_error(what + ": sending the request");
    }
    off += static_cast<size_t>(n);
  }
  HttpResponseParser parser(req.method == "HEAD");
  char buf[16384];
  while (parser.state() == HttpResponseParser::State::kNeedMore) {
    if (!wait_for(fd, POLLIN, deadline)) return os_error(what + ": waiting for the response");
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return os_error(what + ": reading the response");
    }
    if (n == 0) {
      parser.finish();
      break;
    }
    parser.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  if (parser.state() != HttpResponseParser::State::kDone) return make_error(what + ": " + parser.error());
  return std::move(parser.response());
}

Result<HttpResponse> http_unix_request(const std::string& socket_path, const HttpRequest& req,
                                       int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return os_error("connect " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return os_error("socket(AF_UNIX)");
  // A unix socket connect completes or fails at once (no handshake to wait for).
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return os_error("connect " + socket_path, "access to the socket (root or the docker group)");
  return http_exchange(fd.get(), req, timeout_ms);
}

}  // namespace netshoot::core
