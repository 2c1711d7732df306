// Result<T>: a value or an error carrying errno and context. The core returns
// these; applets decide what to print and which exit code to use.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace netshoot::core {

struct Error {
  int code = 0;          // errno value, 0 when not an OS error
  std::string context;   // what was being done, e.g. "socket(AF_INET, SOCK_RAW)"
  std::string hint;      // optional: "needs CAP_NET_RAW"

  // "context: strerror(code) (hint)"
  std::string message() const {
    std::string m = context;
    if (code != 0) {
      if (!m.empty()) m += ": ";
      m += std::strerror(code);
    }
    if (!hint.empty()) m += " (" + hint + ")";
    return m;
  }
};

// Error from the current errno, with a capability hint for EPERM/EACCES when given.
inline Error os_error(std::string context, const char* cap_hint = nullptr) {
  int e = errno;
  Error err{e, std::move(context), {}};
  if (cap_hint && (e == EPERM || e == EACCES)) err.hint = std::string("needs ") + cap_hint;
  return err;
}

inline Error make_error(std::string context) { return Error{0, std::move(context), {}}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT implicit
  Result(Error error) : v_(std::move(error)) {}             // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT implicit
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace netshoot::core
