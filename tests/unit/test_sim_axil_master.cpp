// AxiLiteMaster (sim/): register writes and reads against a small AXI4-Lite register file, from
// outside the simulation (tickets + run_until_done) and from SystemC threads (write32/read32),
// every write channel order, strobes, error responses, a stalling slave (checked for protocol),
// exact cycle counts, timeouts, requests posted during reset, ClockReset and VCD tracing.
// Each TEST builds its own modules: CTest runs each one in its own process.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_support/axil_regfile.hpp"
#include "sim_support/sim_env.hpp"
#include "xtu/sim/axil_master.hpp"
#include "xtu/sim/clock_reset.hpp"
#include "xtu/sim/trace.hpp"

namespace {

using xtu::model::kAxiRespOkay;
using xtu::model::kAxiRespSlverr;
using xtu::sim::AxiLiteMaster;
using xtu::sim::ClockReset;
using xtu::sim::WriteOrder;
using xtu::test::AxilRegFile;

constexpr unsigned kResetCycles = 3;

struct Bench {
  ClockReset cr;
  xtu::model::AxiLiteSignals sig{"axil"};
  AxiLiteMaster bfm;
  AxilRegFile rf;

  explicit Bench(size_t nregs = 16, uint64_t seed = 1)
      : cr("cr", sc_core::sc_time(1, sc_core::SC_NS), kResetCycles), bfm("bfm"), rf("rf", nregs, seed) {
    bfm.clk_i(cr.clk);
    bfm.rst_ni(cr.rst_n);
    bfm.axil.bind(sig);
    rf.clk_i(cr.clk);
    rf.rst_ni(cr.rst_n);
    rf.s.bind(sig);
  }
};

// ---------------------------------------------------------------------------------------------
// ClockReset

TEST(SimClockReset, ResetLowForTheFirstNEdgesThenHigh) {
  ClockReset cr("cr", sc_core::sc_time(2, sc_core::SC_NS), 3);
  EXPECT_EQ(cr.period(), sc_core::sc_time(2, sc_core::SC_NS));
  std::vector<bool> seen;  // rst_n as the clocked logic samples it at each edge
  for (int i = 0; i < 6; ++i) {
    seen.push_back(cr.rst_n.read());  // (the value an edge samples is the one before it)
    cr.run(1);
    EXPECT_EQ(cr.cycle(), static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(seen, (std::vector<bool>{false, false, false, true, true, true}));
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::sc_time(12, sc_core::SC_NS));
  cr.run(10);
  EXPECT_EQ(cr.cycle(), 16u);
  EXPECT_EQ(cr.run_until([&] { return cr.cycle() == 20; }, 100), 4u);
  EXPECT_THROW(cr.run_until([] { return false; }, 5), std::runtime_error);
  EXPECT_EQ(cr.cycle(), 25u);
}

// ---------------------------------------------------------------------------------------------
// From outside the simulation

class WriteOrders : public ::testing::TestWithParam<WriteOrder> {};

TEST_P(WriteOrders, WritesThenReadsBackInPostOrder) {
  Bench b;
  b.bfm.set_write_order(GetParam());
  std::vector<AxiLiteMaster::Ticket> w, r;
  for (uint32_t i = 0; i < 16; ++i) w.push_back(b.bfm.post_write(4 * i, 0x1000 + i * 0x0101));
  for (uint32_t i = 0; i < 16; ++i) r.push_back(b.bfm.post_read(4 * (15 - i)));
  EXPECT_EQ(b.bfm.pending(), 32u);
  EXPECT_FALSE(b.bfm.done(w[0]));
  b.bfm.run_until_done(r.back(), 1000);
  EXPECT_EQ(b.bfm.pending(), 0u);
  for (uint32_t i = 0; i < 16; ++i) {
    EXPECT_TRUE(b.bfm.done(w[i]));
    EXPECT_EQ(b.bfm.response(w[i]), kAxiRespOkay);
    EXPECT_EQ(b.bfm.result(w[i]), 0u);
    EXPECT_EQ(b.rf.regs[i], 0x1000 + i * 0x0101);
    EXPECT_EQ(b.bfm.result(r[i]), 0x1000 + (15 - i) * 0x0101) << i;
    EXPECT_EQ(b.bfm.response(r[i]), kAxiRespOkay);
  }
  // The slave saw the accesses in post order.
  ASSERT_EQ(b.rf.log.size(), 32u);
  for (uint32_t i = 0; i < 16; ++i) {
    EXPECT_TRUE(b.rf.log[i].write);
    EXPECT_EQ(b.rf.log[i].addr, 4 * i);
    EXPECT_FALSE(b.rf.log[16 + i].write);
    EXPECT_EQ(b.rf.log[16 + i].addr, 4 * (15 - i));
  }
  // The channel order of the last write.
  switch (GetParam()) {
    case WriteOrder::Together: EXPECT_EQ(b.rf.aw_cycle, b.rf.w_cycle); break;
    case WriteOrder::AddressFirst: EXPECT_EQ(b.rf.w_cycle, b.rf.aw_cycle + 1); break;
    case WriteOrder::DataFirst: EXPECT_EQ(b.rf.aw_cycle, b.rf.w_cycle + 1); break;
  }
  EXPECT_TRUE(b.rf.errors.empty()) << b.rf.errors.front();
}

INSTANTIATE_TEST_SUITE_P(SimAxilMaster, WriteOrders,
                         ::testing::Values(WriteOrder::Together, WriteOrder::AddressFirst, WriteOrder::DataFirst),
                         [](const auto& p) {
                           return p.param == WriteOrder::Together       ? "Together"
                                  : p.param == WriteOrder::AddressFirst ? "AddressFirst"
                                                                        : "DataFirst";
                         });

// Exact timing against a slave with READY high and registered responses: a request taken at
// edge e has its handshake at e+1 and its response at e+2, when it is done; the next request is
// taken at that same edge, so back to back accesses take 2 cycles each.
TEST(SimAxilMaster, CycleCountsAgainstAZeroWaitSlave) {
  Bench b;
  const auto t = b.bfm.post_write(8, 0xCAFE);
  // Edges 0..2 in reset; edge 3 takes the request; 4 handshakes; 5 B: 6 edges.
  EXPECT_EQ(b.bfm.run_until_done(t, 100), kResetCycles + 3);
  EXPECT_EQ(b.rf.log.at(0).cycle, kResetCycles + 1u);
  EXPECT_EQ(b.bfm.run_until_done(t, 100), 0u);  // already done
  const auto r = b.bfm.post_read(8);  // taken at the next edge, handshake, response: 3 edges
  EXPECT_EQ(b.bfm.run_until_done(r, 100), 3u);
  EXPECT_EQ(b.bfm.result(r), 0xCAFEu);
  std::vector<AxiLiteMaster::Ticket> many;
  for (int i = 0; i < 10; ++i) many.push_back(b.bfm.post_read(8));
  EXPECT_EQ(b.bfm.run_until_done(many.back(), 100), 1 + 10 * 2u);
  EXPECT_EQ(b.rf.log.back().cycle - b.rf.log[b.rf.log.size() - 2].cycle, 2u);
  EXPECT_EQ(b.bfm.clock_period(), sc_core::sc_time(1, sc_core::SC_NS));  // found from the sc_clock
}

TEST(SimAxilMaster, RunReadAndRunWriteHelpers) {
  Bench b;
  EXPECT_EQ(b.bfm.run_write(12, 77), kAxiRespOkay);
  uint32_t resp = 99;
  EXPECT_EQ(b.bfm.run_read(12, &resp), 77u);
  EXPECT_EQ(resp, kAxiRespOkay);
  EXPECT_EQ(b.bfm.run_write(0x400, 1), kAxiRespSlverr);
}

TEST(SimAxilMaster, ErrorResponsesAreReported) {
  Bench b(4);
  const auto w1 = b.bfm.post_write(0x10, 5);  // past the 4 registers
  const auto w2 = b.bfm.post_write(0x2, 5);   // unaligned
  const auto r1 = b.bfm.post_read(0x100);
  const auto r2 = b.bfm.post_read(0x0);
  b.bfm.run_until_done(r2, 1000);
  EXPECT_EQ(b.bfm.response(w1), kAxiRespSlverr);
  EXPECT_EQ(b.bfm.response(w2), kAxiRespSlverr);
  EXPECT_EQ(b.bfm.response(r1), kAxiRespSlverr);
  EXPECT_EQ(b.bfm.result(r1), AxilRegFile::kBadData);
  EXPECT_EQ(b.bfm.response(r2), kAxiRespOkay);
  EXPECT_EQ(b.bfm.result(r2), 0u);
  EXPECT_EQ(b.rf.regs, std::vector<uint32_t>(4, 0));
}

TEST(SimAxilMaster, ByteStrobes) {
  Bench b;
  b.bfm.post_write(0, 0x11223344);
  b.bfm.post_write(0, 0xAABBCCDD, 0x5);  // bytes 0 and 2
  const auto r = b.bfm.post_read(0);
  b.bfm.run_until_done(r, 1000);
  EXPECT_EQ(b.bfm.result(r), 0x11BB33DDu);
  EXPECT_EQ(b.rf.log.at(1).strb, 0x5u);
}

TEST(SimAxilMaster, StallingSlaveProtocolStaysClean) {
  Bench b(32, 7);
  b.rf.stall_probability = 0.5;
  std::mt19937_64 g(3);
  std::vector<uint32_t> model(32, 0);
  std::vector<std::pair<AxiLiteMaster::Ticket, uint32_t>> reads;
  AxiLiteMaster::Ticket last = 0;
  for (int i = 0; i < 300; ++i) {
    const uint32_t reg = static_cast<uint32_t>(g() % 32);
    if (i % 10 == 0) b.bfm.set_write_order(static_cast<WriteOrder>(g() % 3));  // (orders mixed)
    if (g() % 2) {
      const uint32_t v = static_cast<uint32_t>(g());
      last = b.bfm.post_write(4 * reg, v);
      model[reg] = v;
    } else {
      last = b.bfm.post_read(4 * reg);
      reads.emplace_back(last, model[reg]);
    }
  }
  const uint64_t cycles = b.bfm.run_until_done(last, 100000);
  EXPECT_GT(cycles, 300u * 3);  // the stalls did slow it down
  for (const auto& [t, want] : reads) EXPECT_EQ(b.bfm.result(t), want) << t;
  EXPECT_EQ(b.rf.regs, model);
  EXPECT_TRUE(b.rf.errors.empty()) << b.rf.errors.front();
}

TEST(SimAxilMaster, TimeoutThrowsAfterMaxCycles) {
  Bench b;
  b.rf.mute = true;  // never ready
  const auto t = b.bfm.post_write(0, 1);
  try {
    b.bfm.run_until_done(t, 50);
    FAIL() << "no timeout";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("50 cycles"), std::string::npos) << e.what();
  }
  EXPECT_EQ(b.cr.cycle(), 50u);  // one clock period per cycle
  EXPECT_FALSE(b.bfm.done(t));
  b.rf.mute = false;  // the request is still on the bus and completes
  b.bfm.run_until_done(t, 10);
  EXPECT_EQ(b.rf.regs[0], 1u);
  EXPECT_THROW(b.bfm.done(t + 1), std::out_of_range);
  EXPECT_THROW(b.bfm.result(12345), std::out_of_range);
}

TEST(SimAxilMaster, RequestsPostedDuringResetWaitForIt) {
  Bench b;
  b.cr.run(1);
  const auto t = b.bfm.post_write(4, 9);
  b.cr.run(1);
  EXPECT_FALSE(b.bfm.done(t));
  b.bfm.run_until_done(t, 100);
  EXPECT_GE(b.rf.log.at(0).cycle, kResetCycles);
  EXPECT_EQ(b.rf.regs[1], 9u);
}

// ---------------------------------------------------------------------------------------------
// From inside the simulation: blocking write32/read32.

struct ThreadUser : sc_core::sc_module {
  sc_core::sc_in<bool> clk_i;
  AxiLiteMaster& bfm;
  bool clocked;
  std::vector<uint32_t> seen;
  std::vector<uint64_t> cycles;  // edge count after each access
  bool finished = false, logic_error = false;
  const ClockReset& cr;

  SC_HAS_PROCESS(ThreadUser);
  ThreadUser(const sc_core::sc_module_name& n, AxiLiteMaster& m, const ClockReset& c, bool cthread)
      : sc_module(n), clk_i("clk_i"), bfm(m), clocked(cthread), cr(c) {
    if (cthread) {
      SC_CTHREAD(body, clk_i.pos());
    } else {
      SC_THREAD(body);
    }
  }
  void body() {
    try {
      bfm.run_until_done(0, 10);  // not from inside the simulation
    } catch (const std::logic_error&) {
      logic_error = true;
    }
    for (uint32_t i = 0; i < 4; ++i) {
      EXPECT_EQ(bfm.write32(4 * i, 100 + i), kAxiRespOkay);
      cycles.push_back(cr.cycle());
    }
    uint32_t resp = 9;
    seen.push_back(bfm.read32(0x100, &resp));  // unmapped
    seen.push_back(resp);
    for (uint32_t i = 0; i < 4; ++i) seen.push_back(bfm.read32(4 * i));
    finished = true;
  }
};

class Blocking : public ::testing::TestWithParam<bool> {};

TEST_P(Blocking, Write32AndRead32FromAThread) {
  Bench b;
  ThreadUser user("user", b.bfm, b.cr, GetParam());
  user.clk_i(b.cr.clk);
  b.cr.run_until([&] { return user.finished; }, 1000);
  EXPECT_TRUE(user.logic_error);
  EXPECT_EQ(user.seen, (std::vector<uint32_t>{AxilRegFile::kBadData, kAxiRespSlverr, 100, 101, 102, 103}));
  ASSERT_EQ(user.cycles.size(), 4u);
  // One write after the other: 2 cycles on the bus, plus up to 2 cycles for the thread to see
  // the completion and post the next request (a delta after the edge: taken at the next edge).
  for (size_t i = 1; i < user.cycles.size(); ++i) {
    EXPECT_GE(user.cycles[i] - user.cycles[i - 1], 2u) << i;
    EXPECT_LE(user.cycles[i] - user.cycles[i - 1], 4u) << i;
  }
  EXPECT_TRUE(b.rf.errors.empty());
}

INSTANTIATE_TEST_SUITE_P(SimAxilMaster, Blocking, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "ScCthread" : "ScThread"; });

// ---------------------------------------------------------------------------------------------
// Tracing

TEST(SimAxilMaster, VcdTraceOfTheRegisterBus) {
  const std::string path = ::testing::TempDir() + "xtu_vcd_axil";
  {
    Bench b;
    xtu::sim::VcdTrace vcd(path);
    vcd.trace(b.sig, "axil");
    vcd.trace(b.cr.clk, "clk");
    b.bfm.run_write(0, 0xFEEDF00D);
  }
  std::ifstream in(path + ".vcd");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (const char* name : {"axil_awaddr", "axil_wdata", "axil_bvalid", "axil_rdata", "clk"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_NE(text.find("b11111110111011011111000000001101"), std::string::npos);  // WDATA 0xFEEDF00D
}

}  // namespace
