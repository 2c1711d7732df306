// Byte-level checks of the libmnl API. The dynamic build runs them against Debian's
// libmnl.so, the static build against src/core/mnl: passing both proves the two agree.
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct Buffer {
  alignas(8) unsigned char data[8192];
  Buffer() { std::memset(data, 0xAA, sizeof(data)); }  // poison: padding must be zeroed
  nlmsghdr* nlh() { return reinterpret_cast<nlmsghdr*>(data); }
};

std::vector<unsigned char> bytes(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  return std::vector<unsigned char>(b, b + n);
}

// little-endian helpers for building the expected image
void le16(std::vector<unsigned char>& v, uint16_t x) {
  v.push_back(x & 0xff);
  v.push_back(x >> 8);
}
void le32(std::vector<unsigned char>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back((x >> (8 * i)) & 0xff);
}
void le64(std::vector<unsigned char>& v, uint64_t x) {
  for (int i = 0; i < 8; ++i) v.push_back((x >> (8 * i)) & 0xff);
}
void raw(std::vector<unsigned char>& v, const char* s, size_t n) { v.insert(v.end(), s, s + n); }

struct Collected {
  std::vector<uint16_t> types;
  std::vector<const nlattr*> attrs;
  int stop_after = -1;
};

int collect_cb(const nlattr* attr, void* data) {
  auto* c = static_cast<Collected*>(data);
  c->types.push_back(mnl_attr_get_type(attr));
  c->attrs.push_back(attr);
  if (c->stop_after >= 0 && static_cast<int>(c->types.size()) >= c->stop_after) return MNL_CB_STOP;
  return MNL_CB_OK;
}

// Builds the reference message used by several tests; returns the nest attribute.
nlattr* build_reference(nlmsghdr* nlh) {
  nlh->nlmsg_type = 0x1234;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = 0x01020304;
  nlh->nlmsg_pid = 0;
  auto* extra = static_cast<unsigned char*>(mnl_nlmsg_put_extra_header(nlh, 5));
  extra[0] = 0x11;
  mnl_attr_put_u32(nlh, 1, 0xdeadbeef);
  mnl_attr_put_strz(nlh, 2, "abc");
  mnl_attr_put_str(nlh, 3, "hello");
  nlattr* nest = mnl_attr_nest_start(nlh, 4);
  mnl_attr_put_u8(nlh, 5, 7);
  mnl_attr_put_u64(nlh, 6, 0x0102030405060708ull);
  mnl_attr_nest_end(nlh, nest);
  mnl_attr_put_u16(nlh, 7, 0xabcd);
  return nest;
}

// Expected image; -1 marks alignment padding, whose content libmnl 1.0.4 leaves as it
// was in the buffer (later versions and ours zero it): not compared.
std::vector<int> reference_image() {
  std::vector<unsigned char> v;
  std::vector<size_t> pads;
  auto pad = [&](int n) {
    for (int i = 0; i < n; ++i) {
      pads.push_back(v.size());
      v.push_back(0);
    }
  };
  le32(v, 84);  // nlmsg_len
  le16(v, 0x1234);
  le16(v, NLM_F_REQUEST | NLM_F_ACK);
  le32(v, 0x01020304);
  le32(v, 0);
  // extra header: 5 bytes padded to 8, all zeroed by put_extra_header, first byte set
  v.push_back(0x11);
  for (int i = 0; i < 7; ++i) v.push_back(0);
  // attr 1: u32
  le16(v, 8); le16(v, 1); le32(v, 0xdeadbeef);
  // attr 2: strz "abc" -> 4 bytes payload
  le16(v, 8); le16(v, 2); raw(v, "abc", 4);
  // attr 3: str "hello" -> 5 bytes + 3 padding
  le16(v, 9); le16(v, 3); raw(v, "hello", 5); pad(3);
  // attr 4 at offset 52: nest = 4 + 8 + 12 = 24
  le16(v, 24); le16(v, NLA_F_NESTED | 4);
  le16(v, 5); le16(v, 5); v.push_back(7); pad(3);
  le16(v, 12); le16(v, 6); le64(v, 0x0102030405060708ull);
  // attr 7: u16 + 2 padding
  le16(v, 6); le16(v, 7); le16(v, 0xabcd); pad(2);
  std::vector<int> out(v.begin(), v.end());
  for (size_t i : pads) out[i] = -1;
  return out;
}

std::vector<int> masked(const unsigned char* p, const std::vector<int>& expect) {
  std::vector<int> out;
  for (size_t i = 0; i < expect.size(); ++i) out.push_back(expect[i] < 0 ? -1 : p[i]);
  return out;
}

}  // namespace

TEST_CASE("mnl: header and extra header layout", "[mnl]") {
  Buffer b;
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
  REQUIRE(static_cast<void*>(nlh) == static_cast<void*>(b.data));
  CHECK(MNL_NLMSG_HDRLEN == 16);
  CHECK(nlh->nlmsg_len == 16);
  CHECK(nlh->nlmsg_type == 0);
  CHECK(nlh->nlmsg_flags == 0);
  CHECK(nlh->nlmsg_seq == 0);
  CHECK(nlh->nlmsg_pid == 0);

  void* extra = mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg));  // 1 byte -> 4
  CHECK(extra == b.data + 16);
  CHECK(nlh->nlmsg_len == 20);
  CHECK(bytes(extra, 4) == std::vector<unsigned char>{0, 0, 0, 0});

  CHECK(mnl_nlmsg_get_payload(nlh) == b.data + 16);
  CHECK(mnl_nlmsg_get_payload_len(nlh) == 4);
  CHECK(mnl_nlmsg_get_payload_offset(nlh, 1) == b.data + 20);
  CHECK(mnl_nlmsg_get_payload_offset(nlh, 4) == b.data + 20);
  CHECK(mnl_nlmsg_get_payload_offset(nlh, 5) == b.data + 24);
  CHECK(mnl_nlmsg_get_payload_tail(nlh) == b.data + 20);
  CHECK(mnl_nlmsg_size(10) == 26);
  nlh->nlmsg_len = 21;  // tail is aligned
  CHECK(mnl_nlmsg_get_payload_tail(nlh) == b.data + 24);
}

TEST_CASE("mnl: attribute building is byte exact", "[mnl]") {
  Buffer b;
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
  nlattr* nest = build_reference(nlh);
  CHECK(reinterpret_cast<unsigned char*>(nest) == b.data + 52);
  CHECK(mnl_attr_get_len(nest) == 24);
  CHECK(mnl_attr_get_type(nest) == 4);  // NLA_F_NESTED masked off
  CHECK(nest->nla_type == (NLA_F_NESTED | 4));
  auto expect = reference_image();
  REQUIRE(nlh->nlmsg_len == expect.size());
  CHECK(masked(b.data, expect) == expect);
}

TEST_CASE("mnl: parse, getters and validation", "[mnl]") {
  Buffer b;
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
  build_reference(nlh);

  Collected c;
  CHECK(mnl_attr_parse(nlh, 5, collect_cb, &c) == MNL_CB_OK);
  REQUIRE(c.types == std::vector<uint16_t>{1, 2, 3, 4, 7});
  const nlattr* a_u32 = c.attrs[0];
  const nlattr* a_strz = c.attrs[1];
  const nlattr* a_str = c.attrs[2];
  const nlattr* a_nest = c.attrs[3];
  const nlattr* a_u16 = c.attrs[4];

  CHECK(mnl_attr_get_u32(a_u32) == 0xdeadbeef);
  CHECK(mnl_attr_get_payload_len(a_u32) == 4);
  CHECK(mnl_attr_get_len(a_u32) == 8);
  CHECK(std::string(mnl_attr_get_str(a_strz)) == "abc");
  CHECK(mnl_attr_get_payload_len(a_str) == 5);
  CHECK(std::string(static_cast<const char*>(mnl_attr_get_payload(a_str)), 5) == "hello");
  CHECK(mnl_attr_get_u16(a_u16) == 0xabcd);
  CHECK(mnl_attr_get_payload(a_u32) == reinterpret_cast<const char*>(a_u32) + MNL_ATTR_HDRLEN);
  CHECK(mnl_attr_next(a_u32) == a_strz);
  CHECK(mnl_attr_next(a_str) == a_nest);  // 9 bytes -> aligned 12

  // validation: 0 = fine, -1 + errno otherwise
  CHECK(mnl_attr_validate(a_u32, MNL_TYPE_U32) == 0);
  errno = 0;
  CHECK(mnl_attr_validate(a_u32, MNL_TYPE_U64) == -1);
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(mnl_attr_validate(a_u32, MNL_TYPE_U16) == -1);  // longer than expected
  CHECK(errno == ERANGE);
  CHECK(mnl_attr_validate(a_u16, MNL_TYPE_U16) == 0);
  CHECK(mnl_attr_validate(a_strz, MNL_TYPE_NUL_STRING) == 0);
  CHECK(mnl_attr_validate(a_str, MNL_TYPE_STRING) == 0);
  errno = 0;
  CHECK(mnl_attr_validate(a_str, MNL_TYPE_NUL_STRING) == -1);
  CHECK(errno == EINVAL);
  errno = 0;
  CHECK(mnl_attr_validate(a_u32, MNL_TYPE_FLAG) == -1);
  CHECK(errno == ERANGE);
  CHECK(mnl_attr_validate(a_nest, MNL_TYPE_NESTED) == 0);
  CHECK(mnl_attr_validate(a_str, MNL_TYPE_BINARY) == 0);
  CHECK(mnl_attr_validate2(a_str, MNL_TYPE_BINARY, 5) == 0);
  errno = 0;
  CHECK(mnl_attr_validate2(a_str, MNL_TYPE_BINARY, 6) == -1);
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(mnl_attr_validate2(a_str, MNL_TYPE_BINARY, 4) == -1);
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(mnl_attr_validate(a_u32, MNL_TYPE_MAX) == -1);
  CHECK(errno == EINVAL);

  CHECK(mnl_attr_type_valid(a_u16, 7) == 1);
  errno = 0;
  CHECK(mnl_attr_type_valid(a_u16, 6) == -1);
  CHECK(errno == EOPNOTSUPP);

  Collected n;
  CHECK(mnl_attr_parse_nested(a_nest, collect_cb, &n) == MNL_CB_OK);
  REQUIRE(n.types == std::vector<uint16_t>{5, 6});
  CHECK(mnl_attr_get_u8(n.attrs[0]) == 7);
  CHECK(mnl_attr_get_u64(n.attrs[1]) == 0x0102030405060708ull);
  CHECK(mnl_attr_validate(n.attrs[0], MNL_TYPE_U8) == 0);
  CHECK(mnl_attr_validate(n.attrs[1], MNL_TYPE_U64) == 0);
  CHECK(mnl_attr_validate(n.attrs[1], MNL_TYPE_MSECS) == 0);

  // a callback returning STOP ends the walk, and its value is returned
  Collected s;
  s.stop_after = 2;
  CHECK(mnl_attr_parse(nlh, 5, collect_cb, &s) == MNL_CB_STOP);
  CHECK(s.types.size() == 2);

  // the same attributes as a bare payload
  Collected p;
  const char* start = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, 5));
  size_t len = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)) - start;
  CHECK(mnl_attr_parse_payload(start, len, collect_cb, &p) == MNL_CB_OK);
  CHECK(p.types == c.types);
}

TEST_CASE("mnl: attr_ok bounds", "[mnl]") {
  Buffer b;
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
  mnl_attr_put_u32(nlh, 1, 42);
  auto* a = static_cast<nlattr*>(mnl_nlmsg_get_payload(nlh));
  CHECK(mnl_attr_ok(a, 8));
  CHECK_FALSE(mnl_attr_ok(a, 7));   // attribute longer than what is left
  CHECK_FALSE(mnl_attr_ok(a, 3));   // not even a header
  a->nla_len = 3;                   // impossible length
  CHECK_FALSE(mnl_attr_ok(a, 8));
}

TEST_CASE("mnl: checked putters and nest cancel", "[mnl]") {
  Buffer b;
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
  CHECK(mnl_attr_put_u32_check(nlh, 24, 1, 5));  // 16 + 8 fits exactly
  CHECK(nlh->nlmsg_len == 24);
  CHECK_FALSE(mnl_attr_put_u8_check(nlh, 31, 2, 1));  // needs 32
  CHECK_FALSE(mnl_attr_put_strz_check(nlh, 30, 2, "abcd"));
  CHECK(nlh->nlmsg_len == 24);
  CHECK(mnl_attr_put_strz_check(nlh, 36, 2, "abcd"));  // 4 + 5 -> 12
  CHECK(nlh->nlmsg_len == 36);
  CHECK(mnl_attr_put_str_check(nlh, 44, 3, "abcd"));
  CHECK(mnl_attr_put_u16_check(nlh, 52, 4, 9));
  CHECK(mnl_attr_put_u64_check(nlh, 64, 5, 9));
  CHECK(mnl_attr_put_check(nlh, 72, 6, 3, "xyz"));
  CHECK(nlh->nlmsg_len == 72);

  CHECK(mnl_attr_nest_start_check(nlh, 75, 9) == nullptr);
  nlattr* nest = mnl_attr_nest_start_check(nlh, 200, 9);
  REQUIRE(nest != nullptr);
  CHECK(nlh->nlmsg_len == 76);
  mnl_attr_put_u32(nlh, 1, 1);
  mnl_attr_put_u32(nlh, 2, 2);
  CHECK(nlh->nlmsg_len == 92);
  mnl_attr_nest_cancel(nlh, nest);
  CHECK(nlh->nlmsg_len == 72);

  Collected c;
  CHECK(mnl_attr_parse(nlh, 0, collect_cb, &c) == MNL_CB_OK);
  CHECK(c.types == std::vector<uint16_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("mnl: message iteration, seq and portid", "[mnl]") {
  Buffer b;
  nlmsghdr* first = mnl_nlmsg_put_header(b.data);
  mnl_attr_put_u8(first, 1, 1);  // len 24
  first->nlmsg_seq = 7;
  nlmsghdr* second = mnl_nlmsg_put_header(b.data + 24);
  second->nlmsg_len = 17;  // unaligned length: next one starts at +20
  nlmsghdr* third = mnl_nlmsg_put_header(b.data + 44);
  (void)third;
  int len = 60;

  CHECK(mnl_nlmsg_ok(first, len));
  nlmsghdr* n = mnl_nlmsg_next(first, &len);
  CHECK(n == second);
  CHECK(len == 36);
  CHECK(mnl_nlmsg_ok(n, len));
  n = mnl_nlmsg_next(n, &len);
  CHECK(reinterpret_cast<unsigned char*>(n) == b.data + 44);
  CHECK(len == 16);
  CHECK(mnl_nlmsg_ok(n, len));
  n = mnl_nlmsg_next(n, &len);
  CHECK(len == 0);
  CHECK_FALSE(mnl_nlmsg_ok(n, len));
  CHECK_FALSE(mnl_nlmsg_ok(first, 23));

  CHECK(mnl_nlmsg_seq_ok(first, 7));
  CHECK_FALSE(mnl_nlmsg_seq_ok(first, 8));
  CHECK(mnl_nlmsg_seq_ok(first, 0));   // caller does not track
  CHECK(mnl_nlmsg_seq_ok(second, 8));  // message carries no seq
  first->nlmsg_pid = 99;
  CHECK(mnl_nlmsg_portid_ok(first, 99));
  CHECK_FALSE(mnl_nlmsg_portid_ok(first, 98));
  CHECK(mnl_nlmsg_portid_ok(first, 0));
  CHECK(mnl_nlmsg_portid_ok(second, 98));  // from the kernel
}

TEST_CASE("mnl: batch API", "[mnl]") {
  alignas(8) unsigned char buf[512];
  std::memset(buf, 0, sizeof(buf));
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf, 100);
  REQUIRE(batch != nullptr);
  CHECK(mnl_nlmsg_batch_head(batch) == buf);
  CHECK(mnl_nlmsg_batch_current(batch) == buf);
  CHECK(mnl_nlmsg_batch_is_empty(batch));
  CHECK(mnl_nlmsg_batch_size(batch) == 0);

  auto add = [&](uint16_t type) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch));
    nlh->nlmsg_type = type;
    mnl_attr_put(nlh, 1, 20, "01234567890123456789");  // 16 + 24 = 40 bytes
    REQUIRE(nlh->nlmsg_len == 40);
    return mnl_nlmsg_batch_next(batch);
  };
  CHECK(add(100));
  CHECK_FALSE(mnl_nlmsg_batch_is_empty(batch));
  CHECK(mnl_nlmsg_batch_size(batch) == 40);
  CHECK(mnl_nlmsg_batch_current(batch) == buf + 40);
  CHECK(add(101));
  CHECK(mnl_nlmsg_batch_size(batch) == 80);
  CHECK_FALSE(add(102));  // 120 > 100: does not fit, stays pending
  CHECK(mnl_nlmsg_batch_size(batch) == 80);
  CHECK(mnl_nlmsg_batch_current(batch) == buf + 80);

  // reset after an overflow moves the pending message to the head
  mnl_nlmsg_batch_reset(batch);
  CHECK(mnl_nlmsg_batch_size(batch) == 40);
  CHECK_FALSE(mnl_nlmsg_batch_is_empty(batch));
  CHECK(reinterpret_cast<nlmsghdr*>(buf)->nlmsg_type == 102);
  CHECK(mnl_nlmsg_batch_current(batch) == buf + 40);

  // plain reset empties it
  mnl_nlmsg_batch_reset(batch);
  CHECK(mnl_nlmsg_batch_size(batch) == 0);
  CHECK(mnl_nlmsg_batch_is_empty(batch));
  CHECK(mnl_nlmsg_batch_current(batch) == buf);
  mnl_nlmsg_batch_stop(batch);
}

namespace {

// Appends a message to a hand-made receive buffer.
struct Stream {
  alignas(8) unsigned char data[1024] = {};
  size_t len = 0;
  nlmsghdr* add(uint16_t type, uint16_t flags = 0, uint32_t seq = 1, uint32_t pid = 0) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(data + len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = pid;
    return nlh;
  }
  void done(nlmsghdr* nlh) { len += MNL_ALIGN(nlh->nlmsg_len); }
  void error(int err, uint32_t seq = 1) {
    nlmsghdr* nlh = add(NLMSG_ERROR, 0, seq);
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = err;
    done(nlh);
  }
  void data_msg(uint32_t seq = 1, uint16_t flags = NLM_F_MULTI) {
    nlmsghdr* nlh = add(RTM_NEWLINK, flags, seq);
    mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
    done(nlh);
  }
  void control(uint16_t type, uint32_t seq = 1) {
    nlmsghdr* nlh = add(type, NLM_F_MULTI, seq);
    mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    done(nlh);
  }
};

struct Counter {
  int calls = 0;
  int ret = MNL_CB_OK;
};

int count_cb(const nlmsghdr*, void* data) {
  auto* c = static_cast<Counter*>(data);
  ++c->calls;
  return c->ret;
}

int done_marker(const nlmsghdr*, void* data) {
  static_cast<Counter*>(data)->calls += 100;
  return MNL_CB_STOP;
}

}  // namespace

TEST_CASE("mnl: cb_run control messages", "[mnl]") {
  SECTION("NLMSG_ERROR with -ENOENT fails with errno ENOENT") {
    Stream s;
    s.error(-ENOENT);
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == ENOENT);
  }
  SECTION("positive error values are accepted too") {
    Stream s;
    s.error(EPERM);
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == EPERM);
  }
  SECTION("an ack (error 0) stops") {
    Stream s;
    s.error(0);
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, nullptr, nullptr) == MNL_CB_STOP);
  }
  SECTION("truncated NLMSG_ERROR is EBADMSG") {
    Stream s;
    nlmsghdr* nlh = s.add(NLMSG_ERROR);
    mnl_nlmsg_put_extra_header(nlh, 4);  // shorter than struct nlmsgerr
    s.done(nlh);
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == EBADMSG);
  }
  SECTION("data then NLMSG_DONE stops after the data") {
    Stream s;
    s.data_msg();
    s.data_msg();
    s.control(NLMSG_DONE);
    s.data_msg();  // after DONE: never reached
    Counter c;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, count_cb, &c) == MNL_CB_STOP);
    CHECK(c.calls == 2);
  }
  SECTION("NOOP and OVERRUN are skipped, result is OK when no end marker") {
    Stream s;
    s.control(NLMSG_NOOP);
    s.data_msg();
    s.control(NLMSG_OVERRUN);
    s.data_msg();
    Counter c;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, count_cb, &c) == MNL_CB_OK);
    CHECK(c.calls == 2);
  }
  SECTION("data callback STOP and ERROR end the run") {
    Stream s;
    s.data_msg();
    s.data_msg();
    Counter stop;
    stop.ret = MNL_CB_STOP;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, count_cb, &stop) == MNL_CB_STOP);
    CHECK(stop.calls == 1);
    Counter fail;
    fail.ret = MNL_CB_ERROR;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, count_cb, &fail) == MNL_CB_ERROR);
    CHECK(fail.calls == 1);
  }
  SECTION("sequence mismatch is EPROTO, seq 0 is not checked") {
    Stream s;
    s.data_msg(5);
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 6, 0, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == EPROTO);
    CHECK(mnl_cb_run(s.data, s.len, 0, 0, nullptr, nullptr) == MNL_CB_OK);
  }
  SECTION("port id mismatch is ESRCH") {
    Stream s;
    nlmsghdr* nlh = s.add(RTM_NEWLINK, 0, 1, 4242);
    s.done(nlh);
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 1, 4343, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == ESRCH);
    CHECK(mnl_cb_run(s.data, s.len, 1, 4242, nullptr, nullptr) == MNL_CB_OK);
  }
  SECTION("interrupted dump is EINTR") {
    Stream s;
    s.data_msg(1, NLM_F_MULTI | NLM_F_DUMP_INTR);
    Counter c;
    errno = 0;
    CHECK(mnl_cb_run(s.data, s.len, 1, 0, count_cb, &c) == MNL_CB_ERROR);
    CHECK(errno == EINTR);
    CHECK(c.calls == 0);
  }
  SECTION("cb_run2 control callbacks replace the defaults") {
    Stream s;
    s.data_msg();
    s.control(NLMSG_DONE);
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
    ctl[NLMSG_DONE] = done_marker;
    Counter c;
    CHECK(mnl_cb_run2(s.data, s.len, 1, 0, count_cb, &c, ctl, MNL_ARRAY_SIZE(ctl)) == MNL_CB_STOP);
    CHECK(c.calls == 101);
  }
  SECTION("a trailing partial message is ignored") {
    Stream s;
    s.data_msg();
    Counter c;
    CHECK(mnl_cb_run(s.data, s.len + 8, 1, 0, count_cb, &c) == MNL_CB_OK);
    CHECK(c.calls == 1);
  }
}

namespace {

int count_links(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type == RTM_NEWLINK) ++*static_cast<int*>(data);
  return MNL_CB_OK;
}

}  // namespace

TEST_CASE("mnl: socket round trip with the kernel (RTM_GETLINK dump)", "[mnl]") {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  REQUIRE(nl != nullptr);
  CHECK(mnl_socket_get_fd(nl) >= 0);
  REQUIRE(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0);
  const unsigned int portid = mnl_socket_get_portid(nl);
  CHECK(portid != 0);

  int one = 1;
  CHECK(mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)) == 0);
  int val = 0;
  socklen_t vlen = sizeof(val);
  CHECK(mnl_socket_getsockopt(nl, NETLINK_EXT_ACK, &val, &vlen) == 0);
  CHECK(val == 1);

  alignas(8) char req[64];
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 4711;
  auto* rt = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)));
  rt->rtgen_family = AF_UNSPEC;
  REQUIRE(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == static_cast<ssize_t>(nlh->nlmsg_len));

  std::vector<char> buf(32768);
  int links = 0;
  int ret = MNL_CB_OK;
  while (ret > MNL_CB_STOP) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    REQUIRE(n > 0);
    ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), 4711, portid, count_links, &links);
  }
  CHECK(ret == MNL_CB_STOP);
  CHECK(links >= 1);  // at least lo

  // A request the kernel rejects: the error comes back through mnl_cb_run.
  nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = 4712;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_index = 0x7ffffff0;
  REQUIRE(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
  ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
  REQUIRE(n > 0);
  errno = 0;
  CHECK(mnl_cb_run(buf.data(), static_cast<size_t>(n), 4712, portid, nullptr, nullptr) == MNL_CB_ERROR);
  CHECK(errno == ENODEV);

  // A receive buffer too small for the datagram is ENOSPC.
  nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 4713;
  mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg));
  REQUIRE(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
  errno = 0;
  CHECK(mnl_socket_recvfrom(nl, buf.data(), 8) == -1);
  CHECK(errno == ENOSPC);

  CHECK(mnl_socket_close(nl) == 0);
}

TEST_CASE("mnl: open2 flags and fdopen", "[mnl]") {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  REQUIRE(nl != nullptr);
  REQUIRE(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0);
  mnl_socket* alias = mnl_socket_fdopen(mnl_socket_get_fd(nl));
  REQUIRE(alias != nullptr);
  CHECK(mnl_socket_get_fd(alias) == mnl_socket_get_fd(nl));
  CHECK(mnl_socket_get_portid(alias) == mnl_socket_get_portid(nl));
  // Both share one fd: the second close frees the wrapper and reports EBADF.
  CHECK(mnl_socket_close(nl) == 0);
  errno = 0;
  CHECK(mnl_socket_close(alias) == -1);  // fd already closed
  CHECK(errno == EBADF);

  errno = 0;
  CHECK(mnl_socket_open(12345) == nullptr);
  CHECK(errno != 0);
}
