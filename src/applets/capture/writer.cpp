#include "writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace netshoot::applet::capture {

namespace {
constexpr size_t kFlushAt = 256 * 1024;

// write(2) all bytes; returns how many were written before an error.
size_t write_all(int fd, const uint8_t* p, size_t n, int& err) {
  size_t done = 0;
  err = 0;
  while (done < n) {
    ssize_t k = ::write(fd, p + done, n - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (k == 0) {
      err = ENOSPC;
      break;
    }
    done += size_t(k);
  }
  return done;
}
}  // namespace

core::Status PcapWriter::open(const std::string& path, int linktype, int snaplen) {
  (void)close();
  path_ = path;
  to_stdout_ = path == "-";
  fd_ = to_stdout_ ? STDOUT_FILENO : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return core::os_error(path);
  buf_.clear(), ends_.clear();
  buf_.reserve(kFlushAt + 65536 + 16);
  committed_ = 0;
  uint8_t hdr[24];
  uint32_t magic = 0xa1b2c3d4;
  uint16_t vmaj = 2, vmin = 4;
  int32_t zone = 0;
  uint32_t sigfigs = 0, snap = uint32_t(snaplen), lt = uint32_t(linktype);
  std::memcpy(hdr, &magic, 4), std::memcpy(hdr + 4, &vmaj, 2), std::memcpy(hdr + 6, &vmin, 2);
  std::memcpy(hdr + 8, &zone, 4), std::memcpy(hdr + 12, &sigfigs, 4), std::memcpy(hdr + 16, &snap, 4);
  std::memcpy(hdr + 20, &lt, 4);
  buf_.insert(buf_.end(), hdr, hdr + 24);
  ends_.push_back(24);
  return flush();
}

core::Status PcapWriter::write(const pcap_pkthdr& h, const uint8_t* data) {
  if (fd_ < 0) return core::make_error("write to a closed pcap file");
  uint32_t rec[4] = {uint32_t(h.ts.tv_sec), uint32_t(h.ts.tv_usec), h.caplen, h.len};
  const auto* r = reinterpret_cast<const uint8_t*>(rec);
  buf_.insert(buf_.end(), r, r + 16);
  buf_.insert(buf_.end(), data, data + h.caplen);
  ends_.push_back(buf_.size());
  if (buf_.size() >= kFlushAt) return flush();
  return {};
}

core::Status PcapWriter::flush() {
  if (fd_ < 0 || buf_.empty()) return {};
  int err = 0;
  size_t n = write_all(fd_, buf_.data(), buf_.size(), err);
  if (n == buf_.size()) {
    committed_ += n;
    buf_.clear(), ends_.clear();
    return {};
  }
  // Keep only whole records: cut the file back to the last record that fit.
  size_t keep = 0;
  for (size_t e : ends_)
    if (e <= n) keep = e;
  if (!to_stdout_) (void)::ftruncate(fd_, off_t(committed_ + keep));
  committed_ += keep;
  buf_.clear(), ends_.clear();
  errno = err;
  core::Error e = core::os_error(path_);
  ::close(fd_);
  fd_ = -1;
  return e;
}

core::Status PcapWriter::close() {
  if (fd_ < 0) return {};
  auto st = flush();
  if (fd_ >= 0 && !to_stdout_) ::close(fd_);
  fd_ = -1;
  return st;
}

std::string RotatingWriter::name_for(time_t t) const {
  std::string name = c_.base;
  if (c_.rotate_seconds) {
    char tmp[4096];
    tm tmv{};
    localtime_r(&t, &tmv);
    size_t n = std::strftime(tmp, sizeof tmp, c_.base.c_str(), &tmv);
    if (n) name.assign(tmp, n);
  }
  if (c_.rotate_mbytes) {
    if (c_.file_limit) {
      int width = 1;
      for (int v = c_.file_limit - 1; v >= 10; v /= 10) ++width;
      std::string num = std::to_string(index_);
      name += std::string(size_t(std::max(0, width - int(num.size()))), '0') + num;
    } else if (index_ > 0) {
      name += std::to_string(index_);
    }
  }
  return name;
}

core::Status RotatingWriter::open(const Config& c, time_t now) {
  c_ = c;
  index_ = 0;
  g_start_ = now;
  g_files_ = 1;
  return w_.open(name_for(now), c_.linktype, c_.snaplen);
}

core::Status RotatingWriter::write(const pcap_pkthdr& h, const uint8_t* data, bool& done) {
  done = false;
  if (c_.rotate_seconds) {
    time_t now = ::time(nullptr);
    if (now - g_start_ >= c_.rotate_seconds) {
      if (c_.file_limit && g_files_ >= c_.file_limit) {
        done = true;
        return {};
      }
      if (auto st = w_.close(); !st) return st;
      g_start_ = now, ++g_files_, index_ = 0;
      if (auto st = w_.open(name_for(now), c_.linktype, c_.snaplen); !st) return st;
    }
  }
  // tcpdump's rule: a new file once the current one has grown past -C (so a file ends
  // with the packet that took it over the limit).
  if (c_.rotate_mbytes && w_.size() > uint64_t(c_.rotate_mbytes) * 1000000) {
    if (auto st = w_.close(); !st) return st;
    ++index_;
    if (c_.file_limit && index_ >= c_.file_limit) index_ = 0;
    if (auto st = w_.open(name_for(g_start_), c_.linktype, c_.snaplen); !st) return st;
  }
  return w_.write(h, data);
}

}  // namespace netshoot::applet::capture
