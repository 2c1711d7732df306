// One output path for every applet: a human text sink, or a JSON sink that writes
// one JSON object per line ({"type": ..., fields...}). Buffered; never writes to
// stderr (diagnostics go through log.h).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace netshoot::core {

using Json = nlohmann::ordered_json;

class Output {
 public:
  static std::unique_ptr<Output> make(bool json, std::FILE* f = stdout);
  virtual ~Output() = default;

  virtual bool json() const = 0;

  // A record: `type` and `fields` go to the JSON sink, `text` (zero or more
  // lines, without the trailing newline) to the text sink.
  virtual void record(std::string_view type, const Json& fields, std::string_view text) = 0;
  // Human-only text (banners, headers): dropped by the JSON sink.
  virtual void text(std::string_view text) = 0;
  // Raw bytes to the text sink's buffer, for hot paths that format themselves.
  virtual void raw(std::string_view bytes) = 0;

  // Batch mode keeps output in the buffer until it is large or flush() is called
  // (capture); otherwise every record is flushed at once (ping, trace).
  void set_batch(bool batch) { batch_ = batch; }
  virtual void flush() = 0;

 protected:
  bool batch_ = false;
};

}  // namespace netshoot::core
