// pcap file writing that survives a full disk and signals: whole records only
// reach the file (a failed write is cut back to the last complete record), and
// -C/-G/-W rotation with tcpdump's file names.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::applet::capture {

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter() { (void)close(); }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  core::Status open(const std::string& path, int linktype, int snaplen);
  core::Status write(const pcap_pkthdr& h, const uint8_t* data);
  core::Status flush();
  core::Status close();
  bool is_open() const { return fd_ >= 0; }
  uint64_t size() const { return committed_ + buf_.size(); }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  bool to_stdout_ = false;
  std::string path_;
  std::vector<uint8_t> buf_;
  std::vector<size_t> ends_;  // record end offsets inside buf_
  uint64_t committed_ = 0;    // bytes of whole records in the file
};

// The -w target with tcpdump's -C / -G / -W rotation.
class RotatingWriter {
 public:
  struct Config {
    std::string base;
    int linktype = 1, snaplen = 262144;
    long rotate_mbytes = 0;
    int rotate_seconds = 0;
    int file_limit = 0;
  };
  core::Status open(const Config& c, time_t now);
  // Writes one packet, rotating first when needed. `done` is set when -G with -W
  // has produced its last file (tcpdump exits then).
  core::Status write(const pcap_pkthdr& h, const uint8_t* data, bool& done);
  core::Status flush() { return w_.flush(); }
  core::Status close() { return w_.close(); }

 private:
  std::string name_for(time_t t) const;
  Config c_;
  PcapWriter w_;
  long index_ = 0;    // -C file number
  int g_files_ = 0;   // -G files opened
  time_t g_start_ = 0;
};

}  // namespace netshoot::applet::capture
