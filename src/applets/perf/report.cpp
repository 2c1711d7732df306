// perf: the reports of one test — interval lines, the end-of-test summary, the
// -J document in iperf3's schema, and the results sent to the peer.
#include <algorithm>
#include <cstdio>

#include "session.h"

namespace netshoot::applet::perf {

void Test::emit(const std::string& line) {
  if (copy_text_) text_copy_ += line + "\n";
  last_sep_ = line == kSeparator;
  if (json_) return;
  // one write per line: a server's concurrent tests never tear each other's lines
  std::string out = title_ + line + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (o_.forceflush) std::fflush(stdout);
}

void Test::print_connected() {
  for (auto& s : streams_) {
    emit(label(s->fd.get()) + " local " + s->local.to_string() + " port " + std::to_string(s->lport) +
         " connected to " + s->remote.to_string() + " port " + std::to_string(s->rport));
    Json c;
    c["socket"] = s->fd.get();
    c["local_host"] = s->local.to_string();
    c["local_port"] = s->lport;
    c["remote_host"] = s->remote.to_string();
    c["remote_port"] = s->rport;
    jstart_["connected"].push_back(c);
  }
}

void Test::print_interval_header() {
  if (header_printed_) return;
  header_printed_ = true;
  if (p_.udp) emit(header_udp(!bidir() && any_sender(), bidir()));
  else emit(header_tcp(bidir() || any_sender(), bidir() || any_sender(), bidir()));
}

Json Test::interval_stream_json(const Stream& s, double start, double end, uint64_t bytes, const TcpInfo* ti, int64_t retr, int64_t pkts, int64_t lost, int64_t total) {
  Json j;
  double secs = end - start;
  j["socket"] = s.fd.get();
  j["start"] = start;
  j["end"] = end;
  j["seconds"] = secs;
  j["bytes"] = bytes;
  j["bits_per_second"] = secs > 0 ? double(bytes) * 8 / secs : 0.0;
  if (!s.udp && s.sender && ti && ti->ok) {
    j["retransmits"] = retr;
    j["snd_cwnd"] = ti->cwnd;
    j["snd_wnd"] = ti->snd_wnd;
    j["rtt"] = ti->rtt;
    j["rttvar"] = ti->rttvar;
    j["pmtu"] = ti->pmtu;
  }
  if (s.udp) {
    if (s.sender) {
      j["packets"] = pkts;
    } else {
      j["jitter_ms"] = s.rs.jitter * 1000;
      j["lost_packets"] = lost;
      j["packets"] = total;
      j["lost_percent"] = total > 0 ? 100.0 * double(lost) / double(total) : 0.0;
    }
  }
  j["omitted"] = omitting_;
  j["sender"] = s.sender;
  return j;
}

void Test::interval_report(double now) {
  if (data_done_ && now != t_stop_) return;
  print_interval_header();
  auto out = [this](const std::string& line) { emit(omitting_ ? line + "(omitted)" : line); };
  double start = iv_start_ - t_start_, end = now - t_start_, secs = now - iv_start_;
  Json jiv;
  jiv["streams"] = Json::array();
  struct Sum { uint64_t bytes = 0; int64_t retr = 0, pkts = 0, lost = 0, total = 0; double jit = 0; int n = 0; bool any_retr = false; };
  Sum sums[2];  // [0] senders, [1] receivers
  for (auto& s : streams_) {
    uint64_t b = s->bytes - s->iv_bytes;
    std::string pre = interval_prefix(label(s->fd.get(), s->role), start, end, double(b), secs);
    Sum& sm = sums[s->sender ? 0 : 1];
    sm.bytes += b;
    sm.n++;
    TcpInfo ti;
    int64_t retr = 0, pk = 0, lost = 0, total = 0;
    if (!s->udp && s->sender) {
      ti = tcp_info(s->fd.get());
      if (ti.ok) {
        retr = ti.retrans - s->retr_base - s->iv_retr;
        s->iv_retr += retr;
        s->retr = ti.retrans - s->retr_base;
        s->max_cwnd = std::max(s->max_cwnd, ti.cwnd);
        s->max_snd_wnd = std::max(s->max_snd_wnd, ti.snd_wnd);
        s->max_rtt = std::max(s->max_rtt, ti.rtt);
        s->min_rtt = std::min(s->min_rtt, ti.rtt);
        s->rtt_sum += ti.rtt;
        s->rtt_n++;
        sm.retr += retr;
        sm.any_retr = true;
        out(tcp_interval(pre, retr, ti.cwnd));
      } else {
        out(tcp_interval(pre, std::nullopt, std::nullopt));
      }
    } else if (!s->udp) {
      out(tcp_interval(pre, std::nullopt, std::nullopt));
    } else if (s->sender) {
      pk = int64_t(s->packets) - s->iv_packets;
      s->iv_packets = int64_t(s->packets);
      sm.pkts += pk;
      out(udp_sender_interval(pre, pk));
    } else {
      total = s->rs.packet_count - s->iv_pc;
      lost = s->rs.lost - s->iv_lost;
      s->iv_pc = s->rs.packet_count;
      s->iv_lost = s->rs.lost;
      sm.lost += lost;
      sm.total += total;
      sm.jit += s->rs.jitter;
      out(udp_stats(pre, s->rs.jitter * 1000, lost, total, ""));
    }
    jiv["streams"].push_back(interval_stream_json(*s, start, end, b, &ti, retr, pk, lost, total));
    s->iv_bytes = s->bytes;
  }
  for (int k = 0; k < 2; ++k) {
    const Sum& sm = sums[k];
    if (sm.n == 0) continue;
    bool sender = k == 0;
    const char* role = bidir() ? (sender ? (server_ ? "TX-S" : "TX-C") : (server_ ? "RX-S" : "RX-C")) : nullptr;
    if (sm.n > 1) {
      std::string pre = interval_prefix(sum_label(role), start, end, double(sm.bytes), secs);
      if (!p_.udp) out(tcp_interval(pre, sender && sm.any_retr ? std::optional<int64_t>(sm.retr) : std::nullopt, std::nullopt));
      else if (sender) out(udp_sender_interval(pre, sm.pkts));
      else out(udp_stats(pre, sm.jit / sm.n * 1000, sm.lost, sm.total, ""));
    }
    Json js;
    js["start"] = start;
    js["end"] = end;
    js["seconds"] = secs;
    js["bytes"] = sm.bytes;
    js["bits_per_second"] = secs > 0 ? double(sm.bytes) * 8 / secs : 0.0;
    if (!p_.udp && sender && sm.any_retr) js["retransmits"] = sm.retr;
    if (p_.udp) {
      if (sender) js["packets"] = sm.pkts;
      else {
        js["jitter_ms"] = sm.jit / sm.n * 1000;
        js["lost_packets"] = sm.lost;
        js["packets"] = sm.total;
        js["lost_percent"] = sm.total > 0 ? 100.0 * double(sm.lost) / double(sm.total) : 0.0;
      }
    }
    js["omitted"] = omitting_;
    js["sender"] = sender;
    // The client's forward direction is "sum"; with --bidir the other one is "sum_bidir_reverse".
    bool forward = server_ ? !sender : sender;
    if (!bidir()) jiv["sum"] = js;
    else jiv[forward ? "sum" : "sum_bidir_reverse"] = js;
  }
  if (streams_.size() > 1) emit(kSeparator);
  if (o_.json_stream) emit_event("interval", jiv);
  jintervals_.push_back(std::move(jiv));
  iv_start_ = now;
  flush();
}

Results Test::local_results() {
  Results r;
  double wall = cpu1_.wall - cpu0_.wall;
  if (wall > 0) {
    r.cpu_user = 100.0 * (cpu1_.user - cpu0_.user) / wall;
    r.cpu_system = 100.0 * (cpu1_.sys - cpu0_.sys) / wall;
    r.cpu_total = r.cpu_user + r.cpu_system;
  }
  r.sender_has_retransmits = (!p_.udp && any_sender()) ? 1 : p_.udp ? 0 : -1;
  if (!p_.udp && !streams_.empty()) r.congestion_used = congestion_of(streams_[0]->fd.get());
  double dur = t_stop_ - t_start_;
  for (auto& s : streams_) {
    StreamResult sr;
    sr.id = s->id;
    sr.bytes = s->bytes;
    if (!s->udp && s->sender) {
      auto ti = tcp_info(s->fd.get());
      if (ti.ok) s->retr = ti.retrans - s->retr_base;
      sr.retransmits = s->retr;
    }
    if (s->udp) {
      if (s->sender) {
        sr.packets = int64_t(s->packets);
      } else {
        sr.packets = s->rs.packet_count - s->pc_base;
        sr.errors = s->rs.lost - s->lost_base;
        sr.omitted_packets = s->pc_base;
        sr.omitted_errors = s->lost_base;
        sr.jitter = s->rs.jitter;
      }
    }
    sr.start_time = 0;
    sr.end_time = dur;
    r.streams.push_back(sr);
  }
  return r;
}

const StreamResult* Test::peer_stream(const Results* peer, size_t index, int id) const {
  if (!peer) return nullptr;
  for (auto& s : peer->streams) if (s.id == id) return &s;
  return index < peer->streams.size() ? &peer->streams[index] : nullptr;
}

Json Test::summary(const Results* peer) {
  Results mine = local_results();
  Json end;
  end["streams"] = Json::array();
  if (!last_sep_) emit(kSeparator);
  if (o_.verbose) emit("Test Complete. Summary Results:");
  bool show_retr = !p_.udp;
  if (p_.udp) emit(header_udp(false, bidir()));
  else emit(header_tcp(server_ ? any_sender() : show_retr, false, bidir()));

  struct Side { uint64_t bytes = 0; double dur = 0; int64_t retr = 0; bool retr_known = false; int64_t pkts = 0, lost = 0; double jit = 0; int n = 0; };
  // [direction][0 sender, 1 receiver]; direction 0 = the client's forward one
  Side sums[2][2];
  for (size_t i = 0; i < streams_.size(); ++i) {
    const Stream& s = *streams_[i];
    const StreamResult& me = mine.streams[i];
    const StreamResult* pr = peer_stream(peer, i, s.id);
    const StreamResult* snd = s.sender ? &me : pr;
    const StreamResult* rcv = s.sender ? pr : &me;
    bool forward = server_ ? !s.sender : s.sender;
    int dir = bidir() && !forward ? 1 : 0;
    std::string lab = label(s.fd.get(), s.role);
    Json js;
    auto side_json = [&](const StreamResult& r, bool is_sender_side) {
      Json j;
      j["socket"] = s.fd.get();
      j["start"] = 0;
      j["end"] = r.end_time;
      j["seconds"] = r.end_time;
      j["bytes"] = r.bytes;
      j["bits_per_second"] = r.end_time > 0 ? double(r.bytes) * 8 / r.end_time : 0.0;
      if (!p_.udp && is_sender_side) {
        if (r.retransmits >= 0) j["retransmits"] = r.retransmits;
        if (&r == &me && s.rtt_n) {
          j["max_snd_cwnd"] = s.max_cwnd;
          j["max_snd_wnd"] = s.max_snd_wnd;
          j["max_rtt"] = s.max_rtt;
          j["min_rtt"] = s.min_rtt;
          j["mean_rtt"] = s.rtt_sum / s.rtt_n;
        }
      }
      j["sender"] = s.sender;
      return j;
    };
    // server prints only its own side, as iperf3's server does
    bool print_snd = snd && (!server_ || s.sender);
    bool print_rcv = rcv && (!server_ || !s.sender);
    if (!p_.udp) {
      if (print_snd) {
        auto pre = interval_prefix(lab, 0, snd->end_time, double(snd->bytes), snd->end_time);
        emit(tcp_summary(pre, snd->retransmits >= 0 ? std::optional<int64_t>(snd->retransmits) : std::nullopt, true));
      }
      if (print_rcv) {
        auto pre = interval_prefix(lab, 0, rcv->end_time, double(rcv->bytes), rcv->end_time);
        emit(tcp_summary(pre, std::nullopt, false));
      }
      if (snd) js["sender"] = side_json(*snd, true);
      if (rcv) js["receiver"] = side_json(*rcv, false);
    } else {
      if (print_snd) {
        auto pre = interval_prefix(lab, 0, snd->end_time, double(snd->bytes), snd->end_time);
        emit(udp_stats(pre, 0, 0, snd->packets, "sender"));
      }
      if (print_rcv) {
        auto pre = interval_prefix(lab, 0, rcv->end_time, double(rcv->bytes), rcv->end_time);
        emit(udp_stats(pre, rcv->jitter * 1000, rcv->errors, rcv->packets, "receiver"));
      }
      const StreamResult* r = rcv ? rcv : snd;
      Json u;
      u["socket"] = s.fd.get();
      u["start"] = 0;
      u["end"] = r->end_time;
      u["seconds"] = r->end_time;
      u["bytes"] = snd ? snd->bytes : r->bytes;
      u["bits_per_second"] = r->end_time > 0 ? double(snd ? snd->bytes : r->bytes) * 8 / r->end_time : 0.0;
      u["jitter_ms"] = rcv ? rcv->jitter * 1000 : 0.0;
      u["lost_packets"] = rcv ? rcv->errors : 0;
      u["packets"] = rcv ? rcv->packets : snd->packets;
      u["lost_percent"] = rcv && rcv->packets > 0 ? 100.0 * double(rcv->errors) / double(rcv->packets) : 0.0;
      u["out_of_order"] = (!s.sender ? s.rs.out_of_order - s.ooo_base : 0);
      u["sender"] = s.sender;
      js["udp"] = u;
    }
    end["streams"].push_back(js);
    if (snd) {
      Side& a = sums[dir][0];
      a.bytes += snd->bytes; a.dur = std::max(a.dur, snd->end_time); a.pkts += snd->packets; a.n++;
      if (snd->retransmits >= 0) { a.retr += snd->retransmits; a.retr_known = true; }
    }
    if (rcv) {
      Side& b = sums[dir][1];
      b.bytes += rcv->bytes; b.dur = std::max(b.dur, rcv->end_time); b.pkts += rcv->packets;
      b.lost += rcv->errors; b.jit += rcv->jitter; b.n++;
    }
  }
  size_t per_dir = bidir() ? streams_.size() / 2 : streams_.size();
  for (int dir = 0; dir < (bidir() ? 2 : 1); ++dir) {
    const char* role = nullptr;
    if (bidir()) role = dir == 0 ? (server_ ? "RX-S" : "TX-C") : (server_ ? "TX-S" : "RX-C");
    for (int k = 0; k < 2; ++k) {
      const Side& sd = sums[dir][k];
      bool sender = k == 0;
      Json j;
      j["start"] = 0;
      j["end"] = sd.dur;
      j["seconds"] = sd.dur;
      j["bytes"] = sd.bytes;
      j["bits_per_second"] = sd.dur > 0 ? double(sd.bytes) * 8 / sd.dur : 0.0;
      if (!p_.udp && sender && sd.retr_known) j["retransmits"] = sd.retr;
      if (p_.udp) {
        j["jitter_ms"] = sender ? 0.0 : (sd.n ? sd.jit / sd.n * 1000 : 0.0);
        j["lost_packets"] = sender ? 0 : sd.lost;
        j["packets"] = sd.pkts;
        j["lost_percent"] = !sender && sd.pkts > 0 ? 100.0 * double(sd.lost) / double(sd.pkts) : 0.0;
      }
      j["sender"] = we_send_dir(dir);
      std::string key = std::string(sender ? "sum_sent" : "sum_received") + (dir == 1 ? "_bidir_reverse" : "");
      if (sd.n > 0) end[key] = j;
      if (per_dir > 1 && sd.n > 0) {
        if (!server_ || sender == we_send_dir(dir)) {
          auto pre = interval_prefix(sum_label(role), 0, sd.dur, double(sd.bytes), sd.dur);
          if (!p_.udp) emit(tcp_summary(pre, sender && sd.retr_known ? std::optional<int64_t>(sd.retr) : std::nullopt, sender));
          else emit(udp_stats(pre, sender ? 0 : sd.jit / sd.n * 1000, sender ? 0 : sd.lost, sd.pkts, sender ? "sender" : "receiver"));
        }
      }
      if (p_.udp && !sender && sd.n > 0 && dir == 0) end["sum"] = j;
    }
  }
  Json cpu;
  cpu["host_total"] = mine.cpu_total;
  cpu["host_user"] = mine.cpu_user;
  cpu["host_system"] = mine.cpu_system;
  cpu["remote_total"] = peer ? peer->cpu_total : 0.0;
  cpu["remote_user"] = peer ? peer->cpu_user : 0.0;
  cpu["remote_system"] = peer ? peer->cpu_system : 0.0;
  end["cpu_utilization_percent"] = cpu;
  if (o_.verbose) {
    // iperf3 -V: once per direction with --bidir, this side as sender first
    double rt = peer ? peer->cpu_total : 0.0, ru = peer ? peer->cpu_user : 0.0, rs = peer ? peer->cpu_system : 0.0;
    for (bool local_sender : bidir() ? std::vector<bool>{true, false} : std::vector<bool>{any_sender()})
      emit(cpu_utilization_line(local_sender, mine.cpu_total, mine.cpu_user, mine.cpu_system, rt, ru, rs));
  }
  if (!p_.udp) {
    std::string mine_cc = mine.congestion_used, peer_cc = peer ? peer->congestion_used : std::string();
    bool we_send = any_sender();
    end["sender_tcp_congestion"] = we_send ? mine_cc : peer_cc;
    end["receiver_tcp_congestion"] = we_send ? peer_cc : mine_cc;
    if (o_.verbose) {
      std::string snd = we_send ? mine_cc : peer_cc, rcv = we_send ? peer_cc : mine_cc;
      if (!snd.empty()) emit("snd_tcp_congestion " + snd);
      if (!rcv.empty()) emit("rcv_tcp_congestion " + rcv);
    }
  }
  return end;
}

Json Test::test_start_json() const {
  Json t;
  t["protocol"] = p_.udp ? "UDP" : "TCP";
  t["num_streams"] = p_.parallel;
  t["blksize"] = p_.len;
  t["omit"] = p_.omit;
  t["duration"] = p_.time;
  t["bytes"] = p_.num;
  t["blocks"] = p_.blockcount;
  t["reverse"] = p_.reverse ? 1 : 0;
  t["tos"] = p_.tos;
  t["target_bitrate"] = p_.bandwidth;
  t["bidir"] = p_.bidirectional ? 1 : 0;
  t["fqrate"] = 0;
  return t;
}

void Test::emit_event(const char* event, const Json& data) {
  std::string line = json_event_line(event, data);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Test::print_start() {
  if (o_.verbose && !json_) {
    std::string what = p_.num > 0         ? std::to_string(p_.num) + " bytes to send"
                       : p_.blockcount > 0 ? std::to_string(p_.blockcount) + " blocks to send"
                                           : std::to_string(int(p_.time)) + " second test";
    emit(std::string("Starting Test: protocol: ") + (p_.udp ? "UDP" : "TCP") + ", " + std::to_string(p_.parallel) +
         " streams, " + std::to_string(p_.len) + " byte blocks, omitting " + std::to_string(p_.omit) +
         " seconds, " + what + ", tos " + std::to_string(p_.tos));
  }
  if (o_.json_stream && !start_sent_) {
    start_sent_ = true;
    emit_event("start", jstart_);
  }
}

void Test::print_json(const Json& end) {
  if (o_.json_stream) {
    // --json-stream: what has not gone out yet, one line each
    if (!start_sent_) {
      start_sent_ = true;
      emit_event("start", jstart_);
    }
    if (!error_.empty()) emit_event("error", Json(error_));
    emit_event("end", end.is_null() ? Json::object() : end);
    return;
  }
  Json doc;
  doc["start"] = jstart_;
  doc["intervals"] = jintervals_;
  doc["end"] = end.is_null() ? Json::object() : end;
  if (!error_.empty()) doc["error"] = error_;
  std::string s = doc.dump(1, '\t');
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace netshoot::applet::perf
