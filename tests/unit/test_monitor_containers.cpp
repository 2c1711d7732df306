// The containers view (ctop) without containers: cgroup path recognition and file
// parsers (v1 and v2 layouts), /proc parsers, a fake cgroup tree read end to end,
// sorting and filtering, units, the JSON record, key decoding and screens of any
// size (20x5 included) that never exceed the terminal's width.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "applets/monitor/containers.h"
#include "applets/monitor/term.h"
#include "netshoot/cgroup.h"

namespace core = netshoot::core;
using namespace netshoot::applet::monitor;

namespace {

const std::string kId = "cec5d350cf3e6e4169080ec1614fbfe7092882d88a2411b811409d7c7ff70430";
const std::string kId2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

ContainerRow row(std::string name, std::string state, double cpu, uint64_t mem) {
  ContainerRow r;
  r.name = std::move(name);
  r.id = kId;
  r.id[0] = r.name.empty() ? 'a' : r.name[0];
  r.state = std::move(state);
  r.running = r.state == "running";
  if (r.running) {
    r.cpu_percent = cpu;
    r.mem_used = mem;
    r.mem_limit = 1ull << 30;
    r.net_rx = 1000;
    r.net_tx = 2000;
    r.pids = 3;
  }
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::string dir = path.substr(0, path.rfind('/'));
  std::string cmd = "mkdir -p '" + dir + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("cgroup: container paths of each runtime are recognised", "[monitor][monitor-containers]") {
  auto c = core::match_container_cgroup("/libpod_parent/libpod-" + kId);
  REQUIRE(c);
  CHECK(c->id == kId);
  CHECK(c->runtime == "podman");
  c = core::match_container_cgroup("/machine.slice/libpod-" + kId + ".scope");
  REQUIRE(c);
  CHECK(c->runtime == "podman");
  CHECK_FALSE(core::match_container_cgroup("/machine.slice/libpod-conmon-" + kId + ".scope"));
  c = core::match_container_cgroup("/system.slice/docker-" + kId + ".scope");
  REQUIRE(c);
  CHECK(c->runtime == "docker");
  c = core::match_container_cgroup("/docker/" + kId);
  REQUIRE(c);
  CHECK(c->runtime == "docker");
  c = core::match_container_cgroup("/kubepods.slice/kubepods-besteffort.slice/"
                                   "kubepods-besteffort-pod1a2b3c4d_1111_2222_3333_444455556666.slice/"
                                   "cri-containerd-" + kId + ".scope");
  REQUIRE(c);
  CHECK(c->runtime == "containerd");
  CHECK(c->pod_uid == "1a2b3c4d-1111-2222-3333-444455556666");
  c = core::match_container_cgroup("/kubepods/burstable/pod1a2b3c4d-1111-2222-3333-444455556666/" + kId);
  REQUIRE(c);
  CHECK(c->runtime == "containerd");
  CHECK(c->pod_uid == "1a2b3c4d-1111-2222-3333-444455556666");
  c = core::match_container_cgroup("/kubepods.slice/kubepods-pod1a2b3c4d_1111_2222_3333_444455556666.slice/crio-" + kId + ".scope");
  REQUIRE(c);
  CHECK(c->runtime == "cri-o");
  CHECK_FALSE(core::match_container_cgroup("/kubepods.slice/crio-conmon-" + kId + ".scope"));
  CHECK_FALSE(core::match_container_cgroup("/system.slice/sshd.service"));
  CHECK_FALSE(core::match_container_cgroup("/docker/" + kId.substr(0, 63)));
  CHECK_FALSE(core::match_container_cgroup("/docker/" + kId.substr(0, 63) + "G"));
}

TEST_CASE("cgroup: mounts of v1, hybrid and v2 hosts", "[monitor][monitor-containers]") {
  auto v1 = core::CgroupMounts::parse(
      "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
      "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n"
      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
      "cgroup /sys/fs/cgroup/blkio cgroup rw,blkio 0 0\n"
      "cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n"
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n");
  CHECK_FALSE(v1.v2);
  CHECK(v1.cpuacct == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(v1.memory == "/sys/fs/cgroup/memory");
  CHECK(v1.walk_root() == "/sys/fs/cgroup/memory");
  CHECK(v1.found());
  auto v2 = core::CgroupMounts::parse("cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\nproc /proc proc rw 0 0\n");
  CHECK(v2.v2);
  CHECK(v2.walk_root() == "/sys/fs/cgroup");
  auto none = core::CgroupMounts::parse("proc /proc proc rw 0 0\n");
  CHECK_FALSE(none.found());
  auto esc = core::CgroupMounts::parse("cgroup2 /tmp/a\\040b cgroup2 rw 0 0\n");
  CHECK(esc.unified == "/tmp/a b");
}

TEST_CASE("cgroup: file parsers", "[monitor][monitor-containers]") {
  CHECK(core::cgroup_keyed_value("cache 16384\nrss 61440\ntotal_inactive_file 4096\n", "total_inactive_file") == 4096u);
  CHECK(core::cgroup_keyed_value("inactive_file_x 1\ninactive_file 7\n", "inactive_file") == 7u);
  CHECK_FALSE(core::cgroup_keyed_value("rss 1\n", "cache"));
  CHECK(core::cgroup_limit_value("max\n") == std::nullopt);
  CHECK(core::cgroup_limit_value("9223372036854771712\n") == std::nullopt);
  CHECK(core::cgroup_limit_value("536870912\n") == 536870912u);
  CHECK(core::cgroup_number("garbage") == std::nullopt);
  CHECK(core::cgroup_number("99999999999999999999999") == std::nullopt);
  uint64_t r = 0, w = 0;
  CHECK(core::parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n", r, w));
  CHECK(r == 4097);
  CHECK(w == 8194);
  CHECK(core::parse_blkio_v1("Total 0\n", r, w));
  CHECK(r == 0);
  core::parse_io_stat_v2("8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n259:0 rbytes=1 wbytes=2\n", r, w);
  CHECK(r == 101);
  CHECK(w == 202);
  core::CgroupStats s;
  s.mem_usage = 1000;
  s.mem_inactive_file = 300;
  CHECK(s.mem_used() == 700u);
  s.mem_inactive_file = 5000;
  CHECK(s.mem_used() == 0u);
}

TEST_CASE("cgroup: a fake v2 tree is walked and read", "[monitor][monitor-containers]") {
  char tmpl[] = "/tmp/nsmon-cg-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  std::string root = tmpl;
  std::string c1 = "/system.slice/docker-" + kId + ".scope";
  std::string c2 = "/kubepods/besteffort/pod1a2b3c4d-1111-2222-3333-444455556666/" + kId2;
  write_file(root + c1 + "/cpu.stat", "usage_usec 1500000\nuser_usec 1\n");
  write_file(root + c1 + "/memory.current", "10485760\n");
  write_file(root + c1 + "/memory.max", "max\n");
  write_file(root + c1 + "/memory.stat", "anon 1\ninactive_file 1048576\n");
  write_file(root + c1 + "/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n");
  write_file(root + c1 + "/pids.current", "4\n");
  write_file(root + c1 + "/cgroup.procs", "123\n124\n");
  write_file(root + c1 + "/sub/cgroup.procs", "125\n");  // a sub-cgroup of the container
  write_file(root + c2 + "/memory.max", "268435456\n");
  write_file(root + "/system.slice/sshd.service/cgroup.procs", "1\n");
  core::CgroupMounts m;
  m.v2 = true;
  m.unified = root;
  auto found = core::find_container_cgroups(m);
  REQUIRE(found.size() == 2);
  std::map<std::string, core::CgroupContainer> by_id;
  for (auto& c : found) by_id[c.id] = c;
  CHECK(by_id[kId].path == c1);
  CHECK(by_id[kId].runtime == "docker");
  CHECK(by_id[kId2].pod_uid == "1a2b3c4d-1111-2222-3333-444455556666");
  auto s = core::read_cgroup_stats(m, c1);
  CHECK(s.cpu_ns == 1500000000u);
  CHECK(s.mem_used() == 10485760u - 1048576u);
  CHECK_FALSE(s.mem_limit);
  CHECK(s.io_read == 4096u);
  CHECK(s.io_write == 8192u);
  CHECK(s.pids == 4u);
  auto procs = core::cgroup_procs(m, c1);
  std::sort(procs.begin(), procs.end());
  CHECK(procs == std::vector<int>{123, 124, 125});
  CHECK(core::read_cgroup_stats(m, c2).mem_limit == 268435456u);
  // A container whose cgroup vanished: nothing, no error.
  auto gone = core::read_cgroup_stats(m, "/docker/" + kId2);
  CHECK_FALSE(gone.cpu_ns);
  CHECK_FALSE(gone.mem_usage);
  CHECK(core::cgroup_procs(m, "/docker/" + kId2).empty());
  std::string cmd = "rm -rf '" + root + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("ctop: runtime state files name containers without an API", "[monitor][monitor-containers]") {
  char tmpl[] = "/tmp/nsmon-rt-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  std::string root = tmpl;
  write_file(root + "/var/lib/docker/containers/" + kId + "/config.v2.json",
             R"({"Name":"/web","Config":{"Image":"nginx:1"},"State":{"Running":false,"Paused":false,"StartedAt":"2026-01-01T00:00:00Z","ExitCode":0}})");
  write_file(root + "/var/lib/containers/storage/overlay-containers/containers.json",
             R"([{"id":")" + kId2 + R"(","names":["db"],"metadata":"{\"image-name\":\"localhost/bb:latest\"}"},{"id":"short"}])");
  auto rows = runtime_state_rows(root);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].name == "web");
  CHECK(rows[0].state == "exited");
  CHECK(rows[0].image == "nginx:1");
  CHECK(rows[1].name == "db");
  CHECK(rows[1].runtime == "podman");
  CHECK(rows[1].image == "localhost/bb:latest");
  CHECK(rows[1].state == "stopped");
  write_file(root + "/var/lib/containers/storage/overlay-containers/containers.json", "not json");
  CHECK(runtime_state_rows(root).size() == 1);
  std::string cmd = "rm -rf '" + root + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("ctop: /proc/net parsers", "[monitor][monitor-containers]") {
  auto devs = parse_net_dev(
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:       5       1    0    0    0     0          0         0        5       1    0    0    0     0       0          0\n"
      "  eth0:    1806      21    0    0    0     0          0         0      822      11    0    0    0     0       0          0\n");
  REQUIRE(devs.size() == 2);
  CHECK(devs[1].name == "eth0");
  CHECK(devs[1].rx_bytes == 1806);
  CHECK(devs[1].rx_packets == 21);
  CHECK(devs[1].tx_bytes == 822);
  CHECK(devs[1].tx_packets == 11);
  CHECK(parse_net_dev("garbage\n: : :\n").empty());

  auto tcp = parse_proc_net_listeners(
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1\n"
      "   2: 0500580A:1F90 0600580A:C350 01 00000000:00000000 00:00000000 00000000     0        0 333 1\n",
      "tcp");
  REQUIRE(tcp.size() == 2);
  CHECK(tcp[0].local == "0.0.0.0:8080");
  CHECK(tcp[0].inode == 12345);
  CHECK(tcp[1].local == "127.0.0.1:53");
  auto udp6 = parse_proc_net_listeners(
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  10: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0 0\n"
      "  11: 00000000000000000000000001000000:0036 00000000000000000000000001000000:0035 07 00000000:00000000 00:00000000 00000000     0        0 998 2 0 0\n",
      "udp6");
  REQUIRE(udp6.size() == 1);
  CHECK(udp6[0].local == "[::]:53");
  CHECK(parse_proc_net_listeners("header only\n", "tcp").empty());
  CHECK(parse_proc_net_listeners("", "tcp").empty());
}

TEST_CASE("ctop: units, sorting, filtering", "[monitor][monitor-containers]") {
  CHECK(human_bytes(0) == "0B");
  CHECK(human_bytes(1023) == "1023B");
  CHECK(human_bytes(1536) == "1.5K");
  CHECK(human_bytes(512.0 * 1024 * 1024) == "512M");
  CHECK(human_bytes(25.28e9) == "24G");
  CHECK(cpu_text(std::nullopt) == "-");
  CHECK(cpu_text(12.345) == "12.3%");
  CHECK(cpu_text(199.6) == "200%");

  std::vector<ContainerRow> rows = {row("bravo", "running", 5, 300), row("alpha", "exited", 0, 0),
                                    row("charlie", "running", 90, 100), row("delta", "created", 0, 0)};
  ViewOptions v;
  auto r = rows;
  arrange_rows(r, v);  // state: running first, then by name
  REQUIRE(r.size() == 4);
  CHECK(r[0].name == "bravo");
  CHECK(r[1].name == "charlie");
  CHECK(r[2].name == "delta");
  CHECK(r[3].name == "alpha");
  v.sort = SortKey::kCpu;
  r = rows;
  arrange_rows(r, v);
  CHECK(r[0].name == "charlie");
  CHECK(r[1].name == "bravo");
  v.sort = SortKey::kMem;
  r = rows;
  arrange_rows(r, v);
  CHECK(r[0].name == "bravo");
  v.reverse = true;
  r = rows;
  arrange_rows(r, v);
  CHECK(r.back().name == "bravo");
  v = ViewOptions{};
  v.sort = SortKey::kName;
  v.show_all = false;
  r = rows;
  arrange_rows(r, v);
  REQUIRE(r.size() == 2);
  CHECK(r[0].name == "bravo");
  v.show_all = true;
  v.filter = "ar";
  r = rows;
  arrange_rows(r, v);
  REQUIRE(r.size() == 1);
  CHECK(r[0].name == "charlie");
  SortKey k = SortKey::kState;
  for (int i = 0; i < 8; ++i) k = next_sort_key(k);
  CHECK(k == SortKey::kState);
  CHECK(parse_sort_key("cpu") == SortKey::kCpu);
  CHECK_FALSE(parse_sort_key("bogus"));
}

TEST_CASE("ctop: table and JSON record", "[monitor][monitor-containers]") {
  std::vector<ContainerRow> rows = {row("web", "running", 12.5, 1536), row("old", "exited", 0, 0)};
  std::string t = format_table(rows);
  CHECK(t.rfind("STATE    NAME  CID", 0) == 0);
  CHECK(t.find("NET RX/TX") != std::string::npos);
  CHECK(t.find("running  web   " + rows[0].short_id() + "   12.5%") != std::string::npos);
  CHECK(t.find("1.5K / 1.0G") != std::string::npos);
  CHECK(t.find("1000B / 2.0K") != std::string::npos);
  CHECK(t.find("exited   old") != std::string::npos);
  auto j = row_json(rows[0], 3, 1700000000.1234);
  CHECK(j["sample"] == 3);
  CHECK(j["name"] == "web");
  CHECK(j["cpu_percent"] == 12.5);
  CHECK(j["mem_used_bytes"] == 1536);
  CHECK(j["mem_percent"].is_number());
  CHECK(j["net_rx_bytes_per_sec"].is_null());
  CHECK(j["pid"].is_null());
  auto e = row_json(rows[1], 3, 0);
  CHECK(e["running"] == false);
  CHECK(e["cpu_percent"].is_null());
}

TEST_CASE("ctop: key decoding", "[monitor][monitor-containers]") {
  using netshoot::applet::monitor::term::Key;
  using netshoot::applet::monitor::term::decode_keys;
  auto k = decode_keys("\x1b[A\x1b[B\x1bOC\x1b[D\x1b[5~\x1b[6~q\r\x7f");
  REQUIRE(k.size() == 9);
  CHECK(k[0].key == Key::kUp);
  CHECK(k[1].key == Key::kDown);
  CHECK(k[2].key == Key::kRight);
  CHECK(k[3].key == Key::kLeft);
  CHECK(k[4].key == Key::kPageUp);
  CHECK(k[5].key == Key::kPageDown);
  CHECK((k[6].key == Key::kChar && k[6].ch == 'q'));
  CHECK(k[7].key == Key::kEnter);
  CHECK(k[8].key == Key::kBackspace);
  k = decode_keys("\x1b");
  REQUIRE(k.size() == 1);
  CHECK(k[0].key == Key::kEsc);
  k = decode_keys("\x1b[1;5");  // truncated
  REQUIRE(k.size() == 1);
  CHECK(k[0].key == Key::kEsc);
  CHECK(decode_keys("\x1b[99Z").empty());
}

TEST_CASE("ctop: screens fit any terminal size", "[monitor][monitor-containers]") {
  std::vector<ContainerRow> rows;
  for (int i = 0; i < 30; ++i) {
    rows.push_back(row("container-with-a-long-name-" + std::to_string(i), i % 3 ? "running" : "exited", i, 1000u * i));
    rows.back().id = std::to_string(100 + i) + kId.substr(3);
  }
  Detail d;
  d.id = rows[1].id;
  d.procs.push_back({1, 'S', 0.5, 4096, 0, "/bin/busybox httpd -f -p 8080"});
  d.ifs.push_back({"eth0", "UP", "aa:bb:cc:dd:ee:ff", {"10.88.0.5/16", "fe80::1/64"}, 10.0, 20.0, 1, 2});
  d.listeners.push_back({"tcp", "0.0.0.0:8080", 1, "busybox(1)"});
  History h;
  for (int i = 0; i < 50; ++i) h.push(rows[1]);
  for (auto [w, hgt] : std::vector<std::pair<int, int>>{{20, 5}, {1, 1}, {39, 6}, {40, 6}, {80, 24}, {200, 60}, {60, 8}}) {
    INFO(w << "x" << hgt);
    LiveState st;
    Screen scr{w, hgt};
    auto lines = render_list(rows, st, scr);
    CHECK(lines.size() <= size_t(hgt));
    for (const auto& l : lines) CHECK(netshoot::applet::monitor::term::visible_width(l) <= size_t(w));
    auto dl = render_detail(rows[1], d, &h, st, scr);
    CHECK(dl.size() <= size_t(hgt));
    for (const auto& l : dl) CHECK(netshoot::applet::monitor::term::visible_width(l) <= size_t(w));
    if (screen_too_small(scr) && w >= 18) CHECK(strip_ansi(lines[0]).find("terminal too small") == 0);
  }
  // Selection follows the container and scrolls into view.
  LiveState st;
  Screen scr{100, 10};
  st.selected = 25;
  st.selected_id = rows[25].id;
  auto lines = render_list(rows, st, scr);
  bool shown = false;
  for (const auto& l : lines) shown |= l.find("\x1b[7m") == 0 && strip_ansi(l).find(rows[25].short_id()) != std::string::npos;
  CHECK(shown);
  auto f = netshoot::applet::monitor::term::frame_bytes({"abc", "def"}, {10, 3});
  CHECK(f.find("\x1b[1;1H") != std::string::npos);
  CHECK(f.find("\x1b[3;1H\x1b[0m\x1b[J") != std::string::npos);
}
