// The RTL pkt_decoder block against its SystemC model, cycle for cycle.
//
// rtl/pkt/xtu_pkt_decoder.sv (Verilated --cc into xtu_rtl_models at DEC_WIDTH 1, 2 and 4 with
// the model's default window, at DEC_WIDTH 1 with a 32-byte window (raised to 40 by both), and as the gate netlist Yosys
// makes of it at the defaults; clocked from SystemC by cosim.hpp's VerilatedBlock) and
// model::PktDecoder (systemc/src/pkt_decoder.cpp, same width and window) sit side by side on one
// clock. One stimulus drives both: start pulses and resets, the SKZ84 setting, trace beats cut the
// way trace_reader cuts them (8-byte words of the trace, word aligned, sometimes split where a
// streaming TRACE_HEAD would stop; random data outside the valid bytes and in the end beat) with
// random valid gaps, and a random ready on the output. Compared at every cycle: in_ready;
// out_valid; while valid, n and every field of packets 0..n-1 (kind, offset, ip, ip_valid,
// tnt_bits, tnt_count, cr3, nr, vmcs, mode64, reason: everything but time/time_valid, which the RTL
// does not have yet); pos_o; TRACE_TAIL; and the counter increments of the edge (PACKETS, the 26
// per-type counters, DECODE_ERRORS, TRACE_BYTES: the change of the model's counters against the
// RTL's increment outputs).
//
// Streams: every .pt of libipt's corpus (shared/libipt-corpus), SKZ84 off and on; the captured
// bundles' trace.pt (hashsort_chained, timing_packing, overflow); random bytes and PT-like soup
// (PSBs, runs of 02 82 in both phases, packets of every kind); real streams damaged: garbage
// inserted, bits flipped, cut short, the start dropped, bytes lost, PSBs removed or lengthened into
// longer runs (resynchronisation, NOSYNC, End in the middle of a packet); streams ending in an
// SKZ84 <invalid> packet whose last byte is missing. A stream ends when the End item is taken; one
// that stops making progress (a stall: every test expects none) is
// abandoned after a while, as are a few streams at a random point (a start pulse or a reset in the
// middle). XTU_PKT_DECODER_VERBOSE=1 prints each stalled stream.
//
// Each TEST elaborates its own bench (CTest runs each in its own process: SystemC elaborates once
// per process).
#include <gtest/gtest.h>

#include "cosim.hpp"  // before any SystemC header (see there)

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vxtu_pkt_decoder_w1.h"
#include "Vxtu_pkt_decoder_w1c32.h"
#include "Vxtu_pkt_decoder_w2.h"
#include "Vxtu_pkt_decoder_gates.h"
#include "Vxtu_pkt_decoder_w4.h"
#include "xtu/model/pkt_decoder.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"
#include "xtu/regs.hpp"

namespace {

using namespace sc_core;
namespace M = xtu::model;
using K = M::WalkPacket::Kind;
using xtu::cosim::Comparator;
using xtu::cosim::VerilatedBlock;
using Rng = std::mt19937_64;

sc_time period() { return sc_time(1, SC_NS); }
const std::string kCorpus = std::string(XTU_SHARED_DIR) + "/libipt-corpus";
constexpr unsigned kNumTypes = 26;  // per-type counters: PAD .. PTW
constexpr unsigned kPktFirst = xtu::regs::counters::kPktFirst;

constexpr unsigned bits_for(unsigned v) {  // $clog2(v + 1)
  unsigned b = 0;
  while ((1u << b) <= v) ++b;
  return b;
}
constexpr unsigned words64(unsigned bits) { return (bits + 63) / 64; }

// Bits [lo, lo+w) of a vector of 64-bit words (w <= 64).
uint64_t field(const sc_vector<sc_signal<uint64_t>>& v, unsigned lo, unsigned w) {
  uint64_t r = v[lo / 64].read() >> (lo % 64);
  if (lo % 64 + w > 64) r |= v[lo / 64 + 1].read() << (64 - lo % 64);
  return w == 64 ? r : r & ((uint64_t{1} << w) - 1);
}

// ---------------------------------------------------------------------------------------------
// The Verilated decoder with the model's pins.

template <class V, unsigned W>
class DecoderRtl : public VerilatedBlock<V> {
public:
  static constexpr unsigned kNumW = bits_for(W);
  sc_in<bool> rst_ni{"rst_ni"}, start_i{"start_i"}, skz84_i{"skz84_i"};
  sc_in<bool> in_valid_i{"in_valid_i"}, in_end_i{"in_end_i"}, out_ready_i{"out_ready_i"};
  sc_in<uint64_t> in_data_i{"in_data_i"}, in_offset_i{"in_offset_i"};
  sc_in<uint32_t> in_skip_i{"in_skip_i"}, in_n_i{"in_n_i"};
  sc_out<bool> in_ready_o{"in_ready_o"}, out_valid_o{"out_valid_o"}, inc_decode_errors_o{"inc_decode_errors_o"};
  sc_out<uint32_t> out_n_o{"out_n_o"}, out_kind_o{"out_kind_o"}, out_ip_valid_o{"out_ip_valid_o"},
      out_tnt_count_o{"out_tnt_count_o"}, out_nr_o{"out_nr_o"}, out_mode64_o{"out_mode64_o"},
      out_reason_o{"out_reason_o"}, inc_packets_o{"inc_packets_o"}, inc_trace_bytes_o{"inc_trace_bytes_o"};
  sc_vector<sc_out<uint64_t>> out_offset_o{"out_offset_o", W}, out_ip_o{"out_ip_o", W},
      out_tnt_bits_o{"out_tnt_bits_o", words64(47 * W)}, out_cr3_o{"out_cr3_o", words64(52 * W)},
      out_vmcs_o{"out_vmcs_o", words64(52 * W)}, inc_pkt_type_o{"inc_pkt_type_o", words64(kNumTypes * kNumW)};
  sc_out<uint64_t> pos_o{"pos_o"}, trace_tail_o{"trace_tail_o"};

  explicit DecoderRtl(const sc_module_name& n) : VerilatedBlock<V>(n) {
    this->combinational = false;  // every output comes from a flip-flop
    auto& v = this->rtl();
    this->clock(v.clk_i);
    this->input(rst_ni, v.rst_ni);
    this->input(start_i, v.start_i);
    this->input(skz84_i, v.skz84_i);
    this->input(in_valid_i, v.in_valid_i);
    this->input(in_data_i, v.in_data_i);
    this->input(in_offset_i, v.in_offset_i);
    this->input(in_skip_i, v.in_skip_i);
    this->input(in_n_i, v.in_n_i);
    this->input(in_end_i, v.in_end_i);
    this->input(out_ready_i, v.out_ready_i);
    this->output(in_ready_o, v.in_ready_o);
    this->output(out_valid_o, v.out_valid_o);
    this->output(out_n_o, v.out_n_o);
    this->output(out_kind_o, v.out_kind_o);
    this->output(out_offset_o, v.out_offset_o);
    this->output(out_ip_o, v.out_ip_o);
    this->output(out_ip_valid_o, v.out_ip_valid_o);
    this->output(out_tnt_bits_o, v.out_tnt_bits_o);
    this->output(out_tnt_count_o, v.out_tnt_count_o);
    this->output(out_cr3_o, v.out_cr3_o);
    this->output(out_nr_o, v.out_nr_o);
    this->output(out_vmcs_o, v.out_vmcs_o);
    this->output(out_mode64_o, v.out_mode64_o);
    this->output(out_reason_o, v.out_reason_o);
    this->output(pos_o, v.pos_o);
    this->output(trace_tail_o, v.trace_tail_o);
    this->output(inc_packets_o, v.inc_packets_o);
    this->output(inc_pkt_type_o, v.inc_pkt_type_o);
    this->output(inc_decode_errors_o, v.inc_decode_errors_o);
    this->output(inc_trace_bytes_o, v.inc_trace_bytes_o);
  }
};

// ---------------------------------------------------------------------------------------------
// Streams.

struct Stream {
  std::string name;
  std::vector<uint8_t> bytes;
  bool skz84 = false;
};

// The captured bundles (tests/e2e of the build; XTU_E2E_DIR overrides).
std::string e2e_dir() {
  const char* env = std::getenv("XTU_E2E_DIR");
  return env && *env ? env : XTU_E2E_DIR;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(kCorpus))
    if (e.path().extension() == ".pt") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

const uint8_t kPsb[16] = {2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82};

// Bytes that look like PT: valid packets of many kinds, PSBs and pieces of PSB runs.
void append_pt_like(std::vector<uint8_t>& v, Rng& rng, size_t n) {
  auto r = [&](uint64_t k) { return uint64_t(rng() % k); };
  size_t end = v.size() + n;
  while (v.size() < end) {
    switch (r(16)) {
      case 0: v.insert(v.end(), kPsb, kPsb + 16); break;                          // PSB
      case 1: {  // a 02 82 run
        size_t k = 1 + r(24);
        for (size_t i = 0; i < k; ++i) v.push_back(i % 2 ? 0x82 : 2);
        break;
      }
      case 2: v.push_back(0x82); break;                                           // the other phase
      case 3: v.insert(v.end(), {2, 0x23}); break;                                // PSBEND
      case 4: v.insert(v.end(), {2, 0xf3}); break;                                // OVF
      case 5: v.push_back(uint8_t((r(63) + 1) << 1 | 0)); if (v.back() == 2) v.back() = 4; break;  // TNT-8
      case 6: {                                                                   // TIP*/FUP, any IPBytes
        static const uint8_t opc[] = {0x0d, 0x11, 0x01, 0x1d};
        uint8_t ipc = uint8_t(r(8));
        v.push_back(uint8_t(ipc << 5 | opc[r(4)]));
        static const int pay[] = {0, 2, 4, 6, 6, 0, 8, 0};
        for (int i = 0; i < pay[ipc]; ++i) v.push_back(uint8_t(rng()));
        break;
      }
      case 7: v.insert(v.end(), {2, 0xa3}); for (int i = 0; i < 6; ++i) v.push_back(uint8_t(rng())); break;  // TNT-64
      case 8: v.insert(v.end(), {2, 0x43}); for (int i = 0; i < 6; ++i) v.push_back(uint8_t(rng())); break;  // PIP
      case 9: v.insert(v.end(), {2, 0xc8}); for (int i = 0; i < 5; ++i) v.push_back(uint8_t(rng())); break;  // VMCS
      case 10: v.insert(v.end(), {0x99, uint8_t(r(4) == 0 ? rng() : r(4))}); break;  // MODE.Exec/TSX
      case 11: {                                                                  // TMA (reserved bits at times)
        v.insert(v.end(), {2, 0x73, uint8_t(rng()), uint8_t(rng()), uint8_t(r(4) == 0 ? 1 : 0), uint8_t(rng()),
                           uint8_t(r(4) == 0 ? rng() : r(2))});
        break;
      }
      case 12: v.push_back(0); break;                                             // PAD
      case 13: v.push_back(0x59); v.push_back(uint8_t(rng())); break;             // MTC
      case 14: v.push_back(uint8_t(rng())); break;                                // anything
      default: {                                                                  // CYC
        v.push_back(uint8_t(rng() | 3));
        while ((v.back() & (v.size() > 1 && (v[v.size() - 2] & 3) == 3 ? 4 : 1)) && r(3)) v.push_back(uint8_t(rng()));
        break;
      }
    }
  }
}

// A real stream damaged: garbage inserted, bits flipped, cut short, the start dropped, PSBs
// removed or made into longer runs.
std::vector<uint8_t> damage(const std::vector<uint8_t>& in, Rng& rng) {
  std::vector<uint8_t> v = in;
  auto r = [&](uint64_t k) { return k ? uint64_t(rng() % k) : 0; };
  unsigned ops = 1 + unsigned(r(4));
  for (unsigned o = 0; o < ops && !v.empty(); ++o) {
    size_t at = r(v.size());
    switch (r(7)) {
      case 0: {  // garbage
        std::vector<uint8_t> g(1 + r(40));
        for (auto& b : g) b = uint8_t(rng());
        v.insert(v.begin() + long(at), g.begin(), g.end());
        break;
      }
      case 1:  // bits flipped
        for (unsigned i = 0, k = 1 + unsigned(r(6)); i < k; ++i) v[r(v.size())] ^= uint8_t(1u << r(8));
        break;
      case 2: v.resize(at); break;                                         // cut short
      case 3: v.erase(v.begin(), v.begin() + long(std::min<size_t>(at, 1 + r(100)))); break;  // start dropped
      case 4: {  // a PSB removed (its first byte changed) or lengthened by pairs
        auto it = std::search(v.begin() + long(at), v.end(), kPsb, kPsb + 16);
        if (it == v.end()) it = std::search(v.begin(), v.end(), kPsb, kPsb + 16);
        if (it == v.end()) break;
        if (r(2)) {
          *it = uint8_t(rng());
        } else {
          std::vector<uint8_t> pairs(2 * (1 + r(12)));
          for (size_t i = 0; i < pairs.size(); ++i) pairs[i] = i % 2 ? 0x82 : 2;
          v.insert(it, pairs.begin(), pairs.end());
        }
        break;
      }
      case 5: {  // PT-like bytes inserted
        std::vector<uint8_t> g;
        append_pt_like(g, rng, 1 + r(60));
        v.insert(v.begin() + long(at), g.begin(), g.end());
        break;
      }
      default: v.erase(v.begin() + long(at), v.begin() + long(std::min(v.size(), at + 1 + r(6)))); break;  // bytes lost
    }
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The bench: model and RTL on one clock, one stimulus, every output compared each cycle.

struct Stats {
  uint64_t streams = 0, ended = 0, abandoned = 0, stalled = 0, resets = 0, beats = 0, split_beats = 0;
  uint64_t items = 0, packets = 0, full_items = 0, errors = 0, nosync = 0, ends = 0, end_mid_packet = 0;
  uint64_t window_full = 0, in_gaps = 0, out_stalls = 0, skz84_streams = 0;
  uint64_t late_stop = 0;     // an Error or End after other packets in the same item
  uint64_t skz84_invalid = 0; // SKZ84 <invalid> packets decoded (model's tap)
  uint64_t out_of_sync = 0;   // an SKZ84 packet ended past the end of the trace (model's tap)
  std::array<uint64_t, 14> kinds{};
  std::array<uint64_t, 5> item_n{};
};

template <class V, unsigned W>
class Bench : public sc_module {
public:
  static constexpr unsigned kNumW = bits_for(W);
  sc_clock clk{"clk", period()};
  sc_signal<bool> rst_n{"rst_n"}, start{"start"}, skz84{"skz84"};
  M::Channel<M::TraceBeat> in{"in"};      // the stimulus's beat and valid; the model's ready
  M::Channel<M::PktItem> out{"out"};      // the model's item and valid; the sink's ready
  sc_signal<uint64_t> pos{"pos"};
  // The RTL's pins
  sc_signal<uint64_t> in_data{"pin_in_data"}, in_offset{"pin_in_offset"};
  sc_signal<uint32_t> in_skip{"pin_in_skip"}, in_n{"pin_in_n"};
  sc_signal<bool> in_end{"pin_in_end"};
  sc_signal<bool> r_in_ready{"r_in_ready"}, r_out_valid{"r_out_valid"}, r_inc_err{"r_inc_err"};
  sc_signal<uint32_t> r_n{"r_n"}, r_kind{"r_kind"}, r_ip_valid{"r_ip_valid"}, r_tnt_count{"r_tnt_count"},
      r_nr{"r_nr"}, r_mode64{"r_mode64"}, r_reason{"r_reason"}, r_inc_packets{"r_inc_packets"},
      r_inc_tb{"r_inc_tb"};
  sc_vector<sc_signal<uint64_t>> r_offset{"r_offset", W}, r_ip{"r_ip", W}, r_tnt{"r_tnt", words64(47 * W)},
      r_cr3{"r_cr3", words64(52 * W)}, r_vmcs{"r_vmcs", words64(52 * W)},
      r_inc_type{"r_inc_type", words64(kNumTypes * kNumW)};
  sc_signal<uint64_t> r_pos{"r_pos"}, r_tail{"r_tail"};

  M::UnitConfig cfg;
  M::UnitStatus status;
  M::UnitCounters cnt;
  M::PktDecoder model;
  DecoderRtl<V, W> rtl;
  Comparator cmp;
  Stats st;
  bool stop_on_mismatch = true;

  // Stimulus settings.
  std::deque<Stream> streams;
  uint64_t stall_cycles = 400;     // no progress for this long: abandon the stream
  double abandon_probability = 0;  // per stream: start or reset at a random point
  double fixed_valid = -1, fixed_ready = -1;  // if >= 0: the input's / output's probability, fixed
  std::function<void(const M::PktItem&)> on_item;  // every item the sink takes (model side)

  SC_HAS_PROCESS(Bench);
  Bench(const sc_module_name& n, unsigned window, uint64_t seed)
      : sc_module(n), model("model", cfg, status, cnt, W, window), rtl("rtl"), rng_(seed) {
    model.clk_i(clk);
    model.rst_ni(rst_n);
    model.start_i(start);
    model.in.bind(in);
    model.out.bind(out);
    model.pos_o(pos);

    rtl.clk_i(clk);
    rtl.rst_ni(rst_n);
    rtl.start_i(start);
    rtl.skz84_i(skz84);
    rtl.in_valid_i(in.valid);
    rtl.in_data_i(in_data);
    rtl.in_offset_i(in_offset);
    rtl.in_skip_i(in_skip);
    rtl.in_n_i(in_n);
    rtl.in_end_i(in_end);
    rtl.in_ready_o(r_in_ready);
    rtl.out_valid_o(r_out_valid);
    rtl.out_ready_i(out.ready);
    rtl.out_n_o(r_n);
    rtl.out_kind_o(r_kind);
    rtl.out_offset_o.bind(r_offset);
    rtl.out_ip_o.bind(r_ip);
    rtl.out_ip_valid_o(r_ip_valid);
    rtl.out_tnt_bits_o.bind(r_tnt);
    rtl.out_tnt_count_o(r_tnt_count);
    rtl.out_cr3_o.bind(r_cr3);
    rtl.out_nr_o(r_nr);
    rtl.out_vmcs_o.bind(r_vmcs);
    rtl.out_mode64_o(r_mode64);
    rtl.out_reason_o(r_reason);
    rtl.pos_o(r_pos);
    rtl.trace_tail_o(r_tail);
    rtl.inc_packets_o(r_inc_packets);
    rtl.inc_pkt_type_o.bind(r_inc_type);
    rtl.inc_decode_errors_o(r_inc_err);
    rtl.inc_trace_bytes_o(r_inc_tb);

    cmp.add("in_ready", in.ready, r_in_ready);
    cmp.add("out_valid", out.valid, r_out_valid);
    cmp.add("out_n", [this] { return out.valid.read() ? uint64_t(out.data.read().n) : 0; },
            [this] { return r_out_valid.read() ? uint64_t(r_n.read()) : 0; });
    for (unsigned k = 0; k < W; ++k) packet_fields(k);
    cmp.add("pos_o", pos, r_pos);
    cmp.add("trace_tail", [this] { return status.trace_tail; }, [this] { return r_tail.read(); });
    cmp.add("inc_packets", [this] { return delta(M::kCtrPackets); }, [this] { return uint64_t(r_inc_packets.read()); });
    cmp.add("inc_decode_errors", [this] { return delta(M::kCtrDecodeErrors); },
            [this] { return uint64_t(r_inc_err.read()); });
    cmp.add("inc_trace_bytes", [this] { return delta(M::kCtrTraceBytes); },
            [this] { return uint64_t(r_inc_tb.read()); });
    for (unsigned t = 0; t < kNumTypes; ++t)
      cmp.add("inc_pkt_type" + std::to_string(t + 1), [this, t] { return delta(kPktFirst + t); },
              [this, t] { return field(r_inc_type, t * kNumW, kNumW); });

    model.set_tap([this](const M::DecoderTap& t) {
      if (t.kind == M::DecoderTap::Kind::OutOfSync) ++st.out_of_sync;
      if (t.kind == M::DecoderTap::Kind::Packet && t.pkt.type == M::PktType::kInvalid) ++st.skz84_invalid;
    });

    SC_METHOD(on_falling);
    sensitive << clk.negedge_event();
    dont_initialize();
  }

  uint64_t cycles() const { return cmp.samples(); }
  void expect_equal() const {
    EXPECT_EQ(cmp.mismatches(), 0u) << "RTL and model differ, first at " << cmp.first_mismatch();
  }
  // Runs until every stream is done (or a mismatch, or max_cycles).
  void run(uint64_t max_cycles) {
    while (!finished_ && cycles() < max_cycles && !(stop_on_mismatch && cmp.mismatches())) sc_start(1000 * period());
  }
  bool finished() const { return finished_; }

private:
  // The model's counter change since the last sample.
  uint64_t delta(unsigned i) const { return cnt[i] - prev_cnt_[i]; }

  void packet_fields(unsigned k) {
    auto mp = [this, k](auto get) {
      return [this, k, get] {
        if (!out.valid.read() || k >= out.data.read().n) return uint64_t(0);
        return uint64_t(get(out.data.read().p[k]));
      };
    };
    auto rp = [this, k](auto get) {
      return [this, k, get] {
        if (!r_out_valid.read() || k >= r_n.read()) return uint64_t(0);
        return uint64_t(get(k));
      };
    };
    const std::string p = "p" + std::to_string(k) + ".";
    cmp.add(p + "kind", mp([](const M::WalkPacket& q) { return unsigned(q.kind); }),
            rp([this](unsigned i) { return (r_kind.read() >> (4 * i)) & 15; }));
    cmp.add(p + "offset", mp([](const M::WalkPacket& q) { return q.offset; }),
            rp([this](unsigned i) { return r_offset[i].read(); }));
    cmp.add(p + "ip", mp([](const M::WalkPacket& q) { return q.ip; }),
            rp([this](unsigned i) { return r_ip[i].read(); }));
    cmp.add(p + "ip_valid", mp([](const M::WalkPacket& q) { return q.ip_valid; }),
            rp([this](unsigned i) { return (r_ip_valid.read() >> i) & 1; }));
    cmp.add(p + "tnt_bits", mp([](const M::WalkPacket& q) { return q.tnt_bits; }),
            rp([this](unsigned i) { return field(r_tnt, 47 * i, 47); }));
    cmp.add(p + "tnt_count", mp([](const M::WalkPacket& q) { return q.tnt_count; }),
            rp([this](unsigned i) { return (r_tnt_count.read() >> (6 * i)) & 63; }));
    cmp.add(p + "cr3", mp([](const M::WalkPacket& q) { return q.cr3; }),
            rp([this](unsigned i) { return field(r_cr3, 52 * i, 52); }));
    cmp.add(p + "nr", mp([](const M::WalkPacket& q) { return q.nr; }),
            rp([this](unsigned i) { return (r_nr.read() >> i) & 1; }));
    cmp.add(p + "vmcs", mp([](const M::WalkPacket& q) { return q.vmcs; }),
            rp([this](unsigned i) { return field(r_vmcs, 52 * i, 52); }));
    cmp.add(p + "mode64", mp([](const M::WalkPacket& q) { return q.mode64; }),
            rp([this](unsigned i) { return (r_mode64.read() >> i) & 1; }));
    cmp.add(p + "reason", mp([](const M::WalkPacket& q) { return q.reason; }),
            rp([this](unsigned i) { return (r_reason.read() >> (2 * i)) & 3; }));
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  uint64_t below(uint64_t n) { return n ? std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_) : 0; }

  enum class Phase { Idle, Feed, Abort };

  // Everything happens at the falling edge: compare what the last rising edge produced, learn
  // what moved at it, drive the inputs for the next one.
  void on_falling() {
    if (!cmp.compare(cmp.samples()) && stop_on_mismatch) sc_stop();
    prev_cnt_ = cnt;
    const bool edge_ran = last_rst_n_ && !last_start_;  // the last edge was neither reset nor start
    const bool in_moved = edge_ran && beat_valid_ && last_ready_;
    const bool out_moved = edge_ran && last_out_valid_ && out_ready_;
    if (out_moved) take(last_item_);
    if (in_moved) {
      beat_valid_ = false;
      ++st.beats;
    }
    progress_ = in_moved || out_moved ? 0 : progress_ + 1;
    if (in.valid.read() && !in.ready.read() && running_) ++st.window_full;

    bool rst = true, st_pulse = false;
    switch (phase_) {
      case Phase::Idle:
        if (idle_left_ > 0) {
          --idle_left_;
          break;
        }
        if (streams.empty()) {
          finished_ = true;
          sc_stop();
          break;
        }
        begin_stream();
        st_pulse = true;
        break;
      case Phase::Feed:
        if (stream_done_) {
          end_stream(0);
        } else if (progress_ > stall_cycles) {
          ++st.stalled;
          if (std::getenv("XTU_PKT_DECODER_VERBOSE"))
            std::printf("stall: %s (%zu bytes): pos_o %" PRIu64 ", TRACE_TAIL %" PRIu64 ", %" PRIu64 " bytes fed\n",
                        cur_.name.c_str(), cur_.bytes.size(), pos.read(), status.trace_tail, next_);
          end_stream(0);
        } else if (abort_at_ && cycle_in_stream_ == abort_at_) {
          ++st.abandoned;
          phase_ = Phase::Abort;
          abort_left_ = chance(0.5) ? 0 : 1 + unsigned(below(3));  // 0: a start pulse; else reset cycles
          ++st.resets;
        } else {
          feed();
        }
        ++cycle_in_stream_;
        break;
      case Phase::Abort:
        if (abort_left_ > 0) {
          --abort_left_;
          rst = false;
          beat_valid_ = false;
          if (abort_left_ == 0) end_stream(0);
        } else {
          end_stream(0);  // the next stream's start pulse is the abort
        }
        break;
    }
    // Phases of the input and output timing.
    if (timing_left_-- == 0) {
      static const double pv[] = {1.0, 0.8, 0.4, 0.1}, pr[] = {1.0, 0.9, 0.5, 0.15};
      p_valid_ = fixed_valid >= 0 ? fixed_valid : pv[below(4)];
      p_ready_ = fixed_ready >= 0 ? fixed_ready : pr[below(4)];
      timing_left_ = 50 + below(500);
    }
    out_ready_ = chance(p_ready_);
    if (!out_ready_ && out.valid.read()) ++st.out_stalls;

    rst_n.write(rst);
    start.write(st_pulse);
    drive_beat();
    out.ready.write(out_ready_);
    last_rst_n_ = rst;
    last_start_ = st_pulse;
    if (st_pulse) running_ = true;
    if (!rst) running_ = false;
    last_ready_ = in.ready.read();
    last_out_valid_ = out.valid.read();
    if (last_out_valid_) last_item_ = out.data.read();
  }

  void begin_stream() {
    cur_ = streams.front();
    streams.pop_front();
    ++st.streams;
    st.skz84_streams += cur_.skz84;
    // The errata setting changes with the start pulse: both see it from that edge on.
    model.set_errata(M::DecodeErrata{cur_.skz84});
    skz84.write(cur_.skz84);
    next_ = 0;
    end_sent_ = stream_done_ = false;
    beat_valid_ = false;
    cycle_in_stream_ = 0;
    progress_ = 0;
    abort_at_ = chance(abandon_probability) ? 1 + below(cur_.bytes.size() / 3 + 20) : 0;
    phase_ = Phase::Feed;
  }
  void end_stream(unsigned idle) {
    phase_ = Phase::Idle;
    idle_left_ = idle + unsigned(below(4));
    beat_valid_ = false;
  }

  // The next beat, cut as trace_reader cuts the trace: the rest of the current 8-byte word,
  // or (a streaming TRACE_HEAD) less.
  void feed() {
    if (beat_valid_) return;  // held until it moves
    if (!chance(p_valid_)) {
      ++st.in_gaps;
      return;
    }
    const auto& b = cur_.bytes;
    beat_ = M::TraceBeat{};
    beat_.data = rng_();
    if (next_ < b.size()) {
      uint64_t lo = next_, word = lo & ~uint64_t(7), hi = std::min<uint64_t>(word + 8, b.size());
      if (hi - lo > 1 && chance(0.06)) {
        hi = lo + 1 + below(hi - lo - 1);
        ++st.split_beats;
      }
      beat_.offset = lo;
      beat_.skip = uint8_t(lo - word);
      beat_.n = uint8_t(hi - lo);
      for (uint64_t i = lo; i < hi; ++i) {
        beat_.data &= ~(uint64_t{0xff} << (8 * (i - word)));
        beat_.data |= uint64_t(b[i]) << (8 * (i - word));
      }
      next_ = hi;
    } else if (!end_sent_) {
      beat_.offset = b.size();
      beat_.end = true;
      end_sent_ = true;
    } else {
      return;
    }
    beat_valid_ = true;
  }
  void drive_beat() {
    in.valid.write(beat_valid_);
    if (!beat_valid_) return;
    in.data.write(beat_);
    in_data.write(beat_.data);
    in_offset.write(beat_.offset);
    in_skip.write(beat_.skip);
    in_n.write(beat_.n);
    in_end.write(beat_.end);
  }

  void take(const M::PktItem& it) {
    ++st.items;
    ++st.item_n[it.n];
    if (it.n == W) ++st.full_items;
    for (unsigned i = 0; i < it.n; ++i) {
      const auto& p = it.p[i];
      ++st.kinds[unsigned(p.kind)];
      ++st.packets;
      if (p.kind == K::Error) ++(p.reason == 3 ? st.nosync : st.errors);
      if ((p.kind == K::Error || p.kind == K::End) && i > 0) ++st.late_stop;
      if (p.kind == K::End) {
        ++st.ends;
        if (p.offset < cur_.bytes.size()) ++st.end_mid_packet;
        stream_done_ = true;
        ++st.ended;
      }
    }
    if (on_item) on_item(it);
  }

  Rng rng_;
  M::UnitCounters prev_cnt_;
  Phase phase_ = Phase::Idle;
  Stream cur_;
  uint64_t next_ = 0, cycle_in_stream_ = 0, abort_at_ = 0, progress_ = 0, timing_left_ = 0;
  unsigned idle_left_ = 3, abort_left_ = 0;
  bool end_sent_ = false, stream_done_ = false, finished_ = false, running_ = false;
  bool beat_valid_ = false, out_ready_ = false;
  M::TraceBeat beat_;
  double p_valid_ = 1, p_ready_ = 1;
  bool last_rst_n_ = false, last_start_ = false, last_ready_ = false, last_out_valid_ = false;
  M::PktItem last_item_;
};

// ---------------------------------------------------------------------------------------------

template <class V, unsigned W>
void report(const Bench<V, W>& b, const char* what) {
  const Stats& s = b.st;
  std::printf("%s, DEC_WIDTH %u: %" PRIu64 " cycles, %zu pins compared each cycle; %" PRIu64 " streams (%" PRIu64
              " ended, %" PRIu64 " abandoned, %" PRIu64 " stalled, %" PRIu64 " SKZ84 on), %" PRIu64 " beats (%" PRIu64
              " split), %" PRIu64 " items (n=1..4: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "), %" PRIu64
              " packets out, %" PRIu64 " decode errors, %" PRIu64 " NOSYNC, %" PRIu64 " End (%" PRIu64
              " before the last byte); %" PRIu64 " cycles with the window full, %" PRIu64 " input gaps, %" PRIu64
              " output stalls; %" PRIu64 " Error/End after packets in one item, %" PRIu64 " SKZ84 packets, %" PRIu64
              " of them past the end\n",
              what, W, b.cycles(), b.cmp.pairs(), s.streams, s.ended, s.abandoned, s.stalled, s.skz84_streams, s.beats,
              s.split_beats, s.items, s.item_n[1], s.item_n[2], s.item_n[3], s.item_n[4], s.packets, s.errors, s.nosync,
              s.ends, s.end_mid_packet, s.window_full, s.in_gaps, s.out_stalls, s.late_stop, s.skz84_invalid,
              s.out_of_sync);
  std::printf("  packets by kind:");
  static const char* const names[] = {"tnt", "tip", "pge", "pgd", "fup", "psb", "psbend", "ovf", "pip", "vmcs",
                                      "mode.exec", "other", "error", "end"};
  for (unsigned k = 0; k < 14; ++k) std::printf(" %s %" PRIu64, names[k], s.kinds[k]);
  std::printf("\n");
}

// Every packet type decoded at least once (the model's counters: the bench's own run).
template <class V, unsigned W>
void expect_every_type(const Bench<V, W>& b) {
  for (unsigned t = 0; t < kNumTypes; ++t)
    EXPECT_GT(b.cnt[kPktFirst + t], 0u) << "packet type " << t + 1 << " never decoded";
}

// No stream stalls the decoder (the window holds at least 16 DEC_WIDTH + 24 bytes: a smaller
// `window` is raised to that, in the model and in the RTL). `Allowed` is kept for streams
// abandoned on purpose.
enum class Stalls { None, Allowed };

template <class V, unsigned W>
Stats run_streams(std::deque<Stream> streams, unsigned window, uint64_t seed, double abandon, const char* what,
                  uint64_t max_cycles, bool every_type, Stalls stalls) {
  Bench<V, W> b("bench", window, seed);
  b.streams = std::move(streams);
  b.abandon_probability = abandon;
  b.run(max_cycles);
  report(b, what);
  b.expect_equal();
  EXPECT_TRUE(b.finished()) << "not every stream ran within " << max_cycles << " cycles";
  EXPECT_GT(b.st.ended, 0u);
  if (stalls == Stalls::None) {
    EXPECT_EQ(b.st.stalled, 0u) << "a stream stalled";
  }
  if (W > 1) {
    EXPECT_GT(b.st.full_items, 0u) << "never " << W << " packets in one item";
  }
  if (every_type) expect_every_type(b);
  return b.st;
}

// The corpus, each stream with SKZ84 off and on.
std::deque<Stream> corpus_streams() {
  std::deque<Stream> s;
  for (const auto& f : corpus_files())
    for (bool skz : {false, true}) s.push_back({f, read_file(f), skz});
  return s;
}

// Random and damaged streams: random bytes, PT-like soup, damaged corpus streams and damaged
// slices of a bundle (if present).
std::deque<Stream> random_streams(uint64_t seed, unsigned n) {
  Rng rng(seed);
  std::deque<Stream> s;
  auto files = corpus_files();
  std::vector<uint8_t> bundle = read_file(e2e_dir() + "/timing_packing/bundle/trace.pt");
  for (unsigned i = 0; i < n; ++i) {
    Stream x;
    x.skz84 = rng() % 2;
    switch (rng() % 7) {
      case 6: {  // SKZ84: a TMA with reserved bits set, at the end, its 8th byte missing or not
        x.name = "skz84 tail";
        x.skz84 = rng() % 4 != 0;
        x.bytes.insert(x.bytes.end(), kPsb, kPsb + 16);
        append_pt_like(x.bytes, rng, rng() % 100);
        x.bytes.insert(x.bytes.end(),
                       {2, 0x73, uint8_t(rng()), uint8_t(rng()), uint8_t(1 + rng() % 255), uint8_t(rng())});
        for (uint64_t j = 0, k = rng() % 4; j < k; ++j) x.bytes.push_back(uint8_t(rng()));
        break;
      }
      case 0: {  // random bytes, sometimes a PSB in them
        x.name = "random";
        x.bytes.resize(rng() % 600);
        for (auto& b : x.bytes) b = uint8_t(rng());
        if (rng() % 2 && !x.bytes.empty())
          x.bytes.insert(x.bytes.begin() + long(rng() % x.bytes.size()), kPsb, kPsb + 16);
        break;
      }
      case 1:  // PT-like soup
        x.name = "soup";
        append_pt_like(x.bytes, rng, rng() % 700);
        break;
      case 2: case 3: {  // a damaged corpus stream
        x.name = files[rng() % files.size()];
        x.bytes = damage(read_file(x.name), rng);
        break;
      }
      default: {  // a damaged slice of a real bundle (or soup without one)
        x.name = "bundle slice";
        if (bundle.size() > 4096) {
          size_t at = rng() % (bundle.size() - 4096), len = 64 + rng() % 4000;
          x.bytes.assign(bundle.begin() + long(at), bundle.begin() + long(at + len));
          if (rng() % 4) x.bytes = damage(x.bytes, rng);
        } else {
          append_pt_like(x.bytes, rng, rng() % 700);
        }
        break;
      }
    }
    s.push_back(std::move(x));
  }
  return s;
}

std::deque<Stream> bundle_stream(const std::string& name) {
  std::string path = e2e_dir() + "/" + name + "/bundle/trace.pt";
  std::deque<Stream> s;
  if (std::filesystem::exists(path)) s.push_back({name, read_file(path), false});
  return s;
}

// The configurations Verilated by rtl/CMakeLists.txt: V, DEC_WIDTH, the window the model gets.
#define XTU_CONFIGS(X)                                           \
  X(W1, Vxtu_pkt_decoder_w1, 1, 64, Stalls::None)               \
  X(W2, Vxtu_pkt_decoder_w2, 2, 64, Stalls::None)               \
  X(W4, Vxtu_pkt_decoder_w4, 4, 64, Stalls::None)               \
  X(W1Window32, Vxtu_pkt_decoder_w1c32, 1, 32, Stalls::None)

#define XTU_TESTS(NAME, V, W, WIN, STALLS)                                                                  \
  TEST(PktDecoderCosim, Corpus##NAME) {                                                                    \
    run_streams<V, W>(corpus_streams(), WIN, 11 + W, 0.0, "corpus", 20'000'000, STALLS == Stalls::None,     \
                      STALLS);                                                                              \
  }                                                                                                         \
  TEST(PktDecoderCosim, RandomAndDamaged##NAME) {                                                          \
    run_streams<V, W>(random_streams(100 + W + WIN, 2500), WIN, 21 + W, 0.04, "random and damaged",         \
                      20'000'000, false, Stalls::None);                                                  \
  }
XTU_CONFIGS(XTU_TESTS)

void run_bundle_test(const char* bundle, void (*run)(std::deque<Stream>)) {
  auto s = bundle_stream(bundle);
  ASSERT_FALSE(s.empty()) << "no " << e2e_dir() << "/" << bundle << "/bundle/trace.pt (set XTU_E2E_DIR)";
  run(std::move(s));
}
#define XTU_BUNDLE_TEST(BUNDLE, NAME, V, W, WIN, STALLS)                                                   \
  TEST(PktDecoderBundle, BUNDLE##_##NAME) {                                                                \
    run_bundle_test(#BUNDLE, [](std::deque<Stream> s) {                                                   \
      run_streams<V, W>(std::move(s), WIN, 31 + W, 0.0, #BUNDLE, 100'000'000, false, STALLS);              \
    });                                                                                                     \
  }
#define XTU_BUNDLE_TESTS(NAME, V, W, WIN, STALLS)                 \
  XTU_BUNDLE_TEST(hashsort_chained, NAME, V, W, WIN, STALLS)      \
  XTU_BUNDLE_TEST(timing_packing, NAME, V, W, WIN, STALLS)        \
  XTU_BUNDLE_TEST(overflow, NAME, V, W, WIN, STALLS)
// Yosys's own netlist of the block (DEC_WIDTH 2, window 64), the same way.
XTU_TESTS(Gates, Vxtu_pkt_decoder_gates, 2, 64, Stalls::None)
XTU_BUNDLE_TEST(hashsort_chained, Gates, Vxtu_pkt_decoder_gates, 2, 64, Stalls::None)

// A window asked at 32 bytes is raised to 40 at DEC_WIDTH 1: real traces pass there too.
XTU_BUNDLE_TESTS(W1Window32, Vxtu_pkt_decoder_w1c32, 1, 32, Stalls::None)
XTU_BUNDLE_TESTS(W1, Vxtu_pkt_decoder_w1, 1, 64, Stalls::None)
XTU_BUNDLE_TESTS(W2, Vxtu_pkt_decoder_w2, 2, 64, Stalls::None)
XTU_BUNDLE_TESTS(W4, Vxtu_pkt_decoder_w4, 4, 64, Stalls::None)

// A PSB the search has found but cannot accept yet (the two bytes after it are not in the
// window) once stopped the model and the RTL for good when the window was full: in_ready stayed
// low. Now the search position moves to the pending PSB, the window drops the bytes before it
// and takes the bytes that tell. (a) Runs of 02 82 pairs longer than the window at the start
// (the first search); (b) a decode error, then a PSB d bytes later, for each d, with the output
// slow (the window fills while an item waits): some d put the PSB's end at the end of a full
// window. Input always valid. Every stream must end, none may stall.
TEST(PktDecoderCosim, PendingPsbNeverStalls) {
  std::deque<Stream> s;
  for (unsigned pairs : {20u, 28u, 40u, 60u}) {
    Stream x{"long run", {0x55, 0x55, 0x55}, false};
    for (unsigned i = 0; i < pairs; ++i) x.bytes.insert(x.bytes.end(), {2, 0x82});
    x.bytes.insert(x.bytes.end(), {2, 0x23, 0x0e, 0x0e});
    s.push_back(x);
  }
  for (unsigned d = 0; d < 72; ++d) {
    Stream x{"error, then a PSB " + std::to_string(d) + " bytes later", {}, false};
    x.bytes.insert(x.bytes.end(), kPsb, kPsb + 16);
    x.bytes.insert(x.bytes.end(), {2, 0x23, 2, 0x01});  // PSBEND, then 02 01: unknown opcode
    x.bytes.insert(x.bytes.end(), d, 0x00);
    x.bytes.insert(x.bytes.end(), kPsb, kPsb + 16);
    x.bytes.insert(x.bytes.end(), {2, 0x23, 0x0e, 0x0e, 0x0e});
    s.push_back(x);
  }
  Bench<Vxtu_pkt_decoder_w2, 2> b("bench", 64, 5);
  b.streams = std::move(s);
  b.fixed_valid = 1.0;
  b.fixed_ready = 0.1;
  b.stall_cycles = 200;
  b.run(1'000'000);
  report(b, "PSB pending with a full window");
  b.expect_equal();
  EXPECT_TRUE(b.finished());
  EXPECT_EQ(b.st.stalled, 0u) << "a stream stalled";
  EXPECT_EQ(b.st.ended, 4u + 72u) << "every stream reaches its End";
}

}  // namespace
