#include "netshoot/output.h"

#include <unistd.h>

namespace netshoot::core {
namespace {

class BufferedSink : public Output {
 public:
  explicit BufferedSink(std::FILE* f) : fd_(fileno(f)) { buf_.reserve(kLimit + 4096); }
  ~BufferedSink() override { flush(); }

  void flush() override {
    size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EPIPE and friends: the reader is gone; drop the output
      }
      off += static_cast<size_t>(n);
    }
    buf_.clear();
  }

 protected:
  void append_line(std::string_view s) {
    buf_.append(s);
    buf_.push_back('\n');
    maybe_flush();
  }
  void maybe_flush() {
    if (!batch_ || buf_.size() >= kLimit) flush();
  }
  static constexpr size_t kLimit = 64 * 1024;
  int fd_;
  std::string buf_;
};

class TextSink final : public BufferedSink {
 public:
  using BufferedSink::BufferedSink;
  bool json() const override { return false; }
  void record(std::string_view, const Json&, std::string_view text) override { append_line(text); }
  void text(std::string_view text) override { append_line(text); }
  void raw(std::string_view bytes) override {
    buf_.append(bytes);
    maybe_flush();
  }
};

class JsonSink final : public BufferedSink {
 public:
  using BufferedSink::BufferedSink;
  bool json() const override { return true; }
  void record(std::string_view type, const Json& fields, std::string_view) override {
    Json obj;
    obj["type"] = type;
    for (auto it = fields.begin(); it != fields.end(); ++it) obj[it.key()] = it.value();
    append_line(obj.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  void text(std::string_view) override {}
  void raw(std::string_view) override {}
};

}  // namespace

std::unique_ptr<Output> Output::make(bool json, std::FILE* f) {
  if (json) return std::make_unique<JsonSink>(f);
  return std::make_unique<TextSink>(f);
}

}  // namespace netshoot::core
