// The RTL of the packet decode core against the C++ model it implements.
//
// rtl/pkt/xtu_pkt_decode.sv (Verilated) against xtu::model::decode_packet(): every output
// (status, type, size and every payload field of model::Packet) is compared for
//   - every packet of every stream of libipt's corpus (shared/libipt-corpus), stepping through
//     each stream with decode_packet(), and every byte offset, at every truncation avail =
//     0..16, with the real following bytes and with garbage past avail, SKZ84 off and on;
//   - random windows, every opcode prefix (1 byte, 02 xx, 02 c3 xx) with random and shaped
//     payloads, valid packets with one or two bits flipped, at every avail 0..16 (and 17..31,
//     which mean 16), SKZ84 off and on.
// Bytes past avail are whatever the window holds (the model never reads them; the RTL must not
// depend on them). rtl/pkt/xtu_last_ip.sv (Verilated, clocked) against model::LastIp over random
// sequences of clears, updates (every IPBytes value, reserved ones too) and resets.
#include <gtest/gtest.h>

#include <verilated.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vxtu_last_ip.h"
#include "Vxtu_pkt_decode.h"
#include "xtu/model/pt_packet.hpp"

namespace {

using namespace xtu::model;
using Rng = std::mt19937_64;

constexpr unsigned kWin = kMaxPacketWindow;  // 16: the RTL's window
constexpr unsigned kNumTypes = unsigned(PktType::kPtw) + 1;
const std::string kCorpus = std::string(XTU_SHARED_DIR) + "/libipt-corpus";

// xtu_pt_pkg::dec_status_e.
enum RtlStatus : uint8_t { kRtlPacket = 0, kRtlNeedMore = 1, kRtlUnknownOpcode = 2, kRtlBadPacket = 3 };
const char* const kStatusName[4] = {"packet", "need-more", "unknown-opcode", "bad-packet"};

uint8_t model_status(int n) {
  if (n > 0) return kRtlPacket;
  if (n == 0) return kRtlNeedMore;
  return n == kDecodeUnknownOpcode ? kRtlUnknownOpcode : kRtlBadPacket;
}

using Window = std::array<uint8_t, kWin>;

struct Field {
  const char* name;
  uint64_t model, rtl;
};

// The model's result next to the RTL's outputs, field by field.
std::vector<Field> fields(int n, const Packet& p, const Vxtu_pkt_decode& d) {
  return {
      {"status", model_status(n), d.status_o},
      {"type", uint64_t(p.type), d.type_o},
      {"size", p.size, d.size_o},
      {"ipc", p.ipc, d.ipc_o},
      {"ip", p.ip, d.ip_o},
      {"tnt_bits", p.tnt_bits, d.tnt_bits_o},
      {"tnt", p.tnt, d.tnt_o},
      {"csl", p.csl, d.csl_o},
      {"csd", p.csd, d.csd_o},
      {"intx", p.intx, d.intx_o},
      {"abrt", p.abrt, d.abrt_o},
      {"cr3", p.cr3, d.cr3_o},
      {"nr", p.nr, d.nr_o},
      {"vmcs", p.vmcs, d.vmcs_o},
      {"cbr", p.cbr, d.cbr_o},
      {"tsc", p.tsc, d.tsc_o},
      {"tma_ctc", p.tma_ctc, d.tma_ctc_o},
      {"tma_fc", p.tma_fc, d.tma_fc_o},
      {"mtc_ctc", p.mtc_ctc, d.mtc_ctc_o},
      {"cyc", p.cyc, d.cyc_o},
      {"mnt", p.mnt, d.mnt_o},
      {"exstop_ip", p.exstop_ip, d.exstop_ip_o},
      {"mwait_hints", p.mwait_hints, d.mwait_hints_o},
      {"mwait_ext", p.mwait_ext, d.mwait_ext_o},
      {"pwre_state", p.pwre_state, d.pwre_state_o},
      {"pwre_sub_state", p.pwre_sub_state, d.pwre_sub_state_o},
      {"pwre_hw", p.pwre_hw, d.pwre_hw_o},
      {"pwrx_last", p.pwrx_last, d.pwrx_last_o},
      {"pwrx_deepest", p.pwrx_deepest, d.pwrx_deepest_o},
      {"pwrx_interrupt", p.pwrx_interrupt, d.pwrx_interrupt_o},
      {"pwrx_store", p.pwrx_store, d.pwrx_store_o},
      {"pwrx_autonomous", p.pwrx_autonomous, d.pwrx_autonomous_o},
      {"ptw_plc", p.ptw_plc, d.ptw_plc_o},
      {"ptw", p.ptw, d.ptw_o},
      {"ptw_ip", p.ptw_ip, d.ptw_ip_o},
  };
}

std::string hex_window(const Window& w, unsigned avail) {
  std::string s;
  char buf[8];
  for (unsigned i = 0; i < kWin; ++i) {
    if (i == std::min(avail, kWin)) s += "| ";
    std::snprintf(buf, sizeof buf, "%02x ", w[i]);
    s += buf;
  }
  return s;
}

// The Verilated decode core and the model side by side, with counts and coverage.
class DecodeBench {
public:
  DecodeBench() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Vxtu_pkt_decode>(ctx_.get())) {}
  ~DecodeBench() { dut_->final(); }

  // Decodes w with `avail` valid bytes in both; records a mismatch (with `where`) if any
  // output differs. Returns the model's result.
  int check(const Window& w, unsigned avail, bool skz84, const std::string& where = "") {
    Packet p;
    const int n = decode_packet(w.data(), avail, p, DecodeErrata{skz84});
    for (unsigned i = 0; i < kWin / 4; ++i)
      dut_->win_i[i] = uint32_t(w[4 * i]) | uint32_t(w[4 * i + 1]) << 8 | uint32_t(w[4 * i + 2]) << 16 |
                       uint32_t(w[4 * i + 3]) << 24;
    dut_->avail_i = uint8_t(avail);
    dut_->skz84_i = skz84;
    dut_->eval();
    ++cases_;
    ++status_seen_[model_status(n)];
    if (n > 0) ++type_seen_[unsigned(p.type)];
    bool same = true;
    const auto f = fields(n, p, *dut_);
    for (const Field& x : f) same = same && x.model == x.rtl;
    if (!same) {
      ++mismatches_;
      if (report_.size() < 4000) {
        char buf[160];
        report_ += "\n  " + where + (where.empty() ? "" : ": ") + "window " + hex_window(w, avail) +
                   " avail " + std::to_string(avail) + " skz84 " + std::to_string(skz84) + ":";
        for (const Field& x : f)
          if (x.model != x.rtl) {
            std::snprintf(buf, sizeof buf, " %s model=0x%" PRIx64 " rtl=0x%" PRIx64, x.name, x.model, x.rtl);
            report_ += buf;
          }
      }
    }
    return n;
  }

  // Every avail 0..max_avail, SKZ84 off and on.
  void check_all_avail(const Window& w, unsigned max_avail = kWin, const std::string& where = "") {
    note_window();
    for (unsigned a = 0; a <= max_avail; ++a) {
      check(w, a, false, where);
      check(w, a, true, where);
    }
  }

  void note_window() { ++windows_; }
  uint64_t cases() const { return cases_; }
  uint64_t mismatches() const { return mismatches_; }
  const std::string& report() const { return report_; }
  uint64_t type_seen(unsigned t) const { return type_seen_[t]; }
  uint64_t status_seen(unsigned s) const { return status_seen_[s]; }

  std::string coverage() const {
    std::string s = std::to_string(windows_) + " windows, " + std::to_string(cases_) + " cases;";
    for (unsigned i = 0; i < 4; ++i) s += std::string(" ") + kStatusName[i] + " " + std::to_string(status_seen_[i]);
    s += "; packets by type:";
    for (unsigned t = 0; t < kNumTypes; ++t)
      s += std::string(" ") + pkt_name(PktType(t)) + " " + std::to_string(type_seen_[t]);
    return s;
  }

private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vxtu_pkt_decode> dut_;
  uint64_t windows_ = 0, cases_ = 0, mismatches_ = 0;
  std::string report_;
  std::array<uint64_t, kNumTypes> type_seen_{};
  std::array<uint64_t, 4> status_seen_{};
};

#define EXPECT_BENCH_CLEAN(bench)                                                                  \
  do {                                                                                             \
    std::printf("%s\n", (bench).coverage().c_str());                                               \
    EXPECT_GT((bench).cases(), 0u);                                                                \
    EXPECT_EQ((bench).mismatches(), 0u) << (bench).mismatches() << " of " << (bench).cases()       \
                                        << " cases differ; the first:" << (bench).report();        \
  } while (0)

// Every status and every packet type (PktInvalid: the SKZ84 packet) was produced.
void expect_full_coverage(const DecodeBench& b) {
  for (unsigned s = 0; s < 4; ++s) EXPECT_GT(b.status_seen(s), 0u) << kStatusName[s];
  for (unsigned t = 0; t < kNumTypes; ++t) EXPECT_GT(b.type_seen(t), 0u) << pkt_name(PktType(t));
}

Window random_window(Rng& rng) {
  Window w;
  for (auto& b : w) b = uint8_t(rng());
  return w;
}

// ------------------------------------------------------------------------------------------
// The corpus.

struct Stream {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Stream> corpus() {
  std::vector<Stream> out;
  for (const auto& e : std::filesystem::directory_iterator(kCorpus))
    if (e.path().extension() == ".pt") {
      std::ifstream in(e.path(), std::ios::binary);
      out.push_back({e.path().stem().string(),
                     {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}});
    }
  std::sort(out.begin(), out.end(), [](const Stream& a, const Stream& b) { return a.name < b.name; });
  return out;
}

// The window at `pos` of a stream: the stream's bytes, then `fill` past its end.
Window stream_window(const Stream& s, size_t pos, Rng& rng) {
  Window w = random_window(rng);
  const size_t n = std::min<size_t>(kWin, s.bytes.size() - pos);
  std::copy_n(s.bytes.begin() + long(pos), n, w.begin());
  return w;
}

// Every truncation of the window at pos: with the stream's own bytes past avail, and with
// garbage there.
void check_truncations(DecodeBench& bench, const Stream& s, size_t pos, Rng& rng) {
  const Window w = stream_window(s, pos, rng);
  const unsigned have = unsigned(std::min<size_t>(kWin, s.bytes.size() - pos));
  const std::string where = s.name + "@" + std::to_string(pos);
  bench.check_all_avail(w, have, where);
  for (unsigned a = 0; a < have; ++a) {
    Window g = w;
    bench.note_window();
    for (unsigned i = a; i < kWin; ++i) g[i] = uint8_t(rng());
    bench.check(g, a, false, where + " garbage");
    bench.check(g, a, true, where + " garbage");
  }
}

TEST(RtlPktDecode, CorpusPacketsAtEveryTruncation) {
  const auto streams = corpus();
  ASSERT_EQ(streams.size(), 173u) << kCorpus;
  DecodeBench bench;
  Rng rng(1);
  uint64_t packets = 0, errors = 0;
  for (const Stream& s : streams) {
    for (bool skz84 : {false, true}) {
      // Step through the stream as the decoder does: packet by packet; past a bad byte, on.
      size_t pos = 0;
      while (pos < s.bytes.size()) {
        check_truncations(bench, s, pos, rng);
        Packet p;
        const int n = decode_packet(s.bytes.data() + pos, s.bytes.size() - pos, p, DecodeErrata{skz84});
        if (n == 0) break;  // truncated by the end of the stream
        if (n > 0) {
          ++packets;
          pos += size_t(n);
        } else {
          ++errors;
          ++pos;
        }
      }
    }
  }
  std::printf("%zu streams: %" PRIu64 " packets, %" PRIu64 " decode errors stepped over\n", streams.size(),
              packets, errors);
  EXPECT_GT(packets, 2000u);
  EXPECT_BENCH_CLEAN(bench);
}

TEST(RtlPktDecode, CorpusEveryOffset) {
  const auto streams = corpus();
  ASSERT_EQ(streams.size(), 173u) << kCorpus;
  DecodeBench bench;
  Rng rng(2);
  for (const Stream& s : streams)
    for (size_t pos = 0; pos < s.bytes.size(); ++pos) check_truncations(bench, s, pos, rng);
  EXPECT_BENCH_CLEAN(bench);
}

// ------------------------------------------------------------------------------------------
// Random and shaped windows.

// Random bytes from `from` on, shaped (one time in two) towards the cases random bytes rarely
// reach: long CYCs, valid TMAs, TNT-64 without a stop bit, MNT, PSBs, zero and 0xff payloads.
void shape(Window& w, unsigned from, Rng& rng) {
  for (unsigned i = from; i < kWin; ++i) w[i] = uint8_t(rng());
  switch (rng() % 16) {
    case 0: {  // zeros from a random byte on
      for (unsigned i = std::max<unsigned>(from, unsigned(rng() % kWin)); i < kWin; ++i) w[i] = 0;
      break;
    }
    case 1: {  // 0xff payload
      for (unsigned i = from; i < kWin; ++i) w[i] = 0xff;
      break;
    }
    case 2:
    case 3: {  // CYC extension bytes: continuation bits on bytes 1..k, k up to 10
      const unsigned k = unsigned(rng() % 11);
      for (unsigned i = std::max(from, 1u); i <= k && i < kWin; ++i) w[i] |= 1;
      if (k + 1 < kWin && k + 1 >= from) w[k + 1] &= 0xfe;
      break;
    }
    case 4: {  // TMA reserved bits clear
      if (from <= 4) w[4] = 0;
      if (from <= 6) w[6] &= 1;
      break;
    }
    case 5: {  // TNT-64 payload with at most a low stop bit
      for (unsigned i = std::max(from, 2u); i < 8; ++i) w[i] = 0;
      if (from <= 2) w[2] = uint8_t(rng() % 4);
      break;
    }
    case 6: {  // MNT's third byte
      if (from <= 2) w[2] = 0x88;
      break;
    }
    case 7: {  // a PSB pattern from `from` on, possibly with one bit flipped
      for (unsigned i = from; i < kWin; ++i) w[i] = (i % 2) ? 0x82 : 0x02;
      if (rng() % 2) {
        const unsigned bit = unsigned(rng() % (8 * kWin));
        if (bit / 8 >= from) w[bit / 8] ^= uint8_t(1u << (bit % 8));
      }
      break;
    }
    default:
      break;
  }
}

TEST(RtlPktDecode, RandomWindows) {
  DecodeBench bench;
  Rng rng(3);
  for (int i = 0; i < 1000000; ++i) bench.check_all_avail(random_window(rng));
  EXPECT_BENCH_CLEAN(bench);
}

// Every first byte, every 02 xx, every 02 c3 xx, with random and shaped payloads; every valid
// packet found there also with one or two bits flipped.
TEST(RtlPktDecode, EveryOpcodePrefixAndMutations) {
  DecodeBench bench;
  Rng rng(4);
  std::vector<std::vector<uint8_t>> prefixes;
  for (unsigned b = 0; b < 256; ++b) {
    prefixes.push_back({uint8_t(b)});
    prefixes.push_back({0x02, uint8_t(b)});
    prefixes.push_back({0x02, 0xc3, uint8_t(b)});
  }
  uint64_t valid = 0;
  for (const auto& prefix : prefixes) {
    for (int k = 0; k < 256; ++k) {
      Window w{};
      std::copy(prefix.begin(), prefix.end(), w.begin());
      shape(w, unsigned(prefix.size()), rng);
      bench.check_all_avail(w);
      // A valid packet: flip bits in it (and in the byte after it).
      Packet p;
      const int n = decode_packet(w.data(), kWin, p, DecodeErrata{true});
      if (n <= 0 || k % 4) continue;
      ++valid;
      const unsigned span = std::min<unsigned>(kWin, unsigned(n) + 1);
      for (int f = 0; f < 6; ++f) {
        Window m = w;
        for (int flips = 0; flips < 1 + (f % 2); ++flips) {
          const unsigned bit = unsigned(rng() % (8 * span));
          m[bit / 8] ^= uint8_t(1u << (bit % 8));
        }
        bench.check_all_avail(m);
      }
    }
  }
  std::printf("%zu prefixes, %" PRIu64 " valid packets mutated\n", prefixes.size(), valid);
  expect_full_coverage(bench);
  EXPECT_BENCH_CLEAN(bench);
}

// Valid packets of the corpus with one bit flipped, every bit of the packet and the next byte.
TEST(RtlPktDecode, CorpusPacketsWithEveryBitFlipped) {
  const auto streams = corpus();
  ASSERT_EQ(streams.size(), 173u) << kCorpus;
  DecodeBench bench;
  Rng rng(5);
  std::vector<Window> seen;
  for (const Stream& s : streams) {
    size_t pos = 0;
    while (pos < s.bytes.size()) {
      Packet p;
      const int n = decode_packet(s.bytes.data() + pos, s.bytes.size() - pos, p, DecodeErrata{true});
      if (n == 0) break;
      if (n < 0) {
        ++pos;
        continue;
      }
      const Window w = stream_window(s, pos, rng);
      pos += size_t(n);
      if (std::find(seen.begin(), seen.end(), w) != seen.end()) continue;
      seen.push_back(w);
      const unsigned span = std::min<unsigned>(kWin, unsigned(n) + 1);
      for (unsigned bit = 0; bit < 8 * span; ++bit) {
        Window m = w;
        m[bit / 8] ^= uint8_t(1u << (bit % 8));
        bench.check_all_avail(m);
      }
    }
  }
  std::printf("%zu distinct corpus packet windows\n", seen.size());
  EXPECT_BENCH_CLEAN(bench);
}

// avail_i above the window (17..31) means the whole window, as the model clamps it.
TEST(RtlPktDecode, AvailAboveWindow) {
  DecodeBench bench;
  Rng rng(6);
  for (int i = 0; i < 20000; ++i) {
    Window w = random_window(rng);
    shape(w, 1 + unsigned(rng() % 2), rng);
    const unsigned a = kWin + 1 + unsigned(rng() % 15);
    bench.note_window();
    bench.check(w, a, rng() % 2);
  }
  EXPECT_BENCH_CLEAN(bench);
}

// ------------------------------------------------------------------------------------------
// The last IP.

// xtu_pt_pkg::last_ip_status_e.
uint8_t rtl_status(LastIp::Status s) {
  switch (s) {
    case LastIp::kOk: return 0;
    case LastIp::kNoIp: return 1;
    case LastIp::kSuppressed: return 2;
  }
  return 3;
}

TEST(RtlLastIp, RandomSequencesAgainstModel) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Vxtu_last_ip>(ctx.get());
  Rng rng(7);
  LastIp model;
  uint64_t cycles = 0, mismatches = 0, updates = 0, clears = 0, resets = 0;
  std::array<uint64_t, 3> status_seen{};
  std::string report;
  auto compare = [&](const char* what, uint64_t m, uint64_t r) {
    if (m == r) return;
    ++mismatches;
    if (report.size() < 3000) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "\n  cycle %" PRIu64 ": %s model=0x%" PRIx64 " rtl=0x%" PRIx64, cycles, what, m, r);
      report += buf;
    }
  };
  auto edge = [&] {
    dut->clk_i = 1;
    dut->eval();
    dut->clk_i = 0;
    dut->eval();
  };
  // Reset.
  dut->rst_ni = 0;
  dut->clk_i = 0;
  dut->clear_i = 0;
  dut->upd_i = 0;
  dut->eval();
  edge();
  dut->rst_ni = 1;

  for (int seq = 0; seq < 2000; ++seq) {
    // Each sequence has its own mix: how often it clears, updates, resets, suppresses.
    const unsigned p_clear = unsigned(rng() % 20), p_upd = 30 + unsigned(rng() % 70);
    const unsigned len = 50 + unsigned(rng() % 300);
    for (unsigned c = 0; c < len; ++c, ++cycles) {
      const bool rst = rng() % 500 == 0;
      const bool clear = unsigned(rng() % 100) < p_clear;
      const bool upd = unsigned(rng() % 100) < p_upd;
      const uint8_t ipc = uint8_t(rng() % 8);
      uint64_t ip = rng();
      switch (rng() % 4) {  // bit 47 set or clear, small values, high bits
        case 0: ip &= 0xffffffffffffull; break;
        case 1: ip |= uint64_t{1} << 47; break;
        case 2: ip &= 0xffff; break;
        default: break;
      }
      dut->rst_ni = !rst;
      dut->clear_i = clear;
      dut->upd_i = upd;
      dut->upd_ipc_i = ipc;
      dut->upd_ip_i = ip;
      dut->eval();

      // The registered outputs: the state held.
      uint64_t mip = 0;
      const LastIp::Status ms = model.query(&mip);
      ++status_seen[ms];
      compare("status_o", rtl_status(ms), dut->status_o);
      compare("ip_o", mip, dut->ip_o);
      compare("raw_o", model.raw(), dut->raw_o);

      // This cycle's clear, then update: the next state and update()'s result.
      LastIp next = model;
      if (clear) {
        next.reset();
        ++clears;
      }
      const bool ok = LastIp(next).update(ipc, ip);
      compare("ipc_ok_o", ok, dut->ipc_ok_o);
      if (upd) {
        next.update(ipc, ip);
        ++updates;
      }
      uint64_t nip = 0;
      const LastIp::Status ns = next.query(&nip);
      compare("status_next_o", rtl_status(ns), dut->status_next_o);
      compare("ip_next_o", nip, dut->ip_next_o);

      edge();
      model = rst ? LastIp{} : next;
      resets += rst;
    }
  }
  std::printf("%" PRIu64 " cycles: %" PRIu64 " updates, %" PRIu64 " clears, %" PRIu64
              " resets; status ok %" PRIu64 " noip %" PRIu64 " suppressed %" PRIu64 "\n",
              cycles, updates, clears, resets, status_seen[0], status_seen[1], status_seen[2]);
  for (uint64_t n : status_seen) EXPECT_GT(n, 1000u);
  EXPECT_GT(resets, 100u);
  EXPECT_EQ(mismatches, 0u) << "the first:" << report;
  dut->final();
}

}  // namespace
