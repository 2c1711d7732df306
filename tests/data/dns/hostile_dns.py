#!/usr/bin/env python3
"""A hostile DNS server for the integration tests: the first label of the query
name picks the misbehaviour. Usage: hostile_dns.py LISTEN_ADDR OTHER_ADDR"""
import socket
import struct
import sys

listen, other = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((listen, 53))
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind((other, 53))


def question_end(q):
    i = 12
    while q[i] != 0:
        i += 1 + q[i]
    return i + 5


while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    qid = struct.unpack("!H", q[:2])[0]
    qend = question_end(q)
    question = q[12:qend]
    first = q[13:13 + q[12]].decode(errors="replace")
    hdr = lambda id_, rcode, an: struct.pack("!HHHHHH", id_, 0x8400 | rcode, 1, an, 0, 0)
    rr_a = lambda name: name + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 66])
    if first == "silent":
        continue
    if first == "servfail":
        s.sendto(hdr(qid, 2, 0) + question, peer)
    elif first == "loop":  # answer owner: a pointer to itself
        pos = 12 + len(question)
        s.sendto(hdr(qid, 0, 1) + question + rr_a(struct.pack("!H", 0xC000 | pos)), peer)
    elif first == "past":  # a pointer beyond the end of the message
        s.sendto(hdr(qid, 0, 1) + question + rr_a(struct.pack("!H", 0xC000 | 0x3FF0)), peer)
    elif first == "longlabel":  # a 64-octet label
        s.sendto(hdr(qid, 0, 1) + question + rr_a(bytes([64]) + b"x" * 64 + b"\x00"), peer)
    elif first == "trunc":  # an RR cut in the middle of its RDATA
        s.sendto((hdr(qid, 0, 1) + question + rr_a(b"\xc0\x0c"))[:-2], peer)
    elif first == "garbage":
        s.sendto(struct.pack("!H", qid) + b"\xff" * 5, peer)
    elif first == "wrongid":
        s.sendto(hdr((qid + 1) & 0xFFFF, 0, 1) + question + rr_a(b"\xc0\x0c"), peer)
    elif first == "wrongsrc":
        o.sendto(hdr(qid, 0, 1) + question + rr_a(b"\xc0\x0c"), peer)
    else:
        s.sendto(hdr(qid, 0, 1) + question + rr_a(b"\xc0\x0c"), peer)
