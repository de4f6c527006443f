// PtWriter: every packet it emits is read back with libipt. The unit tests decode with the
// packet decoder and check exact packet sequences and payloads (PSB+, MODE.Exec, IP compression,
// TNT packing, PSB insertion, loss windows, context switches, MTC/TMA, CYC, PAD, statistics);
// the randomized tests drive the writer with long sequences of legal calls and read the whole
// stream back with libipt's query decoder.
#include <gtest/gtest.h>

#include <intel-pt.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtu/capture/pt_writer.hpp"

using namespace xtu::capture;
using xtu::PtConfig;

namespace {

// ---------------------------------------------------------------- packet-level decoding

struct Decoded {
  uint64_t offset;
  int size;
  pt_packet pkt;
};

std::vector<Decoded> decode_all(const std::vector<uint8_t>& bytes) {
  std::vector<Decoded> out;
  if (bytes.empty()) return out;
  pt_config c;
  pt_config_init(&c);
  c.begin = const_cast<uint8_t*>(bytes.data());
  c.end = c.begin + bytes.size();
  pt_packet_decoder* d = pt_pkt_alloc_decoder(&c);
  if (!d) {
    ADD_FAILURE() << "pt_pkt_alloc_decoder failed";
    return out;
  }
  int r = pt_pkt_sync_set(d, 0);
  EXPECT_GE(r, 0) << pt_errstr(pt_errcode(r));
  for (;;) {
    uint64_t off = 0;
    pt_pkt_get_offset(d, &off);
    pt_packet p;
    int n = pt_pkt_next(d, &p, sizeof p);
    if (n == -pte_eos) break;
    if (n < 0) {
      ADD_FAILURE() << "pt_pkt_next at offset " << off << ": " << pt_errstr(pt_errcode(n));
      break;
    }
    out.push_back({off, n, p});
  }
  pt_pkt_free_decoder(d);
  return out;
}

// Packets starting at or after `from`.
std::vector<Decoded> decode_from(const std::vector<uint8_t>& bytes, uint64_t from) {
  std::vector<Decoded> all = decode_all(bytes), out;
  for (const Decoded& d : all)
    if (d.offset >= from) out.push_back(d);
  return out;
}

std::string name(const pt_packet& p) {
  switch (p.type) {
    case ppt_pad: return "pad";
    case ppt_psb: return "psb";
    case ppt_psbend: return "psbend";
    case ppt_fup: return "fup";
    case ppt_tip: return "tip";
    case ppt_tip_pge: return "tip.pge";
    case ppt_tip_pgd: return "tip.pgd";
    case ppt_tnt_8: return "tnt.8";
    case ppt_tnt_64: return "tnt.64";
    case ppt_mode: return p.payload.mode.leaf == pt_mol_exec ? "mode.exec" : "mode.other";
    case ppt_pip: return "pip";
    case ppt_vmcs: return "vmcs";
    case ppt_cbr: return "cbr";
    case ppt_tsc: return "tsc";
    case ppt_tma: return "tma";
    case ppt_mtc: return "mtc";
    case ppt_cyc: return "cyc";
    case ppt_ovf: return "ovf";
    default: return "other(" + std::to_string(static_cast<int>(p.type)) + ")";
  }
}

// "psb tsc cbr pip psbend": the packet types, space-separated (PADs left out unless asked).
std::string sig(const std::vector<Decoded>& v, bool with_pad = false) {
  std::string s;
  for (const Decoded& d : v) {
    if (d.pkt.type == ppt_pad && !with_pad) continue;
    if (!s.empty()) s += ' ';
    s += name(d.pkt);
  }
  return s;
}

std::vector<Decoded> only(const std::vector<Decoded>& v, pt_packet_type t) {
  std::vector<Decoded> out;
  for (const Decoded& d : v)
    if (d.pkt.type == t) out.push_back(d);
  return out;
}

bool is_ip_packet(pt_packet_type t) { return t == ppt_fup || t == ppt_tip || t == ppt_tip_pge || t == ppt_tip_pgd; }

// An IP packet with its address rebuilt by the last-IP rules (reset at PSB and OVF).
struct IpPacket {
  pt_packet_type type;
  pt_ip_compression ipc;
  int size;
  uint64_t ip;
  bool had_last_ip;  // whether a last IP existed to compress against
};

uint64_t sext48(uint64_t v) { return (v & (1ull << 47)) ? (v | 0xffff000000000000ull) : (v & 0xffffffffffffull); }

std::vector<IpPacket> ip_packets(const std::vector<Decoded>& v) {
  std::vector<IpPacket> out;
  uint64_t last = 0;
  bool have = false;
  for (const Decoded& d : v) {
    if (d.pkt.type == ppt_psb || d.pkt.type == ppt_ovf) have = false;
    if (!is_ip_packet(d.pkt.type)) continue;
    const pt_packet_ip& p = d.pkt.payload.ip;
    uint64_t ip = last;
    switch (p.ipc) {
      case pt_ipc_suppressed: break;
      case pt_ipc_update_16: ip = (last & ~0xffffull) | (p.ip & 0xffffull); break;
      case pt_ipc_update_32: ip = (last & ~0xffffffffull) | (p.ip & 0xffffffffull); break;
      case pt_ipc_update_48: ip = (last & ~0xffffffffffffull) | (p.ip & 0xffffffffffffull); break;
      case pt_ipc_sext_48: ip = sext48(p.ip); break;
      case pt_ipc_full: ip = p.ip; break;
    }
    out.push_back({d.pkt.type, p.ipc, d.size, ip, have});
    if (p.ipc != pt_ipc_suppressed) {
      last = ip;
      have = true;
    }
  }
  return out;
}

// Per-type packet counts and bytes as the decoder sees them, indexed like PtStats.
struct Counts {
  std::array<uint64_t, static_cast<size_t>(Pkt::count)> packets{}, bytes{};
  uint64_t tnt_bits = 0;
  uint64_t unmapped = 0;
};

Counts count(const std::vector<Decoded>& v) {
  Counts c;
  for (const Decoded& d : v) {
    Pkt k;
    switch (d.pkt.type) {
      case ppt_pad: k = Pkt::pad; break;
      case ppt_psb: k = Pkt::psb; break;
      case ppt_psbend: k = Pkt::psbend; break;
      case ppt_fup: k = Pkt::fup; break;
      case ppt_tip: k = Pkt::tip; break;
      case ppt_tip_pge: k = Pkt::tip_pge; break;
      case ppt_tip_pgd: k = Pkt::tip_pgd; break;
      case ppt_tnt_8: k = Pkt::tnt_8; break;
      case ppt_tnt_64: k = Pkt::tnt_64; break;
      case ppt_mode: k = Pkt::mode_exec; break;
      case ppt_pip: k = Pkt::pip; break;
      case ppt_vmcs: k = Pkt::vmcs; break;
      case ppt_cbr: k = Pkt::cbr; break;
      case ppt_tsc: k = Pkt::tsc; break;
      case ppt_tma: k = Pkt::tma; break;
      case ppt_mtc: k = Pkt::mtc; break;
      case ppt_cyc: k = Pkt::cyc; break;
      case ppt_ovf: k = Pkt::ovf; break;
      default: ++c.unmapped; continue;
    }
    ++c.packets[static_cast<size_t>(k)];
    c.bytes[static_cast<size_t>(k)] += static_cast<uint64_t>(d.size);
    if (k == Pkt::tnt_8 || k == Pkt::tnt_64) c.tnt_bits += d.pkt.payload.tnt.bit_size;
  }
  return c;
}

void expect_stats_match(const PtWriter& w) {
  Counts c = count(decode_all(w.bytes()));
  EXPECT_EQ(c.unmapped, 0u);
  for (size_t k = 0; k < static_cast<size_t>(Pkt::count); ++k) {
    EXPECT_EQ(w.stats().packets[k], c.packets[k]) << "packets of " << pkt_name(static_cast<Pkt>(k));
    EXPECT_EQ(w.stats().bytes[k], c.bytes[k]) << "bytes of " << pkt_name(static_cast<Pkt>(k));
  }
  EXPECT_EQ(w.stats().tnt_bits, c.tnt_bits);
  EXPECT_EQ(w.offset(), w.bytes().size());
}

// ---------------------------------------------------------------- configurations

constexpr uint64_t kCr3 = 0x12345000;   // PIP carries CR3[51:5]
constexpr uint64_t kVmcs = 0xabcde000;  // VMCS carries bits 51:12

PtConfig quiet_config() {
  PtConfig c;
  c.psb_period = 1u << 20;  // no PSB+ unless a test asks for one
  c.cbr = 31;
  c.nom_freq = 25;
  return c;
}

PtContext root_ctx() { return PtContext{kCr3, 0, false}; }

constexpr uint64_t kUser = 0x00007f1234567890ull;

// ---------------------------------------------------------------- start / PSB+

TEST(PtWriterStart, EmitsPsbPlusWithoutIp) {
  PtWriter w(quiet_config(), root_ctx());
  uint64_t tsc = w.tsc();
  w.start();
  std::vector<Decoded> v = decode_all(w.bytes());
  ASSERT_EQ(sig(v), "psb tsc cbr pip psbend");
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[0].size, 16);
  EXPECT_EQ(v[1].pkt.payload.tsc.tsc, tsc);
  EXPECT_EQ(v[2].pkt.payload.cbr.ratio, 31);
  EXPECT_EQ(v[3].pkt.payload.pip.cr3, kCr3);
  EXPECT_EQ(v[3].pkt.payload.pip.nr, 0u);
  EXPECT_FALSE(w.enabled());
  expect_stats_match(w);
}

TEST(PtWriterStart, PsbIsFoundBySyncForward) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  std::vector<uint8_t> b = w.bytes();
  b.insert(b.begin(), {0x55, 0x00, 0x00, 0x02});  // garbage before the PSB
  pt_config c;
  pt_config_init(&c);
  c.begin = b.data();
  c.end = b.data() + b.size();
  pt_packet_decoder* d = pt_pkt_alloc_decoder(&c);
  ASSERT_NE(d, nullptr);
  ASSERT_GE(pt_pkt_sync_forward(d), 0);
  uint64_t off = 0;
  pt_pkt_get_sync_offset(d, &off);
  EXPECT_EQ(off, 4u);
  pt_packet p;
  EXPECT_GT(pt_pkt_next(d, &p, sizeof p), 0);
  EXPECT_EQ(p.type, ppt_psb);
  pt_pkt_free_decoder(d);
}

TEST(PtWriterStart, NonRootContextAddsVmcsAndSetsNr) {
  PtWriter w(quiet_config(), PtContext{kCr3, kVmcs, true});
  w.start();
  std::vector<Decoded> v = decode_all(w.bytes());
  ASSERT_EQ(sig(v), "psb tsc cbr pip vmcs psbend");
  EXPECT_EQ(v[3].pkt.payload.pip.cr3, kCr3);
  EXPECT_EQ(v[3].pkt.payload.pip.nr, 1u);
  EXPECT_EQ(v[4].pkt.payload.vmcs.base, kVmcs);
}

TEST(PtWriterStart, MtcAddsTmaAndNoTscLeavesBothOut) {
  PtConfig c = quiet_config();
  c.mtc = true;
  c.cpuid_15_eax = 2;
  c.cpuid_15_ebx = 168;
  PtWriter w(c, root_ctx());
  w.start();
  std::vector<Decoded> v = decode_all(w.bytes());
  ASSERT_EQ(sig(v), "psb tsc tma cbr pip psbend");
  uint64_t crystal = w.tsc() * 2 / 168;
  EXPECT_EQ(v[2].pkt.payload.tma.ctc, crystal & 0xffff);

  c.tsc = false;
  PtWriter w2(c, root_ctx());
  w2.start();
  EXPECT_EQ(sig(decode_all(w2.bytes())), "psb cbr pip psbend");
}

TEST(PtWriterStart, RejectsZeroRatios) {
  for (int which = 0; which < 4; ++which) {
    PtConfig c = quiet_config();
    if (which == 0) c.cbr = 0;
    if (which == 1) c.nom_freq = 0;
    if (which == 2) c.cpuid_15_eax = 0;
    if (which == 3) c.cpuid_15_ebx = 0;
    EXPECT_THROW(PtWriter(c, root_ctx()), std::invalid_argument) << which;
  }
}

// ---------------------------------------------------------------- enable / disable

TEST(PtWriterEnable, ModeExecPrecedesTheFirstPgeOnlyOncePerPsb) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  uint64_t at = w.offset();
  w.enable(kUser);
  EXPECT_TRUE(w.enabled());
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "mode.exec tip.pge");
  EXPECT_EQ(v[0].pkt.payload.mode.bits.exec.csl, 1u);
  EXPECT_EQ(v[0].pkt.payload.mode.bits.exec.csd, 0u);
  EXPECT_EQ(v[1].pkt.payload.ip.ipc, pt_ipc_sext_48) << "first IP after PSB";
  EXPECT_EQ(sext48(v[1].pkt.payload.ip.ip), kUser);

  at = w.offset();
  w.disable(kUser + 0x40);
  EXPECT_FALSE(w.enabled());
  w.enable(kUser + 0x80);
  v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tip.pgd tip.pge") << "no second MODE.Exec before the next PSB";
  std::vector<IpPacket> ips = ip_packets(decode_all(w.bytes()));
  ASSERT_EQ(ips.size(), 3u);
  EXPECT_EQ(ips[1].ip, kUser + 0x40);
  EXPECT_EQ(ips[1].ipc, pt_ipc_update_16);
  EXPECT_EQ(ips[2].ip, kUser + 0x80);
  expect_stats_match(w);
}

TEST(PtWriterEnable, IllegalTransitionsThrowAndEmitNothing) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  uint64_t at = w.offset();
  EXPECT_THROW(w.cond(true), std::logic_error);
  EXPECT_THROW(w.indirect(kUser), std::logic_error);
  EXPECT_THROW(w.disable(kUser), std::logic_error);
  EXPECT_EQ(w.offset(), at);
  w.enable(kUser);
  at = w.offset();
  EXPECT_THROW(w.enable(kUser), std::logic_error);
  EXPECT_THROW(w.switch_context(PtContext{0x5000, 0, false}), std::logic_error);
  EXPECT_EQ(w.offset(), at);
  EXPECT_TRUE(w.enabled());
  w.cond(true);
  w.disable(kUser);
  EXPECT_EQ(sig(decode_from(w.bytes(), at)), "tnt.8 tip.pgd");
}

// ---------------------------------------------------------------- IP compression

TEST(PtWriterIp, ChoosesTheShortestValidCompression) {
  struct Step {
    uint64_t ip;
    pt_ip_compression ipc;
    int size;
  };
  const Step steps[] = {
      {0x00007f1234567890ull, pt_ipc_sext_48, 7},    // PGE: first IP after PSB
      {0x00007f123456abcdull, pt_ipc_update_16, 3},  // same upper 48 bits
      {0x00007f12abcd0000ull, pt_ipc_update_32, 5},  // same upper 32 bits
      {0x00007f12abcd0000ull, pt_ipc_update_16, 3},  // the same IP again
      {0x0000555500001111ull, pt_ipc_sext_48, 7},    // canonical, upper 32 differ
      {0xffff800000001000ull, pt_ipc_sext_48, 7},    // kernel half
      {0xffff800000002000ull, pt_ipc_update_16, 3},
      {0xffff8000ffff2000ull, pt_ipc_update_32, 5},
      {0x0001000000000000ull, pt_ipc_full, 9},       // non-canonical, upper 16 differ
      {0x0001234500000000ull, pt_ipc_update_48, 7},  // non-canonical, same upper 16
      {0x0001234500000042ull, pt_ipc_update_16, 3},
      {0x00007f0000000000ull, pt_ipc_sext_48, 7},
      {0xffffffffffffffffull, pt_ipc_sext_48, 7},
  };
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(steps[0].ip);
  for (size_t i = 1; i < std::size(steps); ++i) w.indirect(steps[i].ip);
  std::vector<IpPacket> ips = ip_packets(decode_all(w.bytes()));
  ASSERT_EQ(ips.size(), std::size(steps));
  for (size_t i = 0; i < ips.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    EXPECT_EQ(ips[i].type, i == 0 ? ppt_tip_pge : ppt_tip);
    EXPECT_EQ(ips[i].ipc, steps[i].ipc);
    EXPECT_EQ(ips[i].size, steps[i].size);
    EXPECT_EQ(ips[i].ip, steps[i].ip);
    if (ips[i].ipc != pt_ipc_sext_48 && ips[i].ipc != pt_ipc_full) {
      EXPECT_TRUE(ips[i].had_last_ip);
    }
  }
}

TEST(PtWriterIp, NonCanonicalFirstIpAfterPsbIsSentInFull) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(0x0001234500000000ull);
  std::vector<IpPacket> ips = ip_packets(decode_all(w.bytes()));
  ASSERT_EQ(ips.size(), 1u);
  EXPECT_EQ(ips[0].ipc, pt_ipc_full);
  EXPECT_EQ(ips[0].ip, 0x0001234500000000ull);
}

TEST(PtWriterIp, FirstIpAfterAMidStreamPsbIsUncompressed) {
  PtConfig c = quiet_config();
  c.psb_period = 50;
  PtWriter w(c, root_ctx());
  w.start();                // 38 bytes; the PSB ends at 16
  w.enable(kUser);          // MODE.Exec + PGE: 9 bytes
  for (int i = 0; i < 8; ++i) w.indirect(kUser + 0x100 * i);  // 3 bytes each: 55 bytes since the PSB
  uint64_t at = w.offset();
  w.boundary(kUser + 4);    // PSB+ with FUP(kUser + 4)
  ASSERT_GT(w.offset(), at);
  w.indirect(kUser + 8);
  w.disable(kUser + 12);
  at = w.offset();
  w.idle_boundary();        // 37 bytes since the PSB: not due yet
  ASSERT_EQ(w.offset(), at);
  for (int i = 0; i < 3; ++i) {
    w.enable(kUser + 16);
    w.disable(kUser + 16);
  }
  at = w.offset();
  w.idle_boundary();        // 55 bytes: due
  ASSERT_GT(w.offset(), at);
  w.enable(kUser + 20);
  std::vector<Decoded> v = decode_all(w.bytes());
  std::vector<IpPacket> ips = ip_packets(v);
  ASSERT_EQ(only(v, ppt_psb).size(), 3u);
  // After PGE + 8 TIPs: FUP (in PSB+), TIP, PGD, 3 x (PGE, PGD), PGE.
  ASSERT_EQ(ips.size(), 9u + 3u + 6u + 1u);
  EXPECT_EQ(ips[9].type, ppt_fup);
  EXPECT_EQ(ips[9].ipc, pt_ipc_sext_48);
  EXPECT_EQ(ips[9].ip, kUser + 4);
  EXPECT_EQ(ips[10].ipc, pt_ipc_update_16) << "compressed against the FUP";
  EXPECT_EQ(ips[10].ip, kUser + 8);
  EXPECT_EQ(ips[12].type, ppt_tip_pge);
  EXPECT_EQ(ips[12].ipc, pt_ipc_update_16) << "no PSB between the PGD and this PGE";
  EXPECT_EQ(ips.back().type, ppt_tip_pge);
  EXPECT_EQ(ips.back().ipc, pt_ipc_sext_48) << "first IP after the idle PSB+";
  EXPECT_EQ(ips.back().ip, kUser + 20);
}

// ---------------------------------------------------------------- TNT

TEST(PtWriterTnt, BitsArePackedFirstBranchInTheMsbAndFlushedBeforeTip) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(kUser);
  uint64_t at = w.offset();
  for (bool b : {true, false, true, true, false}) w.cond(b);
  EXPECT_EQ(w.offset(), at) << "pending bits are not bytes yet";
  w.indirect(kUser + 4);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tnt.8 tip");
  EXPECT_EQ(v[0].size, 1);
  EXPECT_EQ(v[0].pkt.payload.tnt.bit_size, 5);
  EXPECT_EQ(v[0].pkt.payload.tnt.payload, 0b10110u);
  EXPECT_EQ(w.stats().tnt_bits, 5u);
}

TEST(PtWriterTnt, SixBitsFillATnt8Immediately) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(kUser);
  uint64_t at = w.offset();
  const bool bits[] = {false, true, true, false, false, true, true};
  for (int i = 0; i < 5; ++i) w.cond(bits[i]);
  EXPECT_EQ(w.offset(), at);
  w.cond(bits[5]);
  EXPECT_EQ(w.offset(), at + 1);
  w.cond(bits[6]);
  EXPECT_EQ(w.offset(), at + 1);
  w.disable(kUser);  // flushes the seventh bit
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tnt.8 tnt.8 tip.pgd");
  EXPECT_EQ(v[0].pkt.payload.tnt.bit_size, 6);
  EXPECT_EQ(v[0].pkt.payload.tnt.payload, 0b011001u);
  EXPECT_EQ(v[1].pkt.payload.tnt.bit_size, 1);
  EXPECT_EQ(v[1].pkt.payload.tnt.payload, 1u);
}

TEST(PtWriterTnt, FinishFlushesPendingBits) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(kUser);
  w.cond(false);
  w.cond(false);
  uint64_t at = w.offset();
  w.finish();
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tnt.8");
  EXPECT_EQ(v[0].pkt.payload.tnt.bit_size, 2);
  EXPECT_EQ(v[0].pkt.payload.tnt.payload, 0u);
  w.finish();
  EXPECT_EQ(w.offset(), at + 1) << "nothing left to flush";
}

TEST(PtWriterTnt, PendingBitsAreFlushedBeforeAPsb) {
  PtConfig c = quiet_config();
  c.psb_period = 8;
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  w.indirect(kUser + 0x10000);
  w.cond(true);
  w.cond(false);
  w.cond(true);
  uint64_t at = w.offset();
  w.boundary(kUser + 0x10004);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tnt.8 psb tsc cbr pip mode.exec fup psbend");
  EXPECT_EQ(v[0].pkt.payload.tnt.bit_size, 3);
  EXPECT_EQ(v[0].pkt.payload.tnt.payload, 0b101u);
}

TEST(PtWriterTnt, Tnt64CarriesUpTo47Bits) {
  PtConfig c = quiet_config();
  c.tnt64 = true;
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  uint64_t at = w.offset();
  std::mt19937_64 rng(7);
  uint64_t expect47 = 0, expect3 = 0;
  for (int i = 0; i < 50; ++i) {
    bool b = rng() & 1;
    w.cond(b);
    if (i < 47) expect47 = expect47 << 1 | b;
    else expect3 = expect3 << 1 | b;
    if (i == 45) {
      EXPECT_EQ(w.offset(), at) << "46 bits still pending";
    }
    if (i == 46) {
      EXPECT_EQ(w.offset(), at + 8) << "the 47th bit completes a TNT-64";
    }
  }
  w.indirect(kUser + 8);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tnt.64 tnt.64 tip");
  EXPECT_EQ(v[0].size, 8);
  EXPECT_EQ(v[0].pkt.payload.tnt.bit_size, 47);
  EXPECT_EQ(v[0].pkt.payload.tnt.payload, expect47);
  EXPECT_EQ(v[1].pkt.payload.tnt.bit_size, 3);
  EXPECT_EQ(v[1].pkt.payload.tnt.payload, expect3);
  EXPECT_EQ(w.stats().tnt_bits, 50u);
  EXPECT_EQ(w.stats().packets[static_cast<size_t>(Pkt::tnt_64)], 2u);
  EXPECT_EQ(w.stats().packets[static_cast<size_t>(Pkt::tnt_8)], 0u);
}

// ---------------------------------------------------------------- PSB insertion

TEST(PtWriterPsb, BoundaryInsertsPsbPlusOncePeriodBytesWereWritten) {
  PtConfig c = quiet_config();
  c.psb_period = 100;
  PtWriter w(c, root_ctx());
  w.start();
  uint64_t psb_end = 16;  // bytes counted from the end of the last PSB packet
  w.enable(kUser);
  std::mt19937_64 rng(11);
  std::vector<uint64_t> expected_psbs = {0}, expected_fups;
  for (int i = 0; i < 400; ++i) {
    // TIPs of 3, 5 or 7 bytes.
    uint64_t ip = kUser ^ (rng() & (i % 3 == 0 ? 0xffffull : i % 3 == 1 ? 0xffffffffull : 0xffffffffffull));
    w.indirect(ip);
    uint64_t before = w.offset();
    uint64_t bip = ip + 2;
    w.boundary(bip);
    if (before - psb_end >= c.psb_period) {
      ASSERT_GT(w.offset(), before) << "PSB+ due at boundary " << i;
      expected_psbs.push_back(before);
      expected_fups.push_back(bip);
      psb_end = before + 16;
    } else {
      ASSERT_EQ(w.offset(), before) << "PSB+ too early at boundary " << i;
    }
  }
  std::vector<Decoded> v = decode_all(w.bytes());
  std::vector<uint64_t> psbs;
  for (const Decoded& d : only(v, ppt_psb)) psbs.push_back(d.offset);
  EXPECT_EQ(psbs, expected_psbs);
  EXPECT_GT(psbs.size(), 10u);
  // Every mid-stream PSB+ carries MODE.Exec and the boundary IP as an uncompressed FUP.
  std::vector<uint64_t> fups;
  for (const IpPacket& p : ip_packets(v))
    if (p.type == ppt_fup) {
      EXPECT_EQ(p.ipc, pt_ipc_sext_48);
      fups.push_back(p.ip);
    }
  EXPECT_EQ(fups, expected_fups);
  std::vector<Decoded> second = decode_from(w.bytes(), expected_psbs[1]);
  second.resize(7);
  EXPECT_EQ(sig(second), "psb tsc cbr pip mode.exec fup psbend");
  expect_stats_match(w);
}

TEST(PtWriterPsb, PsbPlusCarriesTheCurrentTsc) {
  PtConfig c = quiet_config();
  c.psb_period = 1;
  PtWriter w(c, root_ctx());
  w.start();
  w.advance(31000);  // cbr 31, nominal 25: 25000 TSC ticks
  uint64_t at = w.offset();
  EXPECT_EQ(w.tsc(), 1000000000u + 25000u);
  w.idle_boundary();
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "psb tsc cbr pip psbend");
  EXPECT_EQ(v[1].pkt.payload.tsc.tsc, w.tsc());
}

TEST(PtWriterPsb, IdleBoundaryInsertsPsbPlusWithoutIpWhileDisabled) {
  PtConfig c = quiet_config();
  c.psb_period = 40;
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  for (int i = 0; i < 12; ++i) w.indirect(kUser + 0x20 * i);
  uint64_t at = w.offset();
  w.idle_boundary();  // enabled: not the place for an idle PSB+
  EXPECT_EQ(w.offset(), at);
  w.disable(kUser + 0x1000);
  at = w.offset();
  w.boundary(kUser);  // disabled: boundary() does nothing
  EXPECT_EQ(w.offset(), at);
  w.idle_boundary();
  w.idle_boundary();  // not due again
  w.enable(kUser + 0x2000);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "psb tsc cbr pip psbend mode.exec tip.pge")
      << "no FUP/MODE in an idle PSB+; MODE.Exec again before the next PGE";
}

TEST(PtWriterPsb, NoModeExecAfterAPsbThatCarriedOne) {
  PtConfig c = quiet_config();
  c.psb_period = 16;
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  for (int i = 0; i < 8; ++i) w.indirect(kUser + 0x20 * i);
  w.boundary(kUser);  // PSB+ with MODE.Exec
  w.disable(kUser + 4);
  uint64_t at = w.offset();
  w.enable(kUser + 8);
  EXPECT_EQ(sig(decode_from(w.bytes(), at)), "tip.pge");
}

// ---------------------------------------------------------------- loss windows

TEST(PtWriterLoss, DropsEverythingThenOvfAndAnUncompressedFup) {
  PtConfig c = quiet_config();
  c.psb_period = 32;
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  for (int i = 0; i < 12; ++i) w.indirect(kUser + 0x10 * i);  // a PSB+ is due from here on
  w.cond(true);
  w.cond(false);
  w.cond(true);
  uint64_t before = w.offset();
  w.begin_loss();
  EXPECT_TRUE(w.losing());
  EXPECT_EQ(w.offset(), before + 1) << "the pending TNT is written before the loss";
  uint64_t at = w.offset();
  for (int i = 0; i < 6; ++i) w.cond(i & 1);  // one TNT
  w.indirect(kUser + 0x1000);                  // TIP
  w.boundary(kUser + 0x1000);                  // the due PSB+ waits
  w.disable(kUser + 0x2000);                   // TIP.PGD
  w.idle_boundary();
  w.switch_context(PtContext{0x7000, 0, false});  // PIP
  w.enable(kUser + 0x3000);                    // TIP.PGE (MODE.Exec was sent since the PSB)
  w.cond(true);                                // pending, discarded at end_loss
  w.begin_loss();                              // no-op
  EXPECT_EQ(w.offset(), at);
  EXPECT_EQ(w.stats().dropped_packets, 5u);
  w.end_loss(true, kUser + 0x3010);
  EXPECT_FALSE(w.losing());
  EXPECT_TRUE(w.enabled());
  w.end_loss(true, kUser);  // no-op
  w.indirect(kUser + 0x3020);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "ovf fup tip");
  std::vector<IpPacket> ips = ip_packets(v);
  EXPECT_EQ(ips[0].ipc, pt_ipc_sext_48) << "first IP after OVF";
  EXPECT_EQ(ips[0].ip, kUser + 0x3010);
  EXPECT_EQ(ips[1].ipc, pt_ipc_update_16);
  EXPECT_EQ(ips[1].ip, kUser + 0x3020);
  EXPECT_EQ(w.stats().overflows, 1u);
  EXPECT_EQ(decode_all(w.bytes())[3].pkt.payload.pip.cr3, kCr3);
  at = w.offset();
  w.boundary(kUser + 0x3030);  // the PSB+ that was due during the loss
  v = decode_from(w.bytes(), at);
  EXPECT_EQ(sig(v), "psb tsc cbr pip mode.exec fup psbend");
  EXPECT_EQ(v[3].pkt.payload.pip.cr3, 0x7000u) << "the context switched during the loss";
  expect_stats_match(w);
}

TEST(PtWriterLoss, EndingDisabledWritesOnlyOvf) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.enable(kUser);
  w.begin_loss();
  uint64_t at = w.offset();
  EXPECT_EQ(at, decode_all(w.bytes()).back().offset + 7) << "begin_loss with no pending bits writes nothing";
  w.disable(kUser + 0x10);
  w.end_loss(false, kUser + 0x20);
  EXPECT_FALSE(w.enabled());
  EXPECT_EQ(sig(decode_from(w.bytes(), at)), "ovf");
  w.enable(kUser + 0x30);
  std::vector<IpPacket> ips = ip_packets(decode_from(w.bytes(), at));
  ASSERT_EQ(ips.size(), 1u);
  EXPECT_EQ(ips[0].type, ppt_tip_pge);
  EXPECT_EQ(ips[0].ipc, pt_ipc_sext_48) << "no last IP after OVF";
  EXPECT_EQ(ips[0].ip, kUser + 0x30);
}

TEST(PtWriterLoss, CanEndEnabledAfterStartingDisabled) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  w.begin_loss();
  w.end_loss(true, kUser);
  EXPECT_TRUE(w.enabled());
  w.cond(true);
  w.finish();
  EXPECT_EQ(sig(decode_all(w.bytes())), "psb tsc cbr pip psbend ovf fup tnt.8");
}

// ---------------------------------------------------------------- context switches

TEST(PtWriterContext, SwitchEmitsPipAndVmcsWhenItChanges) {
  PtWriter w(quiet_config(), PtContext{kCr3, kVmcs, true});
  w.start();
  uint64_t at = w.offset();
  w.switch_context(PtContext{0x2000, kVmcs + 0x1000, true});
  w.switch_context(PtContext{0x3000, kVmcs + 0x1000, true});
  w.switch_context(PtContext{0x4000, 0, false});
  w.switch_context(PtContext{0x5000, kVmcs + 0x1000, true});
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "vmcs pip pip pip vmcs pip");
  EXPECT_EQ(v[0].pkt.payload.vmcs.base, kVmcs + 0x1000);
  EXPECT_EQ(v[1].pkt.payload.pip.cr3, 0x2000u);
  EXPECT_EQ(v[1].pkt.payload.pip.nr, 1u);
  EXPECT_EQ(v[2].pkt.payload.pip.cr3, 0x3000u);
  EXPECT_EQ(v[3].pkt.payload.pip.cr3, 0x4000u);
  EXPECT_EQ(v[3].pkt.payload.pip.nr, 0u);
  EXPECT_EQ(v[4].pkt.payload.vmcs.base, kVmcs + 0x1000);
  EXPECT_EQ(v[5].pkt.payload.pip.cr3, 0x5000u);
  expect_stats_match(w);
}

TEST(PtWriterContext, NextPsbPlusUsesTheNewContext) {
  PtConfig c = quiet_config();
  c.psb_period = 1;
  PtWriter w(c, PtContext{kCr3, kVmcs, true});
  w.start();
  w.switch_context(PtContext{0x8000, 0, false});
  uint64_t at = w.offset();
  w.idle_boundary();
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "psb tsc cbr pip psbend") << "no VMCS packet for vmcs 0";
  EXPECT_EQ(v[3].pkt.payload.pip.cr3, 0x8000u);
  EXPECT_EQ(v[3].pkt.payload.pip.nr, 0u);
}

// ---------------------------------------------------------------- timing: MTC, CYC

// MTC count and payloads over a series of advances, for one clock configuration.
void check_mtc(uint32_t eax, uint32_t ebx, unsigned freq, unsigned cbr, unsigned nom,
               const std::vector<uint64_t>& advances) {
  PtConfig c = quiet_config();
  c.mtc = true;
  c.mtc_freq = freq;
  c.cpuid_15_eax = eax;
  c.cpuid_15_ebx = ebx;
  c.cbr = cbr;
  c.nom_freq = nom;
  PtWriter w(c, root_ctx());
  auto period = [&](uint64_t tsc) { return (tsc * eax / ebx) >> freq; };
  w.start();
  uint64_t last_period = period(w.tsc());
  for (size_t i = 0; i < advances.size(); ++i) {
    SCOPED_TRACE("advance #" + std::to_string(i) + " by " + std::to_string(advances[i]));
    uint64_t at = w.offset();
    w.advance(advances[i]);
    uint64_t now = period(w.tsc());
    std::vector<Decoded> v = decode_from(w.bytes(), at);
    ASSERT_EQ(v.size(), now - last_period) << "one MTC per 2^mtc_freq crystal ticks";
    for (const Decoded& d : v) {
      ASSERT_EQ(d.pkt.type, ppt_mtc);
      ++last_period;
      EXPECT_EQ(d.pkt.payload.mtc.ctc, last_period & 0xff);
    }
  }
}

TEST(PtWriterTiming, MtcEveryCrystalPeriodFromTheStart) {
  // TSC = 1e9 + cycles (cbr == nominal); crystal = TSC / 100; MTC every 8 crystal ticks.
  check_mtc(1, 100, 3, 25, 25, {8000, 799, 1, 1600, 0, 3, 800 * 300 + 5});
}

TEST(PtWriterTiming, MtcWithAnotherClockRatio) {
  check_mtc(2, 168, 5, 42, 24, {1, 100000, 4703, 77777, 1});
}

TEST(PtWriterTiming, NoMtcUnlessEnabled) {
  PtWriter w(quiet_config(), root_ctx());
  w.start();
  uint64_t at = w.offset();
  w.advance(1000000);
  EXPECT_EQ(w.offset(), at);
  EXPECT_EQ(w.cycles(), 1000000u);
}

TEST(PtWriterTiming, CycPrecedesTntTipPgeAndPgdWithTheCyclesSinceTheLastCyc) {
  PtConfig c = quiet_config();
  c.cyc = true;
  PtWriter w(c, root_ctx());
  w.start();
  EXPECT_EQ(sig(decode_all(w.bytes())), "psb tsc cbr pip psbend") << "no CYC without cycles";
  uint64_t at = w.offset();
  w.advance(100);
  w.enable(kUser);
  w.advance(37);
  w.cond(true);
  w.cond(false);
  w.indirect(kUser + 4);  // TNT flush and TIP share one CYC
  w.advance(5);
  w.indirect(kUser + 8);
  w.indirect(kUser + 12);  // no cycles passed: no CYC
  w.advance(1000);
  w.disable(kUser + 16);
  w.enable(kUser + 20);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "cyc mode.exec tip.pge cyc tnt.8 tip cyc tip tip cyc tip.pgd tip.pge");
  std::vector<Decoded> cyc = only(v, ppt_cyc);
  ASSERT_EQ(cyc.size(), 4u);
  EXPECT_EQ(cyc[0].pkt.payload.cyc.value, 100u);
  EXPECT_EQ(cyc[1].pkt.payload.cyc.value, 37u);
  EXPECT_EQ(cyc[2].pkt.payload.cyc.value, 5u);
  EXPECT_EQ(cyc[3].pkt.payload.cyc.value, 1000u);
  expect_stats_match(w);
}

TEST(PtWriterTiming, CycThresholdSuppressesSmallCounts) {
  PtConfig c = quiet_config();
  c.cyc = true;
  c.cyc_thresh = 3;  // at least 2^(3-1) = 4 cycles
  PtWriter w(c, root_ctx());
  w.start();
  w.enable(kUser);
  uint64_t at = w.offset();
  w.advance(3);
  w.indirect(kUser + 4);
  w.advance(1);
  w.indirect(kUser + 8);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "tip cyc tip");
  EXPECT_EQ(v[1].pkt.payload.cyc.value, 4u);
}

TEST(PtWriterTiming, CycCountRestartsAtOvf) {
  PtConfig c = quiet_config();
  c.cyc = true;
  PtWriter w(c, root_ctx());
  w.start();
  w.advance(10);
  w.enable(kUser);
  w.advance(50);
  w.begin_loss();
  w.advance(20);
  w.end_loss(true, kUser);
  uint64_t at = w.offset();
  w.advance(7);
  w.indirect(kUser + 4);
  std::vector<Decoded> v = decode_from(w.bytes(), at);
  ASSERT_EQ(sig(v), "cyc tip");
  EXPECT_EQ(v[0].pkt.payload.cyc.value, 7u);
}

// ---------------------------------------------------------------- PAD

TEST(PtWriterPad, PadsFollowEveryNthPacket) {
  for (unsigned every : {1u, 3u, 7u}) {
    SCOPED_TRACE("pad_every " + std::to_string(every));
    PtConfig c = quiet_config();
    c.psb_period = 64;
    PtWriter w(c, root_ctx(), 42 + every, every);
    w.start();
    w.enable(kUser);
    for (int i = 0; i < 600; ++i) {
      if (i % 5 == 4) w.indirect(kUser + 0x40 * i);
      else w.cond(i % 3 == 0);
      w.boundary(kUser + i);
    }
    w.disable(kUser);
    std::vector<Decoded> v = decode_all(w.bytes());
    unsigned since = 0, run = 0;
    uint64_t pads = 0;
    std::array<unsigned, 4> run_lengths{};
    for (const Decoded& d : v) {
      if (d.pkt.type == ppt_pad) {
        ++pads;
        ++run;
        EXPECT_EQ(d.size, 1);
        EXPECT_EQ(since, every) << "PAD at " << d.offset << " after " << since << " packets";
        continue;
      }
      if (run) {
        EXPECT_LE(run, 3u);
        ++run_lengths[run <= 3 ? run : 0];
        since = 0;
        run = 0;
      }
      ++since;
      ASSERT_LT(since, every + 1) << "missing PAD before the packet at " << d.offset;
    }
    EXPECT_EQ(pads, w.stats().packets[static_cast<size_t>(Pkt::pad)]);
    EXPECT_EQ(pads, w.stats().bytes[static_cast<size_t>(Pkt::pad)]);
    EXPECT_GT(run_lengths[1] + run_lengths[2] + run_lengths[3], 20u);
    EXPECT_GT(run_lengths[1], 0u);
    EXPECT_GT(run_lengths[3], 0u);
    expect_stats_match(w);
  }
}

TEST(PtWriterPad, NoPadsDuringALoss) {
  PtWriter w(quiet_config(), root_ctx(), 1, 1);
  w.start();
  w.enable(kUser);
  w.begin_loss();
  uint64_t at = w.offset();
  for (int i = 0; i < 20; ++i) w.indirect(kUser + i);
  EXPECT_EQ(w.offset(), at);
}

// ---------------------------------------------------------------- statistics

TEST(PtWriterStats, CountsMatchWhatTheDecoderSees) {
  PtConfig c = quiet_config();
  c.psb_period = 128;
  c.mtc = true;
  c.cyc = true;
  PtWriter w(c, PtContext{kCr3, kVmcs, true}, 5, 9);
  w.start();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    w.advance(rng() % 400);
    if (!w.enabled()) {
      if (i % 7 == 0) w.switch_context(PtContext{(rng() % 16) << 12, (rng() % 2) << 14, true});
      if (i % 3 == 0) w.enable(kUser ^ (rng() & 0xffffff));
      else w.idle_boundary();
      continue;
    }
    if (i % 50 == 0) w.begin_loss();
    if (i % 50 == 10) w.end_loss(true, kUser);
    int r = static_cast<int>(rng() % 10);
    if (r < 6) w.cond(r & 1);
    else if (r < 8) w.indirect(kUser ^ (rng() & 0xffffffff));
    else if (r < 9) w.boundary(kUser);
    else w.disable(kUser + 1);
  }
  w.finish();
  const PtStats& s = w.stats();
  for (Pkt k : {Pkt::psb, Pkt::psbend, Pkt::fup, Pkt::tip, Pkt::tip_pge, Pkt::tip_pgd, Pkt::tnt_8, Pkt::mode_exec,
                Pkt::pip, Pkt::vmcs, Pkt::cbr, Pkt::tsc, Pkt::tma, Pkt::mtc, Pkt::cyc, Pkt::ovf, Pkt::pad})
    EXPECT_GT(s.packets[static_cast<size_t>(k)], 0u) << pkt_name(k) << " not exercised";
  EXPECT_GT(s.dropped_packets, 0u);
  EXPECT_EQ(s.overflows, s.packets[static_cast<size_t>(Pkt::ovf)]);
  expect_stats_match(w);
  std::vector<uint8_t> copy = w.bytes();
  EXPECT_EQ(w.take_bytes(), copy);
}

TEST(PtWriterStats, PacketNames) {
  EXPECT_STREQ(pkt_name(Pkt::pad), "pad");
  EXPECT_STREQ(pkt_name(Pkt::tip_pge), "tip.pge");
  EXPECT_STREQ(pkt_name(Pkt::tnt_64), "tnt.64");
  EXPECT_STREQ(pkt_name(Pkt::mode_exec), "mode.exec");
  EXPECT_STREQ(pkt_name(Pkt::ovf), "ovf");
}

// ---------------------------------------------------------------- query-decoder round trip

// What a decoder must read back, in order.
struct Item {
  enum Kind { Cond, Tip, Enable, Disable, Overflow, Paging, Vmcs, Other } kind;
  uint64_t value = 0;  // IP, CR3 or VMCS base; the libipt event type for Other
  bool flag = false;   // Cond: taken; Overflow: tracing enabled (FUP); Paging: NR
  bool operator==(const Item& o) const { return kind == o.kind && value == o.value && flag == o.flag; }
  bool operator!=(const Item& o) const { return !(*this == o); }
};

std::string str(const Item& it) {
  static const char* names[] = {"cond", "tip", "enable", "disable", "overflow", "paging", "vmcs", "event"};
  std::ostringstream s;
  s << names[it.kind];
  if (it.kind == Item::Cond) s << (it.flag ? " T" : " N");
  else if (it.kind == Item::Overflow && !it.flag) s << " (disabled)";
  else s << " 0x" << std::hex << it.value << (it.flag ? " nr" : "");
  return s.str();
}

// PSB+ status updates, exec modes and core:bus ratios do not change what the code did.
bool significant(const pt_event& ev) {
  if (ev.status_update) return false;
  switch (ev.type) {
    case ptev_exec_mode:
    case ptev_cbr:
    case ptev_tick:
    case ptev_mnt:
      return false;
    default:
      return true;
  }
}

Item item_of(const pt_event& ev) {
  switch (ev.type) {
    case ptev_enabled: return {Item::Enable, ev.variant.enabled.ip, false};
    case ptev_disabled: return {Item::Disable, ev.ip_suppressed ? ~0ull : ev.variant.disabled.ip, false};
    case ptev_overflow:
      return ev.ip_suppressed ? Item{Item::Overflow, 0, false} : Item{Item::Overflow, ev.variant.overflow.ip, true};
    case ptev_paging: return {Item::Paging, ev.variant.paging.cr3, ev.variant.paging.non_root != 0};
    case ptev_vmcs: return {Item::Vmcs, ev.variant.vmcs.base, false};
    default: return {Item::Other, static_cast<uint64_t>(ev.type), false};
  }
}

struct ReadBack {
  std::vector<Item> items;
  std::string error;  // empty when the whole expectation was read back
};

// Reads the stream with libipt's query decoder. Like a real decoder, it knows from the code
// whether the next query is a conditional or an indirect branch (here: from `expected`), and
// takes events when the decoder says one is pending; pending events are only reported once the
// TNT bits before them are used up.
ReadBack query_back(const std::vector<uint8_t>& pt, const PtConfig& cfg, const std::vector<Item>& expected) {
  ReadBack rb;
  pt_config c;
  pt_config_init(&c);
  std::vector<uint8_t> buf = pt;
  c.begin = buf.data();
  c.end = buf.data() + buf.size();
  c.cpuid_0x15_eax = cfg.cpuid_15_eax;
  c.cpuid_0x15_ebx = cfg.cpuid_15_ebx;
  c.mtc_freq = static_cast<uint8_t>(cfg.mtc_freq);
  c.nom_freq = static_cast<uint8_t>(cfg.nom_freq);
  pt_query_decoder* d = pt_qry_alloc_decoder(&c);
  if (!d) {
    rb.error = "pt_qry_alloc_decoder failed";
    return rb;
  }
  auto fail = [&](const std::string& what, int err) {
    uint64_t off = 0;
    pt_qry_get_offset(d, &off);
    rb.error = what + (err < 0 ? std::string(": ") + pt_errstr(pt_errcode(err)) : "") + " (decoder at offset " +
               std::to_string(off) + ", item " + std::to_string(rb.items.size()) + ")";
  };

  uint64_t sync_ip = 0;
  int status = pt_qry_sync_forward(d, &sync_ip);
  if (status < 0) fail("pt_qry_sync_forward", status);

  for (size_t i = 0; rb.error.empty() && i < expected.size(); ++i) {
    const Item& want = expected[i];
    if (want.kind == Item::Cond || want.kind == Item::Tip) {
      // Take the insignificant events in the way (PSB+ status, MODE.Exec, CBR).
      while (rb.error.empty() && (status & pts_event_pending)) {
        pt_event ev;
        int r = pt_qry_event(d, &ev, sizeof ev);
        if (r == -pte_bad_query) break;  // TNT bits still to use
        if (r < 0) {
          fail("pt_qry_event", r);
          break;
        }
        status = r;
        if (significant(ev)) {
          rb.items.push_back(item_of(ev));
          fail("event where a branch was expected", 0);
        }
      }
      if (!rb.error.empty()) break;
      if (want.kind == Item::Cond) {
        int taken = 0;
        int r = pt_qry_cond_branch(d, &taken);
        if (r < 0) {
          fail("pt_qry_cond_branch", r);
          break;
        }
        status = r;
        rb.items.push_back({Item::Cond, 0, taken != 0});
      } else {
        uint64_t ip = 0;
        int r = pt_qry_indirect_branch(d, &ip);
        if (r < 0) {
          fail("pt_qry_indirect_branch", r);
          break;
        }
        status = r;
        if (r & pts_ip_suppressed) {
          fail("TIP with a suppressed IP", 0);
          break;
        }
        rb.items.push_back({Item::Tip, ip, false});
      }
    } else {
      for (;;) {
        if (!(status & pts_event_pending)) {
          fail("expected an event, none pending", 0);
          break;
        }
        pt_event ev;
        int r = pt_qry_event(d, &ev, sizeof ev);
        if (r < 0) {
          fail("pt_qry_event", r);
          break;
        }
        status = r;
        if (!significant(ev)) continue;
        rb.items.push_back(item_of(ev));
        break;
      }
    }
    if (rb.error.empty() && rb.items.back() != want) fail("mismatch", 0);
  }

  if (rb.error.empty()) {
    // Nothing significant may follow.
    while (rb.error.empty() && (status & pts_event_pending)) {
      pt_event ev;
      int r = pt_qry_event(d, &ev, sizeof ev);
      if (r < 0) {
        fail("pt_qry_event at the end", r);
        break;
      }
      status = r;
      if (significant(ev)) {
        rb.items.push_back(item_of(ev));
        fail("event after the last expected item", 0);
      }
    }
    int taken = 0;
    uint64_t ip = 0;
    if (rb.error.empty() && pt_qry_cond_branch(d, &taken) >= 0) fail("conditional branch after the end", 0);
    if (rb.error.empty() && pt_qry_indirect_branch(d, &ip) >= 0) fail("indirect branch after the end", 0);
  }
  pt_qry_free_decoder(d);
  return rb;
}

std::string context_around(const std::vector<Item>& want, const std::vector<Item>& got) {
  size_t n = got.empty() ? 0 : got.size() - 1;
  std::ostringstream s;
  for (size_t i = n > 6 ? n - 6 : 0; i <= n + 2 && i < std::max(want.size(), got.size()); ++i)
    s << "\n  #" << i << " want " << (i < want.size() ? str(want[i]) : "<end>") << ", got "
      << (i < got.size() ? str(got[i]) : "-");
  return s.str();
}

// A random but legal sequence of calls, and the items a decoder must read back.
struct Script {
  std::vector<uint8_t> pt;
  std::vector<Item> expected;
  PtStats stats;
  uint64_t losses = 0, psbs = 0, switches = 0;
};

uint64_t random_ip(std::mt19937_64& rng, uint64_t last) {
  switch (rng() % 12) {
    case 0: case 1: case 2: case 3: return (last & ~0xffffull) | (rng() & 0xffff);
    case 4: case 5: return (last & ~0xffffffffull) | (rng() & 0xffffffff);
    case 6: case 7: return 0x00007f0000000000ull | (rng() & 0xffffffffffull);
    case 8: return 0x0000555555554000ull + (rng() & 0xfffff);
    case 9: return 0xffffffff80000000ull | (rng() & 0x7fffffff);
    case 10: return 0xffff800000000000ull | (rng() & 0x7fffffffffffull);
    default: return (rng() & 1) ? (0x0001000000000000ull | (rng() & 0xffffffffffffull)) : rng();  // non-canonical
  }
}

Script run_script(const PtConfig& cfg, unsigned pad_every, uint64_t seed, int n_ops) {
  static const PtContext contexts[] = {
      {0x1000000, 0, false}, {0x2000000, 0, false}, {0x3000020, 0x5000, true}, {0x4000000, 0x6000, true}};
  std::mt19937_64 rng(seed);
  PtWriter w(cfg, contexts[0], seed, pad_every);
  Script s;
  PtContext cur = contexts[0];
  uint64_t ip = 0x00007f0000001000ull;
  auto expect = [&](Item it) {
    if (!w.losing()) s.expected.push_back(it);
  };
  w.start();
  for (int i = 0; i < n_ops; ++i) {
    int r = static_cast<int>(rng() % 100);
    if (w.losing() && r < 6) {
      bool enabled = rng() & 1;
      ip = random_ip(rng, ip);
      w.end_loss(enabled, ip);
      s.expected.push_back(enabled ? Item{Item::Overflow, ip, true} : Item{Item::Overflow, 0, false});
      continue;
    }
    if (w.enabled()) {
      if (r < 45) {
        bool taken = rng() & 1;
        expect({Item::Cond, 0, taken});
        w.cond(taken);
      } else if (r < 62) {
        ip = random_ip(rng, ip);
        expect({Item::Tip, ip, false});
        w.indirect(ip);
      } else if (r < 78) {
        ip = random_ip(rng, ip);
        uint64_t before = w.stats().packets[static_cast<size_t>(Pkt::psb)];
        w.boundary(ip);
        s.psbs += w.stats().packets[static_cast<size_t>(Pkt::psb)] - before;
      } else if (r < 84) {
        ip = random_ip(rng, ip);
        expect({Item::Disable, ip, false});
        w.disable(ip);
      } else if (r < 97) {
        w.advance(rng() % 3000);
      } else if (!w.losing()) {
        w.begin_loss();
        ++s.losses;
      }
    } else {
      if (r < 30) {
        ip = random_ip(rng, ip);
        expect({Item::Enable, ip, false});
        w.enable(ip);
      } else if (r < 55) {
        w.idle_boundary();
      } else if (r < 75) {
        w.advance(rng() % 3000);
      } else if (r < 94) {
        const PtContext& next = contexts[rng() % 4];
        if (next.vmcs && next.vmcs != cur.vmcs) expect({Item::Vmcs, next.vmcs, false});
        expect({Item::Paging, next.cr3, next.non_root});
        w.switch_context(next);
        cur = next;
        ++s.switches;
      } else if (!w.losing()) {
        w.begin_loss();
        ++s.losses;
      }
    }
  }
  if (w.losing()) {
    w.end_loss(false, 0);
    s.expected.push_back({Item::Overflow, 0, false});
  }
  w.finish();
  s.stats = w.stats();
  s.pt = w.take_bytes();
  return s;
}

struct RoundTripCase {
  const char* name;
  PtConfig cfg;
  unsigned pad_every;
};

void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.name; }

class PtWriterRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(PtWriterRoundTrip, QueryDecoderReadsBackWhatWasWritten) {
  const RoundTripCase& tc = GetParam();
  for (uint64_t seed : {1ull, 2ull, 3ull, 0xc0ffeeull}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Script s = run_script(tc.cfg, tc.pad_every, seed, 20000);
    ASSERT_GT(s.expected.size(), 5000u);
    EXPECT_GT(s.losses, 5u);
    EXPECT_GT(s.psbs, 5u);
    EXPECT_GT(s.switches, 50u);
    ReadBack rb = query_back(s.pt, tc.cfg, s.expected);
    ASSERT_EQ(rb.error, "") << context_around(s.expected, rb.items);
    EXPECT_EQ(rb.items.size(), s.expected.size());
    // And the packet decoder agrees with the statistics.
    Counts c = count(decode_all(s.pt));
    for (size_t k = 0; k < static_cast<size_t>(Pkt::count); ++k)
      EXPECT_EQ(s.stats.packets[k], c.packets[k]) << pkt_name(static_cast<Pkt>(k));
  }
}

PtConfig round_trip_config(bool tnt64, bool timing, uint64_t psb_period) {
  PtConfig c;
  c.psb_period = psb_period;
  c.tnt64 = tnt64;
  if (timing) {
    c.mtc = true;
    c.mtc_freq = 2;
    c.cyc = true;
    c.cyc_thresh = 2;
    c.cpuid_15_eax = 2;
    c.cpuid_15_ebx = 168;
  }
  return c;
}

INSTANTIATE_TEST_SUITE_P(Configs, PtWriterRoundTrip,
                         ::testing::Values(RoundTripCase{"plain", round_trip_config(false, false, 256), 0},
                                           RoundTripCase{"tnt64", round_trip_config(true, false, 512), 0},
                                           RoundTripCase{"timing", round_trip_config(false, true, 256), 0},
                                           RoundTripCase{"padded", round_trip_config(false, false, 128), 4},
                                           RoundTripCase{"everything", round_trip_config(true, true, 64), 3}),
                         [](const ::testing::TestParamInfo<RoundTripCase>& param) { return std::string(param.param.name); });

}  // namespace
