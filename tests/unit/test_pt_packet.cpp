// The packet decoder's combinational core (decode_packet), IP reconstruction (LastIp), the PSB
// search, the errata table and the time tracker, on hand-made bytes; then decode_packet against
// libipt 2.0.5's packet decoder (the installed library) on a million biased random streams, each
// in a heap buffer of exactly `avail` bytes so that a read past it is caught under ASan.
#include <gtest/gtest.h>

#include <intel-pt.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "xtu/model/pt_errata.hpp"
#include "xtu/model/pt_packet.hpp"
#include "xtu/model/pt_time.hpp"
#include "xtu/model/ptdump_format.hpp"

namespace {

using namespace xtu::model;
using Bytes = std::vector<uint8_t>;

// Decodes `b` from a heap copy of exactly b.size() bytes (ASan sees any read past it).
int decode(const Bytes& b, Packet& p, DecodeErrata e = {}) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[b.size() ? b.size() : 1]);
  if (!b.empty()) std::memcpy(buf.get(), b.data(), b.size());
  return decode_packet(b.empty() ? nullptr : buf.get(), b.size(), p, e);
}

Packet decoded(const Bytes& b, int expect_size) {
  Packet p;
  EXPECT_EQ(decode(b, p), expect_size);
  EXPECT_EQ(p.size, expect_size);
  return p;
}

const Bytes kPsb = {0x02, 0x82, 0x02, 0x82, 0x02, 0x82, 0x02, 0x82,
                    0x02, 0x82, 0x02, 0x82, 0x02, 0x82, 0x02, 0x82};

// ------------------------------------------------------------------------------------------
// Each packet type.

TEST(DecodePacket, SimplePackets) {
  EXPECT_EQ(decoded({0x00}, 1).type, PktType::kPad);
  EXPECT_EQ(decoded(kPsb, 16).type, PktType::kPsb);
  EXPECT_EQ(decoded({0x02, 0x23}, 2).type, PktType::kPsbend);
  EXPECT_EQ(decoded({0x02, 0xf3}, 2).type, PktType::kOvf);
  EXPECT_EQ(decoded({0x02, 0x83}, 2).type, PktType::kStop);
  Packet p = decoded({0x02, 0x62}, 2);
  EXPECT_EQ(p.type, PktType::kExstop);
  EXPECT_FALSE(p.exstop_ip);
  EXPECT_TRUE(decoded({0x02, 0xe2}, 2).exstop_ip);
}

TEST(DecodePacket, PayloadPackets) {
  Packet p = decoded({0x99, 0x01}, 2);
  EXPECT_EQ(p.type, PktType::kModeExec);
  EXPECT_TRUE(p.csl);
  EXPECT_FALSE(p.csd);
  p = decoded({0x99, 0x02}, 2);
  EXPECT_TRUE(p.csd);
  EXPECT_FALSE(p.csl);
  p = decoded({0x99, 0x23}, 2);
  EXPECT_EQ(p.type, PktType::kModeTsx);
  EXPECT_TRUE(p.intx);
  EXPECT_TRUE(p.abrt);

  p = decoded({0x02, 0x43, 0xfb, 0xfa, 0x0a, 0x00, 0x00, 0x00}, 8);  // PIP cr3=0xafafa0, nr
  EXPECT_EQ(p.type, PktType::kPip);
  EXPECT_EQ(p.cr3, 0xafafa0u);
  EXPECT_TRUE(p.nr);
  p = decoded({0x02, 0xc8, 0xcd, 0xab, 0x00, 0x00, 0x00}, 7);
  EXPECT_EQ(p.type, PktType::kVmcs);
  EXPECT_EQ(p.vmcs, 0xabcd000u);
  p = decoded({0x02, 0x03, 0x24, 0x00}, 4);
  EXPECT_EQ(p.type, PktType::kCbr);
  EXPECT_EQ(p.cbr, 0x24);
  p = decoded({0x19, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, 0x80}, 8);
  EXPECT_EQ(p.type, PktType::kTsc);
  EXPECT_EQ(p.tsc, 0x80000000012345u);
  p = decoded({0x02, 0x73, 0x12, 0x34, 0x00, 0xff, 0x01}, 7);
  EXPECT_EQ(p.type, PktType::kTma);
  EXPECT_EQ(p.tma_ctc, 0x3412);
  EXPECT_EQ(p.tma_fc, 0x1ff);
  p = decoded({0x59, 0x94}, 2);
  EXPECT_EQ(p.type, PktType::kMtc);
  EXPECT_EQ(p.mtc_ctc, 0x94);
  p = decoded({0x02, 0xc3, 0x88, 1, 2, 3, 4, 5, 6, 7, 8}, 11);
  EXPECT_EQ(p.type, PktType::kMnt);
  EXPECT_EQ(p.mnt, 0x0807060504030201u);
  p = decoded({0x02, 0xc2, 0x0b, 0, 0, 0, 1, 0, 0, 0}, 10);
  EXPECT_EQ(p.type, PktType::kMwait);
  EXPECT_EQ(p.mwait_hints, 0xbu);
  EXPECT_EQ(p.mwait_ext, 1u);
  p = decoded({0x02, 0x22, 0x08, 0x21}, 4);
  EXPECT_EQ(p.type, PktType::kPwre);
  EXPECT_TRUE(p.pwre_hw);
  EXPECT_EQ(p.pwre_state, 2);
  EXPECT_EQ(p.pwre_sub_state, 1);
  p = decoded({0x02, 0xa2, 0x52, 0x04, 0, 0, 0}, 7);
  EXPECT_EQ(p.type, PktType::kPwrx);
  EXPECT_EQ(p.pwrx_last, 5);
  EXPECT_EQ(p.pwrx_deepest, 2);
  EXPECT_TRUE(p.pwrx_store);
  EXPECT_FALSE(p.pwrx_interrupt || p.pwrx_autonomous);
  p = decoded({0x02, 0x92, 0xef, 0xcd, 0xab, 0x90}, 6);
  EXPECT_EQ(p.type, PktType::kPtw);
  EXPECT_EQ(p.ptw_plc, 0);
  EXPECT_EQ(p.ptw, 0x90abcdefu);
  EXPECT_TRUE(p.ptw_ip);
  p = decoded({0x02, 0x32, 1, 2, 3, 4, 5, 6, 7, 8}, 10);
  EXPECT_EQ(p.ptw_plc, 1);
  EXPECT_EQ(p.ptw, 0x0807060504030201u);
  EXPECT_FALSE(p.ptw_ip);
}

TEST(DecodePacket, Cyc) {
  Packet p = decoded({0x1b}, 1);  // 00011 0 11: value 3, no extension
  EXPECT_EQ(p.type, PktType::kCyc);
  EXPECT_EQ(p.cyc, 3u);
  p = decoded({0xf7, 0x02}, 2);  // 11110 1 11, then 0000001 0: 0x1e | 1 << 5
  EXPECT_EQ(p.cyc, 0x3eu);
  // The longest CYC: 8 extension bytes (5 + 8*7 = 61 bits).
  p = decoded({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, 9);
  EXPECT_EQ(p.cyc, (uint64_t{1} << 61) - 1);
  // A 9th extension byte would need more than 64 bits.
  Packet q;
  EXPECT_EQ(decode({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, q), kDecodeBadPacket);
}

// ------------------------------------------------------------------------------------------
// IP packets: every opcode with every IP compression.

TEST(DecodePacket, IpPacketsEveryCompression) {
  const struct { uint8_t opc; PktType type; } kinds[] = {
      {0x1d, PktType::kFup}, {0x0d, PktType::kTip}, {0x11, PktType::kTipPge}, {0x01, PktType::kTipPgd}};
  const Bytes payload = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  for (const auto& k : kinds) {
    for (uint8_t ipc = 0; ipc < 8; ++ipc) {
      const int n = ip_payload_size(ipc);
      Bytes b = {uint8_t(k.opc | (ipc << 5))};
      b.insert(b.end(), payload.begin(), payload.begin() + (n < 0 ? 0 : n));
      Packet p;
      if (n < 0) {
        EXPECT_EQ(decode(b, p), kDecodeBadPacket) << int(ipc);
        continue;
      }
      ASSERT_EQ(decode(b, p), 1 + n) << int(ipc);
      EXPECT_EQ(p.type, k.type);
      EXPECT_EQ(p.ipc, ipc);
      uint64_t want = 0;
      for (int i = 0; i < n; ++i) want |= uint64_t{payload[size_t(i)]} << (8 * i);
      EXPECT_EQ(p.ip, want);
    }
  }
  EXPECT_EQ(ip_payload_size(kIpcSuppressed), 0);
  EXPECT_EQ(ip_payload_size(kIpcUpdate16), 2);
  EXPECT_EQ(ip_payload_size(kIpcUpdate32), 4);
  EXPECT_EQ(ip_payload_size(kIpcSext48), 6);
  EXPECT_EQ(ip_payload_size(kIpcUpdate48), 6);
  EXPECT_EQ(ip_payload_size(kIpcFull), 8);
}

TEST(LastIp, CompressionForms) {
  LastIp l;
  uint64_t ip = 1;
  EXPECT_EQ(l.query(&ip), LastIp::kNoIp);
  EXPECT_EQ(ip, 0u);
  // Suppressed before any IP: still no IP.
  l.update(kIpcSuppressed, 0);
  EXPECT_EQ(l.query(&ip), LastIp::kNoIp);
  l.update(kIpcFull, 0x0a00ccccddddeeee);
  EXPECT_EQ(l.query(&ip), LastIp::kOk);
  EXPECT_EQ(ip, 0x0a00ccccddddeeeeu);
  l.update(kIpcUpdate48, 0xffffeeeeffff);
  l.query(&ip);
  EXPECT_EQ(ip, 0x0a00ffffeeeeffffu);
  l.update(kIpcUpdate16, 0xdddd);
  l.query(&ip);
  EXPECT_EQ(ip, 0x0a00ffffeeeeddddu);
  l.update(kIpcUpdate32, 0x12345678);
  l.query(&ip);
  EXPECT_EQ(ip, 0x0a00ffff12345678u);
  // sext-48: bit 47 set → upper bits all ones; clear → zeros.
  l.update(kIpcSext48, 0xffffddddeeee);
  l.query(&ip);
  EXPECT_EQ(ip, 0xffffffffddddeeeeu);
  l.update(kIpcSext48, 0x7fffddddeeee);
  l.query(&ip);
  EXPECT_EQ(ip, 0x00007fffddddeeeeu);
  // Suppressed: reported as such; the last IP is kept for later updates.
  l.update(kIpcSuppressed, 0);
  EXPECT_EQ(l.query(&ip), LastIp::kSuppressed);
  EXPECT_EQ(ip, 0u);
  l.update(kIpcUpdate16, 0x1111);
  EXPECT_EQ(l.query(&ip), LastIp::kOk);
  EXPECT_EQ(ip, 0x00007fffdddd1111u);
  // Reserved compressions change nothing.
  EXPECT_FALSE(l.update(5, 0));
  EXPECT_FALSE(l.update(7, 0));
  l.query(&ip);
  EXPECT_EQ(ip, 0x00007fffdddd1111u);
  // PSB: reset.
  l.reset();
  EXPECT_EQ(l.query(&ip), LastIp::kNoIp);
  l.update(kIpcUpdate16, 0x1234);
  l.query(&ip);
  EXPECT_EQ(ip, 0x1234u);  // an update form after a reset builds on 0
}

// ------------------------------------------------------------------------------------------
// TNT bit order: the oldest branch is the highest bit below the stop bit.

TEST(DecodePacket, Tnt8BitOrder) {
  // TNT-8 is [stop bit + branch bits : 7][0]. Payload 0b0110100: the stop bit is bit 5, the
  // branches below it (oldest first) are 1,0,1,0,0.
  Packet p = decoded({uint8_t(0b0110100 << 1)}, 1);
  EXPECT_EQ(p.type, PktType::kTnt8);
  EXPECT_EQ(p.tnt_bits, 5);
  EXPECT_EQ(p.tnt, 0b10100u);
  // One branch, taken / not taken.
  p = decoded({0x06}, 1);  // payload 0b11: stop + taken
  EXPECT_EQ(p.tnt_bits, 1);
  EXPECT_EQ(p.tnt, 1u);
  p = decoded({0x04}, 1);  // payload 0b10: stop + not taken
  EXPECT_EQ(p.tnt_bits, 1);
  EXPECT_EQ(p.tnt, 0u);
  // Six branches: the most a TNT-8 holds.
  p = decoded({0xfe}, 1);
  EXPECT_EQ(p.tnt_bits, 6);
  EXPECT_EQ(p.tnt, 0x3fu);
  // And ptdump prints them oldest first.
  PtdumpOptions o;
  o.show_offset = false;
  PtdumpFormatter f(o);
  std::vector<std::string> lines;
  const Bytes b = {uint8_t(0b0110100 << 1)};
  f.packet(0, decoded(b, 1), b.data(), 1, lines);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "tnt.8      !.!..");
}

TEST(DecodePacket, Tnt64BitOrder) {
  // 47 branches: stop bit at bit 47 of the 48-bit payload.
  Packet p = decoded({0x02, 0xa3, 0xcd, 0x24, 0x93, 0x4c, 0x32, 0xc9}, 8);
  EXPECT_EQ(p.type, PktType::kTnt64);
  EXPECT_EQ(p.tnt_bits, 47);
  EXPECT_EQ(p.tnt, 0x49324c9324cdu);
  // One branch.
  p = decoded({0x02, 0xa3, 0x03, 0, 0, 0, 0, 0}, 8);
  EXPECT_EQ(p.tnt_bits, 1);
  EXPECT_EQ(p.tnt, 1u);
  // No stop bit: malformed.
  Packet q;
  EXPECT_EQ(decode({0x02, 0xa3, 0, 0, 0, 0, 0, 0}, q), kDecodeBadPacket);
}

// ------------------------------------------------------------------------------------------
// Truncation: every proper prefix of every packet is "too short to tell" (0).

TEST(DecodePacket, TruncatedAtEveryLength) {
  const std::vector<Bytes> packets = {
      kPsb,
      {0x02, 0x23},
      {0x02, 0xf3},
      {0x02, 0x83},
      {0x02, 0xe2},
      {0x99, 0x01},
      {0x59, 0x94},
      {0x19, 1, 2, 3, 4, 5, 6, 7},
      {0x02, 0x03, 0x24, 0x00},
      {0x02, 0x73, 0x12, 0x34, 0x00, 0xff, 0x01},
      {0x02, 0x43, 0xfb, 0xfa, 0x0a, 0, 0, 0},
      {0x02, 0xc8, 0xcd, 0xab, 0, 0, 0},
      {0x02, 0xa3, 0xcd, 0x24, 0x93, 0x4c, 0x32, 0xc9},
      {0x02, 0xc3, 0x88, 1, 2, 3, 4, 5, 6, 7, 8},
      {0x02, 0xc2, 0x0b, 0, 0, 0, 1, 0, 0, 0},
      {0x02, 0x22, 0x08, 0x21},
      {0x02, 0xa2, 0x52, 0x04, 0, 0, 0},
      {0x02, 0x92, 0xef, 0xcd, 0xab, 0x90},
      {0x02, 0x32, 1, 2, 3, 4, 5, 6, 7, 8},
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe},
      {0xf7, 0x02},
      {0x3d, 0x05, 0x10},
      {0x5d, 1, 2, 3, 4},
      {0x7d, 1, 2, 3, 4, 5, 6},
      {0x8d, 1, 2, 3, 4, 5, 6},
      {0xd1, 1, 2, 3, 4, 5, 6, 7, 8},
  };
  for (const Bytes& b : packets) {
    Packet p;
    ASSERT_EQ(decode(b, p), int(b.size())) << "full packet " << int(b[0]) << "," << int(b.size() > 1 ? b[1] : 0);
    for (size_t n = 0; n < b.size(); ++n) {
      const Bytes prefix(b.begin(), b.begin() + long(n));
      EXPECT_EQ(decode(prefix, p), 0) << "prefix of " << n << " bytes of packet " << int(b[0]) << ","
                                      << int(b.size() > 1 ? b[1] : 0);
      EXPECT_EQ(p.size, 0);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Unknown opcodes and malformed packets.

TEST(DecodePacket, UnknownOpcodes) {
  Packet p;
  // One-byte opcodes: xxxxxx01 that is no IP packet, MODE, MTC or TSC.
  int unknown = 0;
  for (unsigned b = 0; b < 256; ++b) {
    if (b == 0x02) continue;  // the extended opcodes: below
    Bytes bytes(16, 0);
    bytes[0] = uint8_t(b);
    const int r = decode(bytes, p);
    const bool ip = (b & 0x1f) == 0x1d || (b & 0x1f) == 0x0d || (b & 0x1f) == 0x11 || (b & 0x1f) == 0x01;
    const bool known = b == 0x00 || b == 0x02 || b == 0x99 || b == 0x59 || b == 0x19 || (b & 3) == 3 ||
                       (b & 1) == 0 || ip;
    if (!known) {
      EXPECT_EQ(r, kDecodeUnknownOpcode) << b;
      ++unknown;
    } else {
      EXPECT_NE(r, kDecodeUnknownOpcode) << b;
    }
  }
  EXPECT_EQ(unknown, 64 - 32 - 3);  // of the xxxxxx01 bytes: not IP packets, not TSC/MTC/MODE
  EXPECT_EQ(decode({0xd9, 0x00}, p), kDecodeUnknownOpcode);
  // Extended opcodes.
  const uint8_t known_ext[] = {0x82, 0x23, 0xf3, 0x83, 0x03, 0x73, 0x43, 0xc8, 0x62, 0xe2,
                               0xc2, 0x22, 0xa2, 0xa3, 0xc3};
  for (unsigned e = 0; e < 256; ++e) {
    Bytes bytes(16, 0);
    bytes[0] = 0x02;
    bytes[1] = uint8_t(e);
    const bool known = std::find(std::begin(known_ext), std::end(known_ext), e) != std::end(known_ext) ||
                       (e & 0x1f) == 0x12;
    const int r = decode(bytes, p);
    if (e == 0xc3) {
      EXPECT_EQ(r, kDecodeUnknownOpcode);  // 02 c3 00: no such ext2 opcode
    } else if (known) {
      EXPECT_NE(r, kDecodeUnknownOpcode) << e;
    } else {
      EXPECT_EQ(r, kDecodeUnknownOpcode) << e;
    }
  }
}

TEST(DecodePacket, BadPackets) {
  Packet p;
  EXPECT_EQ(decode({0x99, 0x40}, p), kDecodeBadPacket);          // MODE leaf 2
  EXPECT_EQ(decode({0xbd, 0, 0, 0, 0, 0, 0, 0, 0}, p), kDecodeBadPacket);  // FUP ipc 5
  EXPECT_EQ(decode({0xed}, p), kDecodeBadPacket);                // TIP ipc 7: known at byte 1
  EXPECT_EQ(decode({0x02, 0x52}, p), kDecodeBadPacket);          // PTW plc 2
  EXPECT_EQ(decode({0x02, 0x72}, p), kDecodeBadPacket);          // PTW plc 3
  EXPECT_EQ(decode({0x02, 0x73, 0x01, 0x01, 0x01, 0x01, 0x00}, p), kDecodeBadPacket);  // TMA reserved byte
  EXPECT_EQ(decode({0x02, 0x73, 0x01, 0x01, 0x00, 0x01, 0x40}, p), kDecodeBadPacket);  // TMA FC bit 14
  Bytes psb = kPsb;
  psb[15] = 0x83;
  EXPECT_EQ(decode(psb, p), kDecodeBadPacket);
  // SKZ84: the bad TMA becomes an 8-byte <invalid> packet.
  DecodeErrata skz84;
  skz84.skz84 = true;
  EXPECT_EQ(decode({0x02, 0x73, 0x01, 0x01, 0x01, 0x01, 0x00, 0x3d}, p, skz84), 8);
  EXPECT_EQ(p.type, PktType::kInvalid);
  EXPECT_EQ(decode({0x02, 0x73, 0x01, 0x01, 0x00, 0x01, 0x00}, p, skz84), 7);  // a good TMA stays
  EXPECT_EQ(p.type, PktType::kTma);
}

// ------------------------------------------------------------------------------------------
// PSB detection and the synchronisation search.

TEST(Psb, Detection) {
  EXPECT_TRUE(is_psb(kPsb.data(), kPsb.size()));
  EXPECT_FALSE(is_psb(kPsb.data(), 15));
  for (size_t i = 0; i < kPsb.size(); ++i) {
    Bytes b = kPsb;
    b[i] ^= 0x10;
    EXPECT_FALSE(is_psb(b.data(), b.size())) << i;
  }
}

TEST(Psb, SearchForward) {
  // A PSB at every offset 0..23 in a buffer of pads is found from 0 and from its own offset.
  for (size_t at = 0; at < 24; ++at) {
    Bytes b(48, 0);
    std::copy(kPsb.begin(), kPsb.end(), b.begin() + long(at));
    EXPECT_EQ(psb_search_forward(b.data(), b.size(), 0), int64_t(at)) << at;
    EXPECT_EQ(psb_search_forward(b.data(), b.size(), at), int64_t(at)) << at;
    EXPECT_EQ(psb_search_forward(b.data(), b.size(), at + 1), -1) << at;
  }
  // None at all, and a partial one at the end.
  Bytes none(64, 0);
  EXPECT_EQ(psb_search_forward(none.data(), none.size(), 0), -1);
  Bytes partial(40, 0);
  std::copy(kPsb.begin(), kPsb.begin() + 14, partial.begin() + 26);
  EXPECT_EQ(psb_search_forward(partial.data(), partial.size(), 0), -1);
  // Two PSBs: the search from past the first finds the second.
  Bytes two(64, 0);
  std::copy(kPsb.begin(), kPsb.end(), two.begin() + 3);
  std::copy(kPsb.begin(), kPsb.end(), two.begin() + 37);
  EXPECT_EQ(psb_search_forward(two.data(), two.size(), 0), 3);
  EXPECT_EQ(psb_search_forward(two.data(), two.size(), 4), 37);
  // libipt's choice in a longer run of 02 82 pairs: the PSB that ends where the run ends.
  Bytes run(40, 0);
  for (size_t i = 0; i < 24; i += 2) {
    run[i] = 0x02;
    run[i + 1] = 0x82;
  }
  EXPECT_EQ(psb_search_forward(run.data(), run.size(), 0), 8);
}

// ------------------------------------------------------------------------------------------
// Errata: the same CPU table as libipt 2.0.5's pt_cpu_errata, for every family/model.

TEST(Errata, SameTableAsLibipt) {
  for (unsigned f = 0; f < 256; ++f) {
    for (unsigned m = 0; m < 256; ++m) {
      pt_cpu cpu;
      std::memset(&cpu, 0, sizeof cpu);
      cpu.vendor = pcv_intel;
      cpu.family = uint16_t(f);
      cpu.model = uint8_t(m);
      pt_errata e;
      std::memset(&e, 0, sizeof e);
      const bool known = pt_cpu_errata(&e, &cpu) >= 0;
      CpuErrata mine;
      ASSERT_EQ(cpu_errata(f, m, mine), known) << f << "/" << m;
      if (!known) continue;
      EXPECT_EQ(mine.bdm70, bool(e.bdm70)) << f << "/" << m;
      EXPECT_EQ(mine.bdm64, bool(e.bdm64)) << f << "/" << m;
      EXPECT_EQ(mine.skd007, bool(e.skd007)) << f << "/" << m;
      EXPECT_EQ(mine.skd022, bool(e.skd022)) << f << "/" << m;
      EXPECT_EQ(mine.skd010, bool(e.skd010)) << f << "/" << m;
      EXPECT_EQ(mine.skl014, bool(e.skl014)) << f << "/" << m;
      EXPECT_EQ(mine.apl12, bool(e.apl12)) << f << "/" << m;
      EXPECT_EQ(mine.apl11, bool(e.apl11)) << f << "/" << m;
      EXPECT_EQ(mine.skl168, bool(e.skl168)) << f << "/" << m;
      EXPECT_EQ(mine.skz84, bool(e.skz84)) << f << "/" << m;
    }
  }
}

// ------------------------------------------------------------------------------------------
// Time tracking on its own.

TEST(Time, TscTmaMtc) {
  TimeConfig cfg;
  cfg.mtc_freq = 0;
  cfg.cpuid_15_eax = 1;
  cfg.cpuid_15_ebx = 1;
  TimeTracker t;
  uint64_t tsc = 0;
  EXPECT_EQ(t.query_tsc(&tsc), TimeStatus::kNoTime);
  EXPECT_EQ(t.update_tma(0x10, 1, cfg), TimeStatus::kBadContext);  // no TSC yet
  EXPECT_EQ(t.update_tsc(0xa0000), TimeStatus::kOk);
  EXPECT_EQ(t.update_tma(0xff08, 1, cfg), TimeStatus::kOk);
  EXPECT_EQ(t.update_tma(0xff08, 1, cfg), TimeStatus::kBadContext);  // one TMA per TSC
  t.query_tsc(&tsc);
  EXPECT_EQ(tsc, 0xa0000u);
  t.update_mtc(0x09, cfg);  // CTC 0x09 after the TMA's 0x08: one tick, minus the TMA's FC
  t.query_tsc(&tsc);
  EXPECT_EQ(tsc, 0xa0000u);
  t.update_mtc(0x0a, cfg);
  t.query_tsc(&tsc);
  EXPECT_EQ(tsc, 0xa0001u);
  // The CTC wraps once at 2^(mtc_freq+8).
  t.update_mtc(0x01, cfg);
  t.query_tsc(&tsc);
  EXPECT_EQ(tsc, 0xa0001u + 0xf7u);
  EXPECT_EQ(t.update_cbr(0), TimeStatus::kBadPacket);
  // Without the CTC ratio an MTC cannot be converted.
  TimeConfig bad = cfg;
  bad.cpuid_15_eax = 0;
  EXPECT_EQ(t.update_mtc(0x02, bad), TimeStatus::kBadConfig);
}

TEST(Time, CycWithCbrCalibration) {
  TimeConfig cfg;
  cfg.nom_freq = 4;
  TimeCalibration cal;
  TimeTracker t;
  uint64_t fcr = 0;
  EXPECT_EQ(cal.fcr(&fcr), TimeStatus::kNoTime);
  cal.update_cbr(2, /*in_header=*/true, cfg);  // P1/CBR = 2 TSC ticks per cycle
  ASSERT_EQ(cal.fcr(&fcr), TimeStatus::kOk);
  EXPECT_EQ(fcr, 2u << kFcrShift);
  t.update_tsc(0x1000);
  t.update_cyc(3, cfg, fcr);
  uint64_t tsc = 0;
  t.query_tsc(&tsc);
  EXPECT_EQ(tsc, 0x1006u);
  t.update_cyc(0, cfg, 0);  // no calibration: lost
  EXPECT_EQ(t.lost_cyc(), 1u);
}

// ------------------------------------------------------------------------------------------
// The driver loop's edge cases.

std::vector<std::string> listing(const Bytes& trace, const std::vector<std::string>& args = {}) {
  return ptdump_listing(trace, parse_ptdump_options(args));
}

TEST(PtdumpListing, NoPsbNothingListed) {
  EXPECT_TRUE(listing(Bytes(100, 0)).empty());
  EXPECT_TRUE(listing({}).empty());
  // --no-sync lists from offset 0.
  const auto l = listing({0x00, 0x00}, {"--no-sync", "--no-offset"});
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "pad");
}

TEST(PtdumpListing, TruncatedPacketEndsSilently) {
  Bytes t = kPsb;
  t.insert(t.end(), {0x02, 0x23, 0x19, 1, 2, 3});  // PSB, PSBEND, a TSC cut short
  const auto l = listing(t, {"--no-offset"});
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1], "psbend");
}

TEST(PtdumpListing, ErrorThenResyncAtNextPsb) {
  Bytes t = kPsb;
  t.insert(t.end(), {0x02, 0x23, 0xd9, 0x00, 0x00});  // unknown opcode at 0x12
  t.insert(t.end(), kPsb.begin(), kPsb.end());          // PSB at 0x15
  t.insert(t.end(), {0x02, 0x23});
  const auto l = listing(t);
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[2], "[12: error decoding packet: unknown opcode]");
  EXPECT_EQ(l[3], "0000000000000015  psb");
  // A bad packet, then nothing more: the listing ends.
  Bytes u = kPsb;
  u.insert(u.end(), {0x99, 0xe0});
  const auto m = listing(u);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1], "[10: error decoding packet: unknown packet]");
}

TEST(PtdumpListing, UnknownCpuLine) {
  Bytes t = kPsb;
  const auto l = listing(t, {"--cpu", "6/1"});
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "[0: failed to determine errata: unknown cpu]");
  EXPECT_EQ(listing(t, {"--cpu", "6/78"}).size(), 1u);
  EXPECT_THROW(parse_ptdump_options({"--cpu", "x"}), std::invalid_argument);
  EXPECT_THROW(parse_ptdump_options({"--bogus"}), std::invalid_argument);
  EXPECT_THROW(parse_ptdump_options({"--time", "--tcal"}), std::invalid_argument);
}

// ------------------------------------------------------------------------------------------
// decode_packet against libipt 2.0.5's packet decoder, and the window bound.

// A random stream biased toward valid opcodes, lengths around the packet sizes and PSB runs.
Bytes random_stream(std::mt19937_64& rng) {
  static const uint8_t first[] = {0x00, 0x02, 0x99, 0x59, 0x19, 0x1d, 0x0d, 0x11, 0x01, 0x3d,
                                  0x5d, 0x7d, 0x9d, 0xbd, 0xdd, 0xfd, 0xcd, 0xf1, 0x03, 0x07,
                                  0xff, 0xfb, 0xd9, 0x06, 0xfe, 0x04};
  static const uint8_t ext[] = {0x82, 0x23, 0xf3, 0x83, 0x03, 0x73, 0x43, 0xc8, 0x62, 0xe2, 0xc2,
                                0x22, 0xa2, 0xa3, 0xc3, 0x12, 0x32, 0x52, 0x72, 0x92, 0xb2, 0xd2,
                                0xf2, 0x13, 0x53, 0x00, 0xff};
  auto pick = [&](size_t n) { return size_t(rng() % n); };
  const size_t len = pick(21);
  Bytes b(len);
  for (auto& x : b) x = uint8_t(rng());
  const int style = int(pick(8));
  if (style == 0) {  // PSB-like runs, sometimes broken
    for (size_t i = 0; i + 1 < len; i += 2) {
      b[i] = 0x02;
      b[i + 1] = 0x82;
    }
    if (len && pick(2)) b[pick(len)] = uint8_t(rng());
  } else if (style == 1) {  // sparse payloads (TNT-64 without stop bit, TMA reserved bits)
    for (auto& x : b) x = pick(4) ? 0 : uint8_t(rng());
  }
  if (len > 0 && style != 0 && pick(4)) b[0] = first[pick(sizeof first)];
  if (len > 1 && b[0] == 0x02 && pick(4)) b[1] = ext[pick(sizeof ext)];
  if (len > 2 && b[0] == 0x02 && b[1] == 0xc3 && pick(2)) b[2] = 0x88;
  if (len > 6 && b[0] == 0x02 && b[1] == 0x73 && pick(2)) {
    b[4] = pick(2) ? 0 : b[4];
    b[6] &= pick(2) ? 0x01 : 0xff;
  }
  return b;
}

// libipt's packet type as ours.
PktType libipt_type(const pt_packet& q) {
  switch (q.type) {
    case ppt_pad: return PktType::kPad;
    case ppt_psb: return PktType::kPsb;
    case ppt_psbend: return PktType::kPsbend;
    case ppt_fup: return PktType::kFup;
    case ppt_tip: return PktType::kTip;
    case ppt_tip_pge: return PktType::kTipPge;
    case ppt_tip_pgd: return PktType::kTipPgd;
    case ppt_tnt_8: return PktType::kTnt8;
    case ppt_tnt_64: return PktType::kTnt64;
    case ppt_mode: return q.payload.mode.leaf == pt_mol_exec ? PktType::kModeExec : PktType::kModeTsx;
    case ppt_pip: return PktType::kPip;
    case ppt_vmcs: return PktType::kVmcs;
    case ppt_cbr: return PktType::kCbr;
    case ppt_tsc: return PktType::kTsc;
    case ppt_tma: return PktType::kTma;
    case ppt_mtc: return PktType::kMtc;
    case ppt_cyc: return PktType::kCyc;
    case ppt_stop: return PktType::kStop;
    case ppt_ovf: return PktType::kOvf;
    case ppt_mnt: return PktType::kMnt;
    case ppt_exstop: return PktType::kExstop;
    case ppt_mwait: return PktType::kMwait;
    case ppt_pwre: return PktType::kPwre;
    case ppt_pwrx: return PktType::kPwrx;
    case ppt_ptw: return PktType::kPtw;
    default: return PktType::kInvalid;
  }
}

// Compares one libipt packet with ours; returns a description of the first difference.
std::string compare(const pt_packet& e, const Packet& p) {
  if (libipt_type(e) != p.type) return std::string("type ") + pkt_name(libipt_type(e)) + " vs " + pkt_name(p.type);
  if (e.size != p.size) return "size " + std::to_string(e.size) + " vs " + std::to_string(p.size);
  const auto& u = e.payload;
  bool same = true;
  switch (p.type) {
    case PktType::kFup: case PktType::kTip: case PktType::kTipPge: case PktType::kTipPgd:
      same = u.ip.ipc == p.ipc && u.ip.ip == p.ip; break;
    case PktType::kTnt8: case PktType::kTnt64:
      same = u.tnt.bit_size == p.tnt_bits && u.tnt.payload == p.tnt; break;
    case PktType::kModeExec: same = bool(u.mode.bits.exec.csl) == p.csl && bool(u.mode.bits.exec.csd) == p.csd; break;
    case PktType::kModeTsx: same = bool(u.mode.bits.tsx.intx) == p.intx && bool(u.mode.bits.tsx.abrt) == p.abrt; break;
    case PktType::kPip: same = u.pip.cr3 == p.cr3 && bool(u.pip.nr) == p.nr; break;
    case PktType::kVmcs: same = u.vmcs.base == p.vmcs; break;
    case PktType::kCbr: same = u.cbr.ratio == p.cbr; break;
    case PktType::kTsc: same = u.tsc.tsc == p.tsc; break;
    case PktType::kTma: same = u.tma.ctc == p.tma_ctc && u.tma.fc == p.tma_fc; break;
    case PktType::kMtc: same = u.mtc.ctc == p.mtc_ctc; break;
    case PktType::kCyc: same = u.cyc.value == p.cyc; break;
    case PktType::kMnt: same = u.mnt.payload == p.mnt; break;
    case PktType::kExstop: same = bool(u.exstop.ip) == p.exstop_ip; break;
    case PktType::kMwait: same = u.mwait.hints == p.mwait_hints && u.mwait.ext == p.mwait_ext; break;
    case PktType::kPwre:
      same = u.pwre.state == p.pwre_state && u.pwre.sub_state == p.pwre_sub_state && bool(u.pwre.hw) == p.pwre_hw;
      break;
    case PktType::kPwrx:
      same = u.pwrx.last == p.pwrx_last && u.pwrx.deepest == p.pwrx_deepest &&
             bool(u.pwrx.interrupt) == p.pwrx_interrupt && bool(u.pwrx.store) == p.pwrx_store &&
             bool(u.pwrx.autonomous) == p.pwrx_autonomous;
      break;
    case PktType::kPtw: same = u.ptw.plc == p.ptw_plc && u.ptw.payload == p.ptw && bool(u.ptw.ip) == p.ptw_ip; break;
    default: break;
  }
  return same ? "" : std::string("payload of ") + pkt_name(p.type);
}

std::string hex(const Bytes& b) {
  std::string s;
  char buf[4];
  for (uint8_t x : b) {
    std::snprintf(buf, sizeof buf, "%02x ", x);
    s += buf;
  }
  return s;
}

TEST(DecodePacketFuzz, SameAsLibiptAndWithinAvail) {
  std::mt19937_64 rng(20240611);
  const int kIterations = 1000000;
  int decoded_packets = 0;
  for (int it = 0; it < kIterations; ++it) {
    const Bytes b = random_stream(rng);
    const bool skz84 = (it & 1) != 0;
    DecodeErrata errata;
    errata.skz84 = skz84;
    Packet mine;
    const int r = decode(b, mine, errata);
    ASSERT_TRUE(r <= 0 || size_t(r) <= b.size() || (skz84 && mine.type == PktType::kInvalid)) << hex(b);
    if (b.empty()) {
      ASSERT_EQ(r, 0);
      continue;
    }
    // libipt on the same bytes.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[b.size()]);
    std::memcpy(buf.get(), b.data(), b.size());
    pt_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.size = sizeof cfg;
    cfg.begin = buf.get();
    cfg.end = buf.get() + b.size();
    cfg.errata.skz84 = skz84;
    pt_packet_decoder* dec = pt_pkt_alloc_decoder(&cfg);
    ASSERT_NE(dec, nullptr);
    ASSERT_EQ(pt_pkt_sync_set(dec, 0), 0);
    pt_packet e;
    const int lr = pt_pkt_next(dec, &e, sizeof e);
    pt_pkt_free_decoder(dec);
    if (lr == -pte_eos) {
      ASSERT_EQ(r, 0) << hex(b);
    } else if (lr == -pte_bad_opc) {
      ASSERT_EQ(r, kDecodeUnknownOpcode) << hex(b);
    } else if (lr == -pte_bad_packet) {
      ASSERT_EQ(r, kDecodeBadPacket) << hex(b);
    } else {
      ASSERT_GT(lr, 0) << hex(b);
      ASSERT_EQ(r, lr) << hex(b);
      ASSERT_EQ(compare(e, mine), "") << hex(b);
      ++decoded_packets;
    }
    // The result depends on the first kMaxPacketWindow bytes only.
    if (b.size() > kMaxPacketWindow) {
      Packet cut;
      const Bytes head(b.begin(), b.begin() + long(kMaxPacketWindow));
      ASSERT_EQ(decode(head, cut, errata), r) << hex(b);
      ASSERT_EQ(cut.size, mine.size);
    }
  }
  EXPECT_GT(decoded_packets, kIterations / 4);
}

// The driver's synchronisation against libipt's packet decoder driven like ptdump drives it
// (pt_pkt_sync_forward or, --no-sync, pt_pkt_sync_set(0); pt_pkt_next; resynchronisation after
// an error), on random traces full of
// PSBs, runs of PSB pattern and garbage: the same packets at the same offsets, the same errors.
std::vector<std::string> libipt_listing(const Bytes& t, bool skz84, bool no_sync) {
  std::vector<std::string> lines;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[t.size()]);
  std::memcpy(buf.get(), t.data(), t.size());
  pt_config cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.begin = buf.get();
  cfg.end = buf.get() + t.size();
  cfg.errata.skz84 = skz84;
  pt_packet_decoder* dec = pt_pkt_alloc_decoder(&cfg);
  if (!dec) return {"alloc failed"};
  char line[128];
  if ((no_sync ? pt_pkt_sync_set(dec, 0) : pt_pkt_sync_forward(dec)) >= 0) {
    for (;;) {
      for (;;) {
        uint64_t off = 0;
        pt_pkt_get_offset(dec, &off);
        pt_packet e;
        const int rc = pt_pkt_next(dec, &e, sizeof e);
        if (rc == -pte_eos) goto done;
        if (rc < 0) {
          std::snprintf(line, sizeof line, "[%" PRIx64 ": error decoding packet: %s]", off, pt_errstr(pt_errcode(rc)));
          lines.push_back(line);
          break;
        }
        std::snprintf(line, sizeof line, "%016" PRIx64 " %s", off, pkt_name(libipt_type(e)));
        lines.push_back(line);
      }
      const int rc = pt_pkt_sync_forward(dec);
      if (rc == -pte_eos) break;
      if (rc < 0) {
        lines.push_back("[0: sync error: " + std::string(pt_errstr(pt_errcode(rc))) + "]");
        break;
      }
    }
  }
done:
  pt_pkt_free_decoder(dec);
  return lines;
}

TEST(PtdumpListingFuzz, SameSyncAndResyncAsLibipt) {
  std::mt19937_64 rng(7);
  size_t errors = 0, packets = 0;
  for (int it = 0; it < 20000; ++it) {
    Bytes t;
    const size_t chunks = 1 + rng() % 24;
    for (size_t c = 0; c < chunks; ++c) {
      switch (rng() % 4) {
        case 0: t.insert(t.end(), kPsb.begin(), kPsb.end()); break;
        case 1: {  // a run of 02 82 pairs, maybe off by one byte
          const size_t n = rng() % 24;
          if (rng() % 2) t.push_back(0x82);
          for (size_t i = 0; i < n; ++i) { t.push_back(0x02); t.push_back(0x82); }
          break;
        }
        default: {
          const Bytes r = random_stream(rng);
          t.insert(t.end(), r.begin(), r.end());
        }
      }
    }
    if (t.empty()) continue;
    const bool skz84 = rng() % 2, no_sync = rng() % 4 == 0;
    const auto want = libipt_listing(t, skz84, no_sync);
    std::vector<std::string> args;
    if (skz84) args = {"--cpu", "6/85"};
    if (no_sync) args.push_back("--no-sync");
    auto got = ptdump_listing(t, parse_ptdump_options(args));
    // Our lines: keep the offset and the name of packet lines.
    for (auto& l : got)
      if (l[0] != '[') {
        const size_t sp = l.find_first_not_of(' ', l.find(' '));
        const size_t end = l.find(' ', sp);
        l = l.substr(0, 16) + " " + l.substr(sp, end == std::string::npos ? std::string::npos : end - sp);
      }
    ASSERT_EQ(got, want) << hex(t);
    for (const auto& l : want) (l[0] == '[' ? errors : packets) += 1;
  }
  EXPECT_GT(errors, 10000u);
  EXPECT_GT(packets, 100000u);
}

}  // namespace
