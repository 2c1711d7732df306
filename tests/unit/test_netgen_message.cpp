// netgen: the message format and the listener's sequence accounting.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "applets/netgen/netgen.h"

using namespace netshoot::applet::netgen;

TEST_CASE("netgen message: encode, restamp, decode", "[netgen]") {
  std::vector<uint8_t> buf(100);
  MessageHeader h{0xdeadbeef, 0, 7, 123456789012345};
  REQUIRE(encode_message(buf, h, "ab", 40) == 40);
  CHECK(buf[0] == 'N');
  CHECK(buf[3] == 'N');
  CHECK(buf[32] == 'a');
  CHECK(buf[33] == 'b');
  CHECK(buf[39] == 'b');
  MessageHeader d;
  REQUIRE(decode_message({buf.data(), 40}, d));
  CHECK(d.sender == 0xdeadbeef);
  CHECK(d.seq == 7);
  CHECK(d.sent_ns == 123456789012345);
  CHECK(d.total_length == 40);
  restamp_message(buf.data(), (uint64_t(1) << 40) + 5, -1);
  REQUIRE(decode_message({buf.data(), 40}, d));
  CHECK(d.seq == (uint64_t(1) << 40) + 5);
  CHECK(d.sent_ns == -1);
  // Smaller than the header is raised to the header; a too small buffer fails.
  CHECK(encode_message(buf, h, "", 3) == kHeaderSize);
  CHECK(encode_message({buf.data(), 10}, h, "", 32) == 0);
}

TEST_CASE("netgen message: foreign and damaged data is rejected", "[netgen]") {
  std::vector<uint8_t> buf(64);
  MessageHeader h{1, 0, 1, 1};
  REQUIRE(encode_message(buf, h, "x", 64) == 64);
  MessageHeader d;
  CHECK_FALSE(decode_message({buf.data(), 31}, d));
  auto bad = buf;
  bad[0] = 'X';
  CHECK_FALSE(decode_message(bad, d));
  bad = buf;
  bad[4] = 2;  // version
  CHECK_FALSE(decode_message(bad, d));
  bad = buf;
  bad[12] = bad[13] = bad[14] = 0, bad[15] = 5;  // total length below the header
  CHECK_FALSE(decode_message(bad, d));
  bad = buf;
  bad[12] = 0x7f;  // absurd total length
  CHECK_FALSE(decode_message(bad, d));
  std::vector<uint8_t> text(64, 'A');
  CHECK_FALSE(decode_message(text, d));
}

TEST_CASE("netgen tracker: in order, loss, duplicates, reordering", "[netgen]") {
  SequenceTracker t;
  using V = SequenceTracker::Verdict;
  CHECK(t.add(0) == V::in_order);
  CHECK(t.add(1) == V::in_order);
  CHECK(t.add(3) == V::in_order);  // 2 missing so far
  CHECK(t.lost() == 1);
  CHECK(t.add(2) == V::reordered);  // late: no longer lost
  CHECK(t.lost() == 0);
  CHECK(t.add(2) == V::duplicate);
  CHECK(t.add(3) == V::duplicate);
  CHECK(t.add(10) == V::in_order);
  CHECK(t.received() == 5);
  CHECK(t.duplicates() == 2);
  CHECK(t.reordered() == 1);
  CHECK(t.lost() == 6);  // 4..9
  CHECK(t.first_seq() == 0);
  CHECK(t.last_seq() == 10);
}

TEST_CASE("netgen tracker: a listener that starts late counts from the first message seen", "[netgen]") {
  SequenceTracker t;
  for (uint64_t s = 1000; s < 1100; ++s) t.add(s);
  CHECK(t.lost() == 0);
  CHECK(t.received() == 100);
  // An older straggler widens the range rather than counting as loss.
  CHECK(t.add(998) == SequenceTracker::Verdict::reordered);
  CHECK(t.first_seq() == 998);
  CHECK(t.lost() == 1);  // 999
}

TEST_CASE("netgen tracker: random loss, duplication and shuffling are counted exactly", "[netgen]") {
  std::mt19937 rng(42);
  const uint64_t n = 200000;  // past the duplicate window several times
  std::vector<uint64_t> stream;
  uint64_t dropped = 0, duped = 0;
  for (uint64_t s = 0; s < n; ++s) {
    if (s != 0 && s != n - 1 && rng() % 100 < 3) { ++dropped; continue; }
    stream.push_back(s);
    if (rng() % 100 < 2) { stream.push_back(s); ++duped; }
  }
  // Swap neighbours now and then.
  for (size_t i = 0; i + 1 < stream.size(); ++i)
    if (stream[i] != stream[i + 1] && rng() % 100 < 5 && (i == 0 || stream[i - 1] < stream[i])) {
      std::swap(stream[i], stream[i + 1]);
      ++i;
    }
  // An independent oracle: a repeat is a duplicate, an arrival below the highest seen is late.
  std::set<uint64_t> seen;
  uint64_t highest = 0, late = 0;
  SequenceTracker t;
  size_t mismatches = 0;
  for (uint64_t s : stream) {
    auto v = t.add(s);
    auto truth = seen.count(s) ? SequenceTracker::Verdict::duplicate
                 : (!seen.empty() && s < highest) ? SequenceTracker::Verdict::reordered
                                                  : SequenceTracker::Verdict::in_order;
    if (truth == SequenceTracker::Verdict::reordered) ++late;
    if (v != truth) ++mismatches;
    seen.insert(s);
    highest = std::max(highest, s);
  }
  CHECK(mismatches == 0);
  CHECK(t.lost() == dropped);
  CHECK(t.duplicates() == duped);
  CHECK(t.received() == n - dropped);
  CHECK(t.reordered() == late);
  CHECK(late > 5000);
}

TEST_CASE("netgen tracker: a jump beyond the window forgets old slots", "[netgen]") {
  SequenceTracker t;
  t.add(0);
  t.add(1 << 20);
  CHECK(t.lost() == (1u << 20) - 1);
  CHECK(t.add((1 << 20) + 1) == SequenceTracker::Verdict::in_order);
  CHECK(t.add(1 << 20) == SequenceTracker::Verdict::duplicate);
}
