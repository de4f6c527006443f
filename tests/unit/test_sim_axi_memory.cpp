// AxiMemory (sim/): data, byte lanes and strobes, exact latency and bandwidth in cycles, several
// bursts and IDs outstanding, ID ordering modes, random stalls, the access windows and every
// violation, and VCD tracing. Driven pin-level by an AXI4 traffic generator (AxiTestMaster).
// Each TEST builds its own modules: CTest runs each one in its own process (SystemC
// elaborates once per process).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "sim_support/axi_test_master.hpp"
#include "sim_support/sim_env.hpp"
#include "xtu/sim/axi_memory.hpp"
#include "xtu/sim/clock_reset.hpp"
#include "xtu/sim/trace.hpp"

namespace {

using xtu::model::kAxiRespOkay;
using xtu::model::kAxiRespSlverr;
using xtu::sim::AxiMemory;
using xtu::sim::ClockReset;
using xtu::sim::IdOrder;
using xtu::sim::MemoryTiming;
using xtu::sim::ViolationKind;
using xtu::test::AxiTestMaster;
using xtu::test::Burst;

// Clock/reset, the memory and the traffic generator on one AXI4 bus.
struct Bench {
  ClockReset cr;
  xtu::model::AxiSignals sig{"axi"};
  AxiMemory mem;
  AxiTestMaster master;

  explicit Bench(const MemoryTiming& t = {}, uint64_t master_seed = 1)
      : cr("cr", sc_core::sc_time(1, sc_core::SC_NS), 2), mem("mem", t), master("master", master_seed) {
    mem.clk_i(cr.clk);
    mem.rst_ni(cr.rst_n);
    mem.axi.bind(sig);
    master.clk_i(cr.clk);
    master.rst_ni(cr.rst_n);
    master.m.bind(sig);
  }
  // Runs until every posted burst is done.
  void run(uint64_t max_cycles = 200000) {
    cr.run_until([&] { return master.all_done(); }, max_cycles);
  }
};

Burst rd(uint32_t id, uint64_t addr, uint32_t len, uint32_t size = 3) {
  Burst b;
  b.id = id;
  b.addr = addr;
  b.len = len;
  b.size = size;
  return b;
}

Burst wr(uint32_t id, uint64_t addr, std::vector<uint64_t> data, uint32_t size = 3, std::vector<uint32_t> strb = {}) {
  Burst b;
  b.write = true;
  b.id = id;
  b.addr = addr;
  b.len = static_cast<uint32_t>(data.size() - 1);
  b.size = size;
  b.wdata = std::move(data);
  b.wstrb = std::move(strb);
  return b;
}

std::vector<uint64_t> pattern(size_t n, uint64_t seed) {
  std::vector<uint64_t> v(n);
  std::mt19937_64 g(seed);
  for (auto& x : v) x = g();
  return v;
}

// ---------------------------------------------------------------------------------------------
// Backdoor

TEST(SimAxiMemory, BackdoorIsSparseLittleEndianAndZeroWhereNeverWritten) {
  AxiMemory mem("mem");
  EXPECT_EQ(mem.read64(0x123456789000), 0u);
  EXPECT_EQ(mem.allocated_pages(), 0u);  // reading allocates nothing

  std::vector<uint8_t> buf(10000);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 7 + 1);
  mem.write(0x10FF0, buf.data(), buf.size());  // spans 4 pages
  EXPECT_EQ(mem.allocated_pages(), 4u);
  std::vector<uint8_t> back(buf.size() + 32);
  mem.read(0x10FF0 - 16, back.data(), back.size());
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(back[i], 0) << i;
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), back.begin() + 16));
  for (size_t i = 16 + buf.size(); i < back.size(); ++i) EXPECT_EQ(back[i], 0) << i;

  mem.write64(0x20FFC, 0x0102030405060708);  // across a page boundary
  EXPECT_EQ(mem.read64(0x20FFC), 0x0102030405060708u);
  EXPECT_EQ(mem.read32(0x20FFC), 0x05060708u);
  uint8_t b = 0;
  mem.read(0x20FFC, &b, 1);
  EXPECT_EQ(b, 0x08);  // little-endian
  mem.write32(0x30000, 0xAABBCCDD);
  EXPECT_EQ(mem.read64(0x30000), 0xAABBCCDDu);
}

TEST(SimAxiMemory, RejectsBadTiming) {
  MemoryTiming t;
  t.read_latency = 0;
  EXPECT_THROW(AxiMemory("m0", t), std::invalid_argument);
  t = {};
  t.beat_interval = 0;
  EXPECT_THROW(AxiMemory("m1", t), std::invalid_argument);
  t = {};
  t.max_outstanding = 0;
  EXPECT_THROW(AxiMemory("m2", t), std::invalid_argument);
  t = {};
  t.stall_probability = 1.0;
  EXPECT_THROW(AxiMemory("m3", t), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Data

TEST(SimAxiMemory, WritesThenReadsBackOverTheBus) {
  Bench b;
  b.mem.allow(0x80000000, 0x10000, "buf");
  const std::vector<size_t> lens = {1, 2, 16, 256, 7};
  uint64_t addr = 0x80000000;
  std::vector<uint64_t> addrs;
  for (size_t i = 0; i < lens.size(); ++i) {
    addrs.push_back(addr);
    b.master.post(wr(static_cast<uint32_t>(i), addr, pattern(lens[i], i)));
    addr += 0x1000;  // (a 256-beat burst fills a whole 4 KiB page)
  }
  b.run();
  for (size_t i = 0; i < lens.size(); ++i) {
    EXPECT_EQ(b.master.burst(i).bresp, kAxiRespOkay);
    const auto want = pattern(lens[i], i);
    for (size_t k = 0; k < lens[i]; ++k) EXPECT_EQ(b.mem.read64(addrs[i] + 8 * k), want[k]) << i << "/" << k;
  }
  for (size_t i = 0; i < lens.size(); ++i) b.master.post(rd(9, addrs[i], static_cast<uint32_t>(lens[i] - 1)));
  b.run();
  for (size_t i = 0; i < lens.size(); ++i) {
    const Burst& r = b.master.burst(lens.size() + i);
    EXPECT_EQ(r.rdata, pattern(lens[i], i)) << i;
    EXPECT_EQ(r.rresp, std::vector<uint32_t>(lens[i], kAxiRespOkay));
  }
  EXPECT_TRUE(b.master.errors.empty());
  EXPECT_TRUE(b.mem.violations().empty());
  EXPECT_TRUE(b.mem.idle());
  const auto& s = b.mem.stats();
  EXPECT_EQ(s.write_transactions, 5u);
  EXPECT_EQ(s.read_transactions, 5u);
  EXPECT_EQ(s.write_beats, 282u);
  EXPECT_EQ(s.read_beats, 282u);
  EXPECT_EQ(s.refused_beats, 0u);
  // Never-written memory inside a window reads 0 over the bus too.
  b.master.post(rd(0, 0x80008000, 3));
  b.run();
  EXPECT_EQ(b.master.burst(b.master.count() - 1).rdata, std::vector<uint64_t>(4, 0));
}

TEST(SimAxiMemory, NarrowAndUnalignedBurstsUseTheAxiByteLanes) {
  Bench b;
  b.mem.allow(0x1000, 0x1000, "buf");
  // 8-bit beats from 0x1003: byte k of the burst is at 0x1003+k, on lane (3+k) % 8.
  std::vector<uint64_t> d8;
  std::vector<uint32_t> s8;
  for (uint64_t k = 0; k < 8; ++k) {
    d8.push_back(uint64_t{0xA0 + k} << (8 * ((3 + k) % 8)));
    s8.push_back(1u << ((3 + k) % 8));
  }
  b.master.post(wr(0, 0x1003, d8, 0, s8));
  // 16-bit beats from 0x1021 (unaligned): beat 0 is the single byte 0x1021 on lane 1.
  b.master.post(wr(0, 0x1021, {0xEEFFull << 0, 0x3344ull << 16}, 1, {0x2, 0xC}));
  b.run();
  for (uint64_t k = 0; k < 8; ++k) {
    uint8_t x = 0;
    b.mem.read(0x1003 + k, &x, 1);
    EXPECT_EQ(x, 0xA0 + k) << k;
  }
  EXPECT_EQ(b.mem.read64(0x1000) & 0xFFFFFF, 0u);  // bytes before the burst untouched
  EXPECT_EQ(b.mem.read64(0x100B) & 0xFFFFFFFFFFu, 0u);
  EXPECT_EQ(b.mem.read64(0x1020), 0x3344EE00ull);  // 0x1021 = 0xEE, 0x1022..3 = 0x44, 0x33
  EXPECT_TRUE(b.mem.violations().empty());
  EXPECT_TRUE(b.master.errors.empty());
}

TEST(SimAxiMemory, NarrowReadsAndStrobedWrites) {
  Bench b;
  b.mem.allow(0x1000, 0x1000, "buf");
  std::vector<uint8_t> bytes(64);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0x10 + i);
  b.mem.write(0x1000, bytes.data(), bytes.size());

  // 16-bit beats from 0x1005 (unaligned): beat 0 = byte 0x1005 only (lane 5), then 0x1006..7
  // (lanes 6,7), 0x1008..9 (lanes 0,1).
  b.master.post(rd(1, 0x1005, 2, 1));
  // 32-bit beats from 0x1002: beat 0 = 0x1002..3 (lanes 2,3), beat 1 = 0x1004..7 (lanes 4..7).
  b.master.post(rd(2, 0x1002, 1, 2));
  b.run();
  EXPECT_EQ(b.master.burst(0).rdata, (std::vector<uint64_t>{0x15ull << 40, 0x1716ull << 48, 0x1918ull}));
  EXPECT_EQ(b.master.burst(1).rdata, (std::vector<uint64_t>{0x1312ull << 16, 0x17161514ull << 32}));

  // Strobes: only the selected bytes of a full beat change.
  b.master.post(wr(3, 0x1000, {0x1111111111111111ull, 0x2222222222222222ull}, 3, {0x81, 0x3C}));
  // A 32-bit beat on the upper half (lanes 4..7), strobes 0x30 of those.
  b.master.post(wr(4, 0x1014, {0xAABBCCDD00000000ull}, 2, {0x30}));
  b.run();
  std::vector<uint8_t> want = bytes;
  want[0] = 0x11, want[7] = 0x11;
  want[8 + 2] = want[8 + 3] = want[8 + 4] = want[8 + 5] = 0x22;
  want[0x14] = 0xDD, want[0x15] = 0xCC;
  std::vector<uint8_t> got(64);
  b.mem.read(0x1000, got.data(), got.size());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(b.mem.violations().empty());
  EXPECT_TRUE(b.master.errors.empty());
}

// ---------------------------------------------------------------------------------------------
// Timing: the exact formulas of axi_memory.hpp.

class ReadTiming : public ::testing::TestWithParam<std::tuple<uint32_t, uint32_t>> {};

TEST_P(ReadTiming, BeatKMovesAtArPlusLatencyPlusKIntervals) {
  const auto [latency, interval] = GetParam();
  MemoryTiming t;
  t.read_latency = latency;
  t.beat_interval = interval;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  b.master.post(rd(5, 0x4000, 15));
  b.run();
  const Burst& r = b.master.burst(0);
  ASSERT_EQ(r.t_beats.size(), 16u);
  for (uint64_t k = 0; k < 16; ++k) EXPECT_EQ(r.t_beats[k], r.t_addr + latency + k * interval) << "beat " << k;
  // The 16-beat burst completes L + 15*I = L + 16*I - I cycles after its AR.
  EXPECT_EQ(r.t_resp - r.t_addr, latency + 16 * interval - interval);
  EXPECT_EQ(b.mem.stats().busy_cycles, latency + 15 * interval);
  EXPECT_EQ(b.mem.stats().read_beats, 16u);
}

INSTANTIATE_TEST_SUITE_P(SimAxiMemory, ReadTiming,
                         ::testing::Values(std::make_tuple(1u, 1u), std::make_tuple(4u, 1u), std::make_tuple(3u, 4u),
                                           std::make_tuple(10u, 2u), std::make_tuple(1u, 3u)));

class WriteTiming : public ::testing::TestWithParam<std::tuple<uint32_t, uint32_t>> {};

TEST_P(WriteTiming, WBeatKAtAwPlusOnePlusKIntervalsAndBAfterWriteLatency) {
  const auto [latency, interval] = GetParam();
  MemoryTiming t;
  t.write_latency = latency;
  t.beat_interval = interval;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  b.master.post(wr(2, 0x8000, pattern(16, 3)));
  b.run();
  const Burst& w = b.master.burst(0);
  ASSERT_EQ(w.t_beats.size(), 16u);
  for (uint64_t k = 0; k < 16; ++k) EXPECT_EQ(w.t_beats[k], w.t_addr + 1 + k * interval) << "beat " << k;
  EXPECT_EQ(w.t_resp, w.t_beats.back() + latency);
  EXPECT_EQ(w.t_resp - w.t_addr, 1 + 15 * interval + latency);
}

INSTANTIATE_TEST_SUITE_P(SimAxiMemory, WriteTiming,
                         ::testing::Values(std::make_tuple(1u, 1u), std::make_tuple(2u, 1u), std::make_tuple(5u, 4u),
                                           std::make_tuple(3u, 2u)));

TEST(SimAxiMemory, OutstandingReadsPipelineAtFullBandwidth) {
  MemoryTiming t;
  t.read_latency = 6;
  t.max_outstanding = 4;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  for (uint32_t j = 0; j < 4; ++j) b.master.post(rd(j % 2, 0x1000 * (j + 1), 15));
  b.run();
  const uint64_t t0 = b.master.burst(0).t_addr;
  std::vector<uint64_t> all;
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(b.master.burst(j).t_addr, t0 + j);  // an AR every cycle
    all.insert(all.end(), b.master.burst(j).t_beats.begin(), b.master.burst(j).t_beats.end());
  }
  // 64 beats back to back, in order, starting L after the first AR.
  for (uint64_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], t0 + 6 + i) << i;
  EXPECT_EQ(b.mem.stats().max_outstanding_reads, 4u);
}

TEST(SimAxiMemory, MaxOutstandingHoldsBackFurtherAddresses) {
  MemoryTiming t;
  t.read_latency = 20;
  t.write_latency = 20;
  t.max_outstanding = 2;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  for (uint32_t j = 0; j < 5; ++j) b.master.post(rd(0, 0x100 * j, 0));
  for (uint32_t j = 0; j < 5; ++j) b.master.post(wr(0, 0x100 * j, {j}));
  b.run();
  EXPECT_EQ(b.mem.stats().max_outstanding_reads, 2u);
  EXPECT_EQ(b.mem.stats().max_outstanding_writes, 2u);
  // The third AR is taken the edge after the first read completed (ARREADY is registered).
  EXPECT_EQ(b.master.burst(2).t_addr, b.master.burst(0).t_resp + 1);
  EXPECT_EQ(b.master.burst(5 + 2).t_addr, b.master.burst(5 + 0).t_resp + 1);
}

// One 32-beat read and one 32-beat write at once, beat_interval 2: two data paths each give a
// beat every 2 cycles; one shared path alternates them, a beat every 2 cycles in total.
class Bandwidth : public ::testing::TestWithParam<bool> {};

TEST_P(Bandwidth, SeparateOrSharedDataPaths) {
  const bool shared = GetParam();
  MemoryTiming t;
  t.read_latency = 2;
  t.write_latency = 1;
  t.beat_interval = 2;
  t.shared_bandwidth = shared;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  b.master.post(rd(0, 0x2000, 31));
  b.master.post(wr(1, 0x3000, pattern(32, 1)));
  b.run();
  const Burst& r = b.master.burst(0);
  const Burst& w = b.master.burst(1);
  const uint64_t t0 = r.t_addr;
  ASSERT_EQ(w.t_addr, t0);  // AR and AW at the same edge
  for (uint64_t k = 0; k < 32; ++k) {
    if (!shared) {
      EXPECT_EQ(r.t_beats[k], t0 + 2 + 2 * k) << k;
      EXPECT_EQ(w.t_beats[k], t0 + 1 + 2 * k) << k;
    } else {
      // W is ready first (t0+1); then R and W alternate in the slots t0+1, t0+3, t0+5, ...
      EXPECT_EQ(w.t_beats[k], t0 + 1 + 4 * k) << k;
      EXPECT_EQ(r.t_beats[k], t0 + 3 + 4 * k) << k;
    }
  }
  EXPECT_EQ(b.mem.read64(0x3000 + 8 * 31), pattern(32, 1)[31]);
}

INSTANTIATE_TEST_SUITE_P(SimAxiMemory, Bandwidth, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Shared" : "Separate"; });

// ---------------------------------------------------------------------------------------------
// IDs

TEST(SimAxiMemory, InOrderModeAnswersInAddressOrderWhateverTheIds) {
  MemoryTiming t;
  t.read_latency = 3;
  t.write_latency = 3;
  Bench b(t);
  b.mem.allow(0, 1 << 20, "all");
  const std::vector<uint32_t> ids = {3, 1, 2, 1, 0, 3};
  for (size_t i = 0; i < ids.size(); ++i) b.mem.write64(0x100 * i, 1000 + i);
  for (size_t i = 0; i < ids.size(); ++i) b.master.post(rd(ids[i], 0x100 * i, static_cast<uint32_t>(i % 3)));
  b.run();
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  EXPECT_EQ(b.master.completion_order(), order);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(b.master.burst(i).rdata[0], 1000 + i);
  EXPECT_TRUE(b.master.errors.empty());
}

// Reorder / Interleave: different IDs may pass each other (whole bursts / single beats), the
// same ID never: the master matches responses per ID, so any same-ID reordering shows up as
// wrong data.
class IdOrdering : public ::testing::TestWithParam<IdOrder> {};

}  // namespace
namespace xtu::sim {
void PrintTo(IdOrder o, std::ostream* os) { *os << (o == IdOrder::Reorder ? "Reorder" : o == IdOrder::Interleave ? "Interleave" : "InOrder"); }
}  // namespace xtu::sim
namespace {

TEST_P(IdOrdering, DifferentIdsMayPassSameIdNever) {
  MemoryTiming t;
  t.read_latency = 5;
  t.write_latency = 4;
  t.max_outstanding = 8;
  t.id_order = GetParam();
  t.seed = 11;
  Bench b(t);
  b.master.stall_probability = 0.3;  // (BREADY stalls let several B wait: room to reorder)
  b.mem.allow(0, 1 << 20, "all");
  std::mt19937_64 g(5);
  const size_t n = 48;
  std::vector<uint32_t> len(n);
  for (size_t i = 0; i < n; ++i) {
    len[i] = static_cast<uint32_t>(g() % 8);
    b.mem.write(0x1000 * i, pattern(len[i] + 1, i).data(), 8 * (len[i] + 1));
    b.master.post(rd(static_cast<uint32_t>(g() % 4), 0x1000 * i, len[i]));
  }
  // Single-beat writes: a B becomes due every cycle, so with BREADY stalls several wait at once.
  for (size_t i = 0; i < n; ++i) b.master.post(wr(static_cast<uint32_t>(g() % 4), 0x80000 + 0x1000 * i, pattern(1, i)));
  b.run();
  EXPECT_TRUE(b.master.errors.empty());
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(b.master.burst(i).rdata, pattern(len[i] + 1, i)) << i;
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(b.mem.read64(0x80000 + 0x1000 * i), pattern(1, i)[0]);

  // Per ID, completion in post order; overall, not (the modes do reorder).
  std::map<uint32_t, std::vector<size_t>> per_id;
  bool reordered_reads = false, reordered_writes = false;
  size_t last_read = 0, last_write = n;
  for (size_t i : b.master.completion_order()) {
    per_id[b.master.burst(i).id + (i >= n ? 100 : 0)].push_back(i);
    if (i < n) {
      reordered_reads |= i < last_read;
      last_read = std::max(last_read, i);
    } else {
      reordered_writes |= i < last_write;
      last_write = std::max(last_write, i);
    }
  }
  for (const auto& [id, v] : per_id) EXPECT_TRUE(std::is_sorted(v.begin(), v.end())) << "ID " << id;
  EXPECT_TRUE(reordered_reads);
  EXPECT_TRUE(reordered_writes);

  // Reorder keeps each burst's beats together; Interleave mixes beats of different bursts.
  bool overlap = false;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      const Burst& x = b.master.burst(i);
      const Burst& y = b.master.burst(j);
      if (i != j && x.t_beats.front() < y.t_beats.front() && y.t_beats.front() < x.t_beats.back()) overlap = true;
    }
  EXPECT_EQ(overlap, GetParam() == IdOrder::Interleave);
}

INSTANTIATE_TEST_SUITE_P(SimAxiMemory, IdOrdering, ::testing::Values(IdOrder::Reorder, IdOrder::Interleave),
                         [](const auto& p) { return p.param == IdOrder::Reorder ? "Reorder" : "Interleave"; });

// ---------------------------------------------------------------------------------------------
// Random traffic across windows, with and without random stalls on both sides.

class RandomTraffic : public ::testing::TestWithParam<std::tuple<double, uint64_t>> {};

TEST_P(RandomTraffic, DataMatchesAReferenceModel) {
  const auto [stall, seed] = GetParam();
  MemoryTiming t;
  t.read_latency = 5;
  t.write_latency = 3;
  t.beat_interval = 2;
  t.shared_bandwidth = true;
  t.max_outstanding = 4;
  t.stall_probability = stall;
  t.seed = seed;
  t.id_order = IdOrder::Interleave;
  Bench b(t, seed + 100);
  b.master.stall_probability = stall;
  b.master.max_outstanding = 6;

  struct Win {
    uint64_t base, size;
    bool r, w;
  };
  const std::vector<Win> wins = {{0x10000, 0x10000, true, true}, {0x40000, 0x4000, true, false}, {0x80000, 0x4000, false, true}};
  b.mem.allow(wins[0].base, wins[0].size, "rw");
  b.mem.allow(wins[1].base, wins[1].size, "ro", true, false);
  b.mem.allow(wins[2].base, wins[2].size, "wo", false, true);
  std::map<uint64_t, uint8_t> ref;  // reference contents (absent = 0)
  std::mt19937_64 g(seed);
  std::vector<uint8_t> ro(wins[1].size);
  for (auto& x : ro) x = static_cast<uint8_t>(g());
  b.mem.write(wins[1].base, ro.data(), ro.size());
  for (size_t i = 0; i < ro.size(); ++i) ref[wins[1].base + i] = ro[i];

  // A random legal burst inside window w (never across 4 KiB).
  auto random_burst = [&](const Win& w, bool write) {
    Burst bu;
    bu.write = write;
    bu.id = static_cast<uint32_t>(g() % 4);
    bu.size = static_cast<uint32_t>(g() % 4);
    const uint64_t nb = uint64_t{1} << bu.size;
    const uint64_t page = w.base + 0x1000 * (g() % (w.size / 0x1000));
    const uint32_t max_beats = static_cast<uint32_t>(std::min<uint64_t>(32, 0x1000 / nb));
    const uint32_t beats = 1 + static_cast<uint32_t>(g() % max_beats);
    bu.len = beats - 1;
    // Start anywhere such that the aligned end stays in the page.
    const uint64_t span = beats * nb;
    bu.addr = page + (g() % (0x1000 - span + 1));
    if (g() % 2) bu.addr = bu.addr & ~(nb - 1);
    if (write) {
      for (uint32_t k = 0; k < beats; ++k) {
        bu.wdata.push_back(g());
        uint64_t a0 = k == 0 ? bu.addr : (bu.addr & ~(nb - 1)) + k * nb;
        uint64_t end = k == 0 ? (bu.addr & ~(nb - 1)) + nb : a0 + nb;
        uint32_t lanes = 0;
        for (uint64_t a = a0; a < end; ++a) lanes |= 1u << (a % 8);
        bu.wstrb.push_back(static_cast<uint32_t>(g()) & lanes);
      }
    }
    return bu;
  };
  auto apply_write = [&](const Burst& bu) {
    const uint64_t nb = uint64_t{1} << bu.size;
    for (uint32_t k = 0; k <= bu.len; ++k) {
      const uint64_t a0 = k == 0 ? bu.addr : (bu.addr & ~(nb - 1)) + k * nb;
      const uint64_t end = k == 0 ? (bu.addr & ~(nb - 1)) + nb : a0 + nb;
      for (uint64_t a = a0; a < end; ++a)
        if ((bu.wstrb[k] >> (a % 8)) & 1) ref[a] = static_cast<uint8_t>(bu.wdata[k] >> (8 * (a % 8)));
    }
  };
  auto expect_read = [&](const Burst& bu, size_t idx) {
    const uint64_t nb = uint64_t{1} << bu.size;
    ASSERT_EQ(bu.rdata.size(), bu.len + 1u) << idx;
    for (uint32_t k = 0; k <= bu.len; ++k) {
      const uint64_t a0 = k == 0 ? bu.addr : (bu.addr & ~(nb - 1)) + k * nb;
      const uint64_t end = k == 0 ? (bu.addr & ~(nb - 1)) + nb : a0 + nb;
      uint64_t want = 0;
      for (uint64_t a = a0; a < end; ++a) {
        const auto it = ref.find(a);
        want |= uint64_t{it == ref.end() ? uint8_t{0} : it->second} << (8 * (a % 8));
      }
      EXPECT_EQ(bu.rdata[k], want) << "burst " << idx << " beat " << k;
      EXPECT_EQ(bu.rresp[k], kAxiRespOkay);
    }
  };

  // Writes (rw and wo windows), then reads (rw and ro windows), in rounds.
  for (int round = 0; round < 3; ++round) {
    std::vector<size_t> ws, rs;
    for (int i = 0; i < 40; ++i) {
      const Burst bu = random_burst(wins[g() % 2 ? 0 : 2], true);
      apply_write(bu);  // (W data is applied in AW order = post order)
      ws.push_back(b.master.post(bu));
    }
    b.run();
    for (size_t i : ws) EXPECT_EQ(b.master.burst(i).bresp, kAxiRespOkay);
    for (int i = 0; i < 40; ++i) rs.push_back(b.master.post(random_burst(wins[g() % 2 ? 0 : 1], false)));
    b.run();
    for (size_t i : rs) expect_read(b.master.burst(i), i);
  }
  // The write-only window holds what was written (checked through the backdoor).
  for (uint64_t a = wins[2].base; a < wins[2].base + wins[2].size; ++a) {
    uint8_t x = 0;
    b.mem.read(a, &x, 1);
    const auto it = ref.find(a);
    ASSERT_EQ(x, it == ref.end() ? 0 : it->second) << std::hex << a;
  }
  EXPECT_TRUE(b.mem.violations().empty());
  EXPECT_TRUE(b.master.errors.empty());
  EXPECT_TRUE(b.mem.idle());
  EXPECT_EQ(b.mem.stats().refused_beats, 0u);
  EXPECT_LE(b.mem.stats().max_outstanding_reads, 4u);
}

INSTANTIATE_TEST_SUITE_P(SimAxiMemory, RandomTraffic,
                         ::testing::Values(std::make_tuple(0.0, 1ull), std::make_tuple(0.3, 2ull),
                                           std::make_tuple(0.6, 3ull)),
                         [](const auto& p) {
                           return "Stall" + std::to_string(static_cast<int>(std::get<0>(p.param) * 10)) + "Seed" +
                                  std::to_string(std::get<1>(p.param));
                         });

// ---------------------------------------------------------------------------------------------
// Windows and violations

// A bench that records violations instead of failing on them.
struct QuietBench : Bench {
  QuietBench() { mem.set_fail_on_violation(false); }
};

TEST(SimAxiMemory, ReadOutsideEveryWindowIsRefusedWithZeroData) {
  QuietBench b;
  b.mem.allow(0x1000, 0x1000, "buf");
  b.mem.write64(0x3000, 0x5555);  // present in memory, but no window covers it
  b.master.post(rd(7, 0x3000, 3));
  b.run();
  const Burst& r = b.master.burst(0);
  EXPECT_EQ(r.rdata, std::vector<uint64_t>(4, 0));
  EXPECT_EQ(r.rresp, std::vector<uint32_t>(4, kAxiRespSlverr));
  ASSERT_EQ(b.mem.violations().size(), 1u);  // the four beats merged
  const auto& v = b.mem.violations()[0];
  EXPECT_EQ(v.kind, ViolationKind::Outside);
  EXPECT_EQ(v.addr, 0x3000u);
  EXPECT_EQ(v.bytes, 32u);
  EXPECT_FALSE(v.write);
  EXPECT_EQ(v.id, 7u);
  EXPECT_EQ(v.cycle, r.t_beats[0]);
  EXPECT_EQ(v.why, "outside every window");
  EXPECT_NE(v.to_string().find("0x3000"), std::string::npos);
  EXPECT_EQ(b.mem.stats().refused_beats, 4u);
}

TEST(SimAxiMemory, WriteToReadOnlyWindowIsNotPerformed) {
  QuietBench b;
  b.mem.allow(0x1000, 0x1000, "trace", true, false);
  b.mem.write64(0x1100, 42);
  b.master.post(wr(2, 0x1100, {7, 8}));
  b.run();
  EXPECT_EQ(b.master.burst(0).bresp, kAxiRespSlverr);
  EXPECT_EQ(b.mem.read64(0x1100), 42u);
  EXPECT_EQ(b.mem.read64(0x1108), 0u);
  ASSERT_EQ(b.mem.violations().size(), 1u);
  const auto& v = b.mem.violations()[0];
  EXPECT_EQ(v.kind, ViolationKind::ReadOnly);
  EXPECT_EQ(v.name, "trace");
  EXPECT_TRUE(v.write);
  EXPECT_EQ(v.addr, 0x1100u);
  EXPECT_EQ(v.bytes, 16u);
  EXPECT_EQ(v.cycle, b.master.burst(0).t_beats[0]);
  // Reading it is fine.
  b.master.post(rd(2, 0x1100, 0));
  b.run();
  EXPECT_EQ(b.master.burst(1).rdata[0], 42u);
  EXPECT_EQ(b.mem.violations().size(), 1u);
}

TEST(SimAxiMemory, ReadOfWriteOnlyWindowIsRefused) {
  QuietBench b;
  b.mem.allow(0x2000, 0x100, "out", false, true);
  b.mem.write64(0x2000, 99);
  b.master.post(rd(0, 0x2000, 0));
  b.master.post(wr(0, 0x2008, {5}));
  b.run();
  EXPECT_EQ(b.master.burst(0).rdata[0], 0u);
  EXPECT_EQ(b.master.burst(0).rresp[0], kAxiRespSlverr);
  EXPECT_EQ(b.master.burst(1).bresp, kAxiRespOkay);
  EXPECT_EQ(b.mem.read64(0x2008), 5u);
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].kind, ViolationKind::WriteOnly);
  EXPECT_EQ(b.mem.violations()[0].name, "out");
}

TEST(SimAxiMemory, OverlappingWindowsCombinePermissions) {
  QuietBench b;
  b.mem.allow(0x1000, 0x1000, "ro", true, false);
  b.mem.allow(0x1800, 0x100, "hole", true, true);
  b.master.post(wr(0, 0x1800, {1, 2}));  // inside the writable hole
  b.master.post(wr(0, 0x18F8, {3, 4}));  // second beat leaves the hole: read-only there
  b.run();
  EXPECT_EQ(b.master.burst(0).bresp, kAxiRespOkay);
  EXPECT_EQ(b.master.burst(1).bresp, kAxiRespSlverr);
  EXPECT_EQ(b.mem.read64(0x18F8), 3u);  // the first beat was performed
  EXPECT_EQ(b.mem.read64(0x1900), 0u);
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].addr, 0x1900u);
  EXPECT_EQ(b.mem.violations()[0].name, "ro");
}

TEST(SimAxiMemory, BurstHalfInsideAWindowRefusesOnlyTheBeatsOutside) {
  QuietBench b;
  b.mem.allow(0x1000, 0x20, "small");
  b.master.post(wr(1, 0x1000, pattern(8, 4)));
  b.run();
  EXPECT_EQ(b.master.burst(0).bresp, kAxiRespSlverr);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(b.mem.read64(0x1000 + 8 * k), pattern(8, 4)[k]) << k;
  for (int k = 4; k < 8; ++k) EXPECT_EQ(b.mem.read64(0x1000 + 8 * k), 0u) << k;
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].addr, 0x1020u);
  EXPECT_EQ(b.mem.violations()[0].bytes, 32u);
  EXPECT_EQ(b.mem.violations()[0].cycle, b.master.burst(0).t_beats[4]);

  b.mem.write64(0x1020, 0x77);
  b.master.post(rd(1, 0x1000, 7));
  b.run();
  const Burst& r = b.master.burst(1);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(r.rresp[k], k < 4 ? kAxiRespOkay : kAxiRespSlverr) << k;
    EXPECT_EQ(r.rdata[k], k < 4 ? pattern(8, 4)[k] : 0u) << k;
  }
  ASSERT_EQ(b.mem.violations().size(), 2u);
  EXPECT_EQ(b.mem.violations()[1].bytes, 32u);
  // A beat straddling the window's end is refused as a whole (narrow beats: byte-exact).
  b.master.post(rd(1, 0x101C, 0, 3));  // 8-byte beat 0x101C..0x101F: inside (unaligned start)
  b.master.post(rd(1, 0x101E, 1, 1));  // 2-byte beats 0x101E (in), 0x1020 (out)
  b.run();
  EXPECT_EQ(b.master.burst(2).rresp[0], kAxiRespOkay);
  EXPECT_EQ(b.master.burst(3).rresp, (std::vector<uint32_t>{kAxiRespOkay, kAxiRespSlverr}));
  EXPECT_EQ(b.mem.violations().back().addr, 0x1020u);
  EXPECT_EQ(b.mem.violations().back().bytes, 2u);
}

TEST(SimAxiMemory, BurstCrossing4KiBIsRecordedAndStillPerformed) {
  QuietBench b;
  b.mem.allow(0, 0x10000, "all");
  b.master.post(wr(3, 0x1FF0, pattern(4, 9)));
  b.master.post(rd(4, 0x2FF8, 1));
  b.run();
  ASSERT_EQ(b.mem.violations().size(), 2u);  // (AR and AW at the same edge: AR's first)
  const auto& v = b.mem.violations()[b.mem.violations()[0].write ? 0 : 1];
  EXPECT_EQ(v.kind, ViolationKind::Cross4K);
  EXPECT_TRUE(v.write);
  EXPECT_EQ(v.addr, 0x1FF0u);
  EXPECT_EQ(v.bytes, 32u);
  EXPECT_EQ(v.id, 3u);
  EXPECT_EQ(v.cycle, b.master.burst(0).t_addr);
  const auto& vr = b.mem.violations()[b.mem.violations()[0].write ? 1 : 0];
  EXPECT_EQ(vr.kind, ViolationKind::Cross4K);
  EXPECT_FALSE(vr.write);
  EXPECT_EQ(vr.addr, 0x2FF8u);
  EXPECT_EQ(vr.bytes, 16u);
  EXPECT_EQ(vr.cycle, b.master.burst(1).t_addr);
  EXPECT_EQ(b.mem.read64(0x2008), pattern(4, 9)[3]);
  EXPECT_EQ(b.master.burst(0).bresp, kAxiRespOkay);
  // Exactly at the boundary is fine.
  b.master.post(rd(4, 0x2FF0, 1));
  b.run();
  EXPECT_EQ(b.mem.violations().size(), 2u);
}

TEST(SimAxiMemory, UnsupportedSizeOrBurstTypeRefusesTheWholeBurst) {
  QuietBench b;
  b.mem.allow(0, 0x10000, "all");
  b.mem.write64(0x100, 1);
  Burst wide = rd(0, 0x100, 1, 4);  // 16-byte beats on a 64-bit bus
  b.master.post(wide);
  Burst wrap = wr(1, 0x200, {1, 2, 3, 4});
  wrap.burst = 2;  // WRAP
  b.master.post(wrap);
  b.run();
  EXPECT_EQ(b.master.burst(0).rresp, std::vector<uint32_t>(2, kAxiRespSlverr));
  EXPECT_EQ(b.master.burst(0).rdata, std::vector<uint64_t>(2, 0));
  EXPECT_EQ(b.master.burst(1).bresp, kAxiRespSlverr);
  EXPECT_EQ(b.mem.read64(0x200), 0u);
  ASSERT_EQ(b.mem.violations().size(), 2u);  // once per burst, not per beat
  EXPECT_EQ(b.mem.violations()[0].kind, ViolationKind::Unsupported);
  EXPECT_EQ(b.mem.violations()[1].kind, ViolationKind::Unsupported);
  EXPECT_NE(b.mem.violations()[1].why.find("BURST 2"), std::string::npos);
  EXPECT_EQ(b.mem.stats().refused_beats, 6u);
}

TEST(SimAxiMemory, StrobesOutsideTheBeatAreAProtocolViolation) {
  QuietBench b;
  b.mem.allow(0, 0x10000, "all");
  b.master.post(wr(0, 0x101, {0xFFFF00}, 0, {0x06}));  // 1-byte beat on lane 1, strobes 1 and 2
  b.run();
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].kind, ViolationKind::Protocol);
  EXPECT_EQ(b.mem.read64(0x100), 0xFF00u);  // only the beat's own byte was written
}

TEST(SimAxiMemory, WlastMismatchAndLenOver255AreProtocolViolations) {
  QuietBench b;
  b.mem.allow(0, 0x10000, "all");
  Burst w = wr(0, 0x100, {1, 2, 3});
  w.wlast_beat = 1;  // WLAST one beat early
  b.master.post(w);
  b.run();
  EXPECT_EQ(b.mem.read64(0x110), 3u);  // AWLEN counts: all three beats written
  ASSERT_EQ(b.mem.violations().size(), 2u);  // WLAST high on beat 1, low on beat 2
  EXPECT_EQ(b.mem.violations()[0].kind, ViolationKind::Protocol);
  EXPECT_NE(b.mem.violations()[0].why.find("WLAST high on beat 1"), std::string::npos);
  EXPECT_NE(b.mem.violations()[1].why.find("WLAST low"), std::string::npos);
  // ARLEN 256 does not fit AXI4's 8 bits: recorded, the low 8 bits used (1 beat, which the
  // master, expecting 257, flags as an early RLAST).
  b.master.post(rd(0, 0x100, 256));
  b.cr.run(20);
  ASSERT_EQ(b.mem.violations().size(), 3u);
  EXPECT_NE(b.mem.violations()[2].why.find("ARLEN 256 > 255"), std::string::npos);
  EXPECT_EQ(b.mem.stats().read_beats, 1u);
}

TEST(SimAxiMemory, ResetDropsBurstsInFlightAndKeepsTheMemory) {
  // The memory gets its own reset, so that only it is reset mid-burst.
  ClockReset cr("cr", sc_core::sc_time(1, sc_core::SC_NS), 2);
  sc_core::sc_signal<bool> mem_rst_n("mem_rst_n", true);
  xtu::model::AxiSignals sig("axi");
  MemoryTiming t;
  t.read_latency = 2;
  AxiMemory mem("mem", t);
  AxiTestMaster master("master");
  mem.clk_i(cr.clk);
  mem.rst_ni(mem_rst_n);
  mem.axi.bind(sig);
  master.clk_i(cr.clk);
  master.rst_ni(cr.rst_n);
  master.m.bind(sig);
  mem.allow(0, 0x10000, "all");
  mem.write64(0x800, 0xABCD);
  master.post(rd(0, 0x800, 63));
  master.post(wr(1, 0x1000, pattern(2, 1)));
  cr.run_until([&] { return master.burst(0).t_beats.size() >= 5 && master.burst(1).done; }, 1000);
  EXPECT_EQ(mem.outstanding_reads(), 1u);
  mem_rst_n.write(false);
  cr.run(2);
  EXPECT_TRUE(mem.idle());
  EXPECT_FALSE(sig.rvalid.read());
  EXPECT_FALSE(sig.arready.read());
  mem_rst_n.write(true);
  cr.run(5);
  EXPECT_TRUE(mem.idle());
  EXPECT_TRUE(sig.arready.read());
  EXPECT_EQ(mem.read64(0x800), 0xABCDu);
  EXPECT_EQ(mem.read64(0x1008), pattern(2, 1)[1]);
  EXPECT_FALSE(master.burst(0).done);  // its remaining beats are gone
}

TEST(SimAxiMemory, WindowsCanChangeBetweenRuns) {
  QuietBench b;
  b.mem.allow(0x1000, 0x1000, "a");
  b.master.post(wr(0, 0x1000, {1}));
  b.run();
  b.mem.clear_windows();
  b.mem.allow(0x5000, 0x1000, "b");
  b.master.post(wr(0, 0x1000, {2}));
  b.master.post(wr(0, 0x5000, {3}));
  b.run();
  EXPECT_EQ(b.mem.read64(0x1000), 1u);
  EXPECT_EQ(b.mem.read64(0x5000), 3u);
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].addr, 0x1000u);
  b.mem.clear_violations();
  EXPECT_TRUE(b.mem.violations().empty());
}

TEST(SimAxiMemory, FailOnViolationEndsTheSimulationAtOnce) {
  Bench b;  // fail_on_violation is the default
  ASSERT_TRUE(b.mem.fail_on_violation());
  b.mem.allow(0x1000, 0x1000, "buf");
  b.master.post(rd(0, 0x1000, 0));
  b.run();
  b.master.post(rd(0, 0x9000, 3));
  try {
    b.run();
    FAIL() << "no error";
  } catch (const sc_core::sc_report& r) {
    EXPECT_STREQ(r.get_msg_type(), AxiMemory::kMsgType);
    EXPECT_NE(std::string(r.what()).find("outside every window"), std::string::npos) << r.what();
  }
  ASSERT_EQ(b.mem.violations().size(), 1u);
  EXPECT_EQ(b.mem.violations()[0].cycle, b.mem.cycle() - 1);  // raised at the refused beat's edge
}

// ---------------------------------------------------------------------------------------------
// Tracing

TEST(SimAxiMemory, VcdTraceOnRequest) {
  const std::string dir = ::testing::TempDir() + "xtu_vcd_mem";
  unsetenv("XTU_VCD");
  EXPECT_EQ(xtu::sim::VcdTrace::from_env("none"), nullptr);
  setenv("XTU_VCD", dir.c_str(), 1);
  std::string path;
  {
    Bench b;
    auto vcd = xtu::sim::VcdTrace::from_env("axi_memory");
    ASSERT_NE(vcd, nullptr);
    vcd->trace(b.sig, "axi");
    vcd->trace(b.cr.clk, "clk");
    vcd->trace(b.cr.rst_n, "rst_n");
    path = vcd->path();
    b.mem.allow(0, 0x1000, "all");
    b.master.post(wr(0, 0x100, {0x1234}));
    b.master.post(rd(0, 0x100, 0));
    b.run();
  }
  unsetenv("XTU_VCD");
  EXPECT_EQ(path, dir + "/axi_memory.vcd");
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (const char* name : {"axi_arvalid", "axi_rdata", "axi_wstrb", "axi_bresp", "clk", "rst_n"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_NE(text.find("#1000"), std::string::npos);  // value changes at 1 ns (1 ps unit)
}

}  // namespace
