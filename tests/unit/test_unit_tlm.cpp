// The TLM-2.0 wrapper of the unit (model::UnitTlm, docs/tlm.md): register accesses through its
// target socket (values, byte enables, refusals, the timing annotation), the memory bridge on
// its own (bursts -> transactions with addresses, lengths, byte enables and exact timing; TLM
// errors -> SLVERR), and whole runs through driver::TlmBackend on real bundles, which must equal
// QEMU's ground truth. Each TEST runs in its own process (SystemC elaborates once per process;
// gtest_discover_tests + CTest run each test alone). Bundles come from the end-to-end capture
// tests (FIXTURES_REQUIRED in tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "sim_support/axi_test_master.hpp"
#include "sim_support/sim_env.hpp"
#include "sim_support/bundles.hpp"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/driver/driver.hpp"
#include "xtu/driver/tlm_backend.hpp"
#include "xtu/formats/bundle.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/model/tlm_bridge.hpp"
#include "xtu/model/unit_tlm.hpp"
#include "xtu/regs.hpp"
#include "xtu/sim/clock_reset.hpp"
#include "xtu/sim/tlm_memory.hpp"

namespace {

using namespace xtu;
using test::Bundle;
using test::bundle_dir;
using test::expect_equal;
namespace R = xtu::regs;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

const sc_time kT(1, SC_NS);  // the unit's default clock period

// ---------------------------------------------------------------------------------------------
// A register initiator that runs a test script inside an SC_THREAD (blocking b_transport), and
// pauses the simulation when the script ends.

class Script : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<Script, 32> socket;
  std::function<void(Script&)> body;
  bool finished = false;

  SC_HAS_PROCESS(Script);
  explicit Script(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") { SC_THREAD(thread); }

  // One transaction; data/byte enables as given. Returns the response status.
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len, sc_time& delay,
                                  uint8_t* be = nullptr, unsigned be_len = 0, unsigned width = 0) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(len);
    t.set_streaming_width(width ? width : len);
    t.set_byte_enable_ptr(be);
    t.set_byte_enable_length(be_len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    return t.get_response_status();
  }
  uint32_t read32(uint32_t addr) {
    uint8_t d[4] = {};
    sc_time delay = SC_ZERO_TIME;
    EXPECT_EQ(access(tlm::TLM_READ_COMMAND, addr, d, 4, delay), tlm::TLM_OK_RESPONSE) << "read " << addr;
    uint32_t v;
    std::memcpy(&v, d, 4);
    return v;
  }
  void write32(uint32_t addr, uint32_t v) {
    uint8_t d[4];
    std::memcpy(d, &v, 4);
    sc_time delay = SC_ZERO_TIME;
    EXPECT_EQ(access(tlm::TLM_WRITE_COMMAND, addr, d, 4, delay), tlm::TLM_OK_RESPONSE) << "write " << addr;
  }

private:
  void thread() {
    wait(10 * kT);  // out of reset
    if (body) body(*this);
    finished = true;
    sc_core::sc_pause();
  }
};

// UnitTlm with a register script and a memory target.
struct Bench {
  explicit Bench(const model::UnitTlmParams& p = {}) : script("script"), dut("xtu", p), memory("memory"), irq("irq") {
    script.socket.bind(dut.regs);
    dut.mem.bind(memory.socket);
    dut.irq(irq);
  }
  void run(std::function<void(Script&)> body) {
    script.body = std::move(body);
    sc_core::sc_start(sc_time(1, sc_core::SC_MS));
    EXPECT_TRUE(script.finished);
  }
  Script script;
  model::UnitTlm dut;
  sim::TlmMemory memory;
  sc_core::sc_signal<bool> irq;
};

// ---------------------------------------------------------------------------------------------
// Bundles

// =============================================================================================
// Registers through the target socket

TEST(UnitTlm, RegistersThroughTheSocket) {
  model::UnitTlmParams p;
  p.unit.cam_entries = 16;
  Bench b(p);
  b.run([&](Script& s) {
    EXPECT_EQ(s.read32(R::id::kOffset), R::kMapId);
    EXPECT_EQ(s.read32(R::version::kOffset), R::kMapVersion);
    const uint32_t p0 = s.read32(R::params0::kOffset);
    EXPECT_EQ(R::params0::kCamEntries.get(p0), 16u);
    EXPECT_EQ(R::params0::kMaxNodes.get(p0), 32u);
    EXPECT_EQ(R::params0::kAxiBytes.get(p0), 8u);
    EXPECT_NE(s.read32(R::params1::kOffset), 0u);

    // A 64-bit register: two independent halves.
    const uint32_t lo = R::trace_base::kOffset, hi = lo + 4;
    s.write32(lo, 0x9abcdef0);
    s.write32(hi, 0x12345678);
    EXPECT_EQ(s.read32(lo), 0x9abcdef0u);
    EXPECT_EQ(s.read32(hi), 0x12345678u);
    s.write32(hi, 0x11);
    EXPECT_EQ(s.read32(lo), 0x9abcdef0u);
    EXPECT_EQ(s.read32(hi), 0x11u);

    // Byte enables on a write become WSTRB: only byte 1 changes.
    uint8_t d[4] = {0x01, 0x77, 0x03, 0x04};
    uint8_t be[4] = {0, 0xff, 0, 0};
    sc_time delay = SC_ZERO_TIME;
    EXPECT_EQ(s.access(tlm::TLM_WRITE_COMMAND, lo, d, 4, delay, be, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(s.read32(lo), 0x9abc77f0u);
    // A byte enable pattern shorter than the data repeats: {ff, 0} enables bytes 0 and 2.
    uint8_t be2[2] = {0xff, 0};
    EXPECT_EQ(s.access(tlm::TLM_WRITE_COMMAND, lo, d, 4, delay, be2, 2), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(s.read32(lo), 0x9a037701u);
    // ... and on a read they select the bytes returned.
    uint8_t r[4] = {0xee, 0xee, 0xee, 0xee};
    uint8_t be3[4] = {0, 0, 0xff, 0xff};
    EXPECT_EQ(s.access(tlm::TLM_READ_COMMAND, lo, r, 4, delay, be3, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(r[0], 0xee);
    EXPECT_EQ(r[1], 0xee);
    EXPECT_EQ(r[2], 0x03);
    EXPECT_EQ(r[3], 0x9a);

    // Read-only registers ignore writes; IRQ_STATUS is W1C (writing 1s to clear bits never sets any).
    s.write32(R::id::kOffset, 0);
    EXPECT_EQ(s.read32(R::id::kOffset), R::kMapId);
    s.write32(R::irq_status::kOffset, 0xffffffff);
    EXPECT_EQ(s.read32(R::irq_status::kOffset), 0u);
    EXPECT_FALSE(b.irq.read());

    // Refused before the pins, with no time spent and the delay untouched.
    const model::TlmToAxiLiteStats before = b.dut.reg_stats();
    const sc_time t0 = sc_core::sc_time_stamp();
    uint8_t buf[8] = {};
    delay = sc_time(3, SC_NS);
    EXPECT_EQ(s.access(tlm::TLM_READ_COMMAND, 0x2, buf, 4, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // unaligned
    EXPECT_EQ(s.access(tlm::TLM_WRITE_COMMAND, 0x6, buf, 4, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(s.access(tlm::TLM_READ_COMMAND, R::kMapSize, buf, 4, delay),  // past the map
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(s.access(tlm::TLM_READ_COMMAND, R::id::kOffset, buf, 2, delay), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(s.access(tlm::TLM_READ_COMMAND, R::trace_base::kOffset, buf, 8, delay),  // 64-bit access
              tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(s.access(tlm::TLM_WRITE_COMMAND, R::trace_base::kOffset, buf, 4, delay, nullptr, 0, 2),
              tlm::TLM_BURST_ERROR_RESPONSE);  // streaming width 2
    EXPECT_EQ(s.access(tlm::TLM_WRITE_COMMAND, R::trace_base::kOffset, buf, 4, delay, be, 0),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(s.access(tlm::TLM_IGNORE_COMMAND, R::id::kOffset, buf, 4, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(sc_core::sc_time_stamp(), t0);
    EXPECT_EQ(delay, sc_time(3, SC_NS));
    EXPECT_EQ(b.dut.reg_stats().refused, before.refused + 7);
    EXPECT_EQ(b.dut.reg_stats().reads, before.reads);
    EXPECT_EQ(b.dut.reg_stats().writes, before.writes);
    EXPECT_EQ(s.read32(lo), 0x9a037701u);  // none of them wrote
  });
  EXPECT_EQ(b.dut.reg_stats().errors, 0u);
  EXPECT_TRUE(b.memory.log().empty());
}

// Sync mode (the default): the access waits for the initiator's local offset, then takes 2-3
// cycles; the delay comes back 0. The initiator's local time after = before + offset + access.
TEST(UnitTlm, RegisterAccessSynchronisesAndTakesCycles) {
  Bench b;
  b.run([&](Script& s) {
    uint8_t d[4];
    for (sc_time offset : {SC_ZERO_TIME, sc_time(0.25, SC_NS), sc_time(10.5, SC_NS), sc_time(7, SC_NS)}) {
      SCOPED_TRACE(offset.to_string());
      const sc_time t0 = sc_core::sc_time_stamp();
      sc_time delay = offset;
      ASSERT_EQ(s.access(tlm::TLM_READ_COMMAND, R::id::kOffset, d, 4, delay), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(delay, SC_ZERO_TIME);
      const sc_time access = sc_core::sc_time_stamp() - t0 - offset;
      EXPECT_GE(access, 2 * kT);
      EXPECT_LE(access, 3 * kT);
      // It returns at a rising edge of the unit's clock (the R handshake).
      EXPECT_EQ(sc_core::sc_time_stamp().value() % kT.value(), 0u);
    }
    // Back to back: each returns at the edge of its response (e+2), where the pin driver has
    // already looked for work; the next one is taken at e+3: 3 cycles each.
    const uint64_t c0 = b.dut.cycle();
    for (int i = 0; i < 5; ++i) s.read32(R::version::kOffset);
    EXPECT_EQ(b.dut.cycle() - c0, 15u);

    // A loosely-timed initiator with a quantum keeper: it runs ahead, and every register access
    // brings the unit's clock to the initiator's local time.
    tlm_utils::tlm_quantumkeeper qk;
    tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(100, SC_NS));
    qk.reset();
    const sc_time start = sc_core::sc_time_stamp();
    qk.inc(sc_time(40, SC_NS));  // 40 ns of local work before the access
    sc_time delay = qk.get_local_time();
    ASSERT_EQ(s.access(tlm::TLM_READ_COMMAND, R::status::kOffset, d, 4, delay), tlm::TLM_OK_RESPONSE);
    qk.set(delay);
    EXPECT_GE(qk.get_current_time() - start, sc_time(42, SC_NS));
    EXPECT_LE(qk.get_current_time() - start, sc_time(43, SC_NS));
    EXPECT_GE(b.dut.cycle(), static_cast<uint64_t>((start + sc_time(40, SC_NS)) / kT));
  });
}

// Without sync: the access starts at once and the offset comes back untouched; the access time
// itself has elapsed in simulation time.
TEST(UnitTlm, UnsyncedRegisterAccessKeepsTheOffset) {
  model::UnitTlmParams p;
  p.sync_register_access = false;
  Bench b(p);
  b.run([&](Script& s) {
    uint8_t d[4];
    const sc_time t0 = sc_core::sc_time_stamp();
    sc_time delay(10, SC_NS);
    ASSERT_EQ(s.access(tlm::TLM_READ_COMMAND, R::id::kOffset, d, 4, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, sc_time(10, SC_NS));
    EXPECT_GE(sc_core::sc_time_stamp() - t0, 2 * kT);
    EXPECT_LE(sc_core::sc_time_stamp() - t0, 3 * kT);
    uint32_t v;
    std::memcpy(&v, d, 4);
    EXPECT_EQ(v, R::kMapId);
  });
}

// =============================================================================================
// The memory bridge on its own: AXI4 bursts from a pin-level traffic generator.

class BridgeBench : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<BridgeBench, 64> init;
  sim::ClockReset clock;
  model::AxiSignals axi;
  model::AxiToTlm bridge;
  test::AxiTestMaster master;
  sim::TlmMemory memory;

  explicit BridgeBench(const sc_core::sc_module_name& n, const sim::TlmMemoryTiming& t)
      : sc_module(n),
        init("init"),
        clock("clock", kT, 4),
        axi("axi"),
        bridge("bridge", [this](tlm::tlm_generic_payload& p, sc_time& d) { init->b_transport(p, d); }, 8),
        master("master"),
        memory("memory", t) {
    init.bind(memory.socket);
    bridge.clk_i(clock.clk);
    bridge.rst_ni(clock.rst_n);
    bridge.s_axi.bind(axi);
    master.clk_i(clock.clk);
    master.rst_ni(clock.rst_n);
    master.m.bind(axi);
    memory.set_logging(true);
    memory.set_fail_on_violation(false);
  }
  void run_until_done() {
    clock.run_until([&] { return master.all_done(); }, 10000);
    clock.run(4);
  }
};

test::Burst rd(uint32_t id, uint64_t addr, uint32_t len, uint32_t size = 3, uint32_t burst = model::kAxiBurstIncr) {
  test::Burst b;
  b.id = id;
  b.addr = addr;
  b.len = len;
  b.size = size;
  b.burst = burst;
  return b;
}

test::Burst wr(uint32_t id, uint64_t addr, std::vector<uint64_t> data, std::vector<uint32_t> strb = {},
               uint32_t size = 3, uint32_t burst = model::kAxiBurstIncr) {
  test::Burst b = rd(id, addr, uint32_t(data.size() - 1), size, burst);
  b.write = true;
  b.wdata = std::move(data);
  b.wstrb = std::move(strb);
  return b;
}

// What a beat of an INCR burst should carry: the bytes it covers on their lanes, 0 elsewhere.
uint64_t expected_beat(const sim::TlmMemory& m, uint64_t addr, uint32_t size, uint32_t k) {
  const uint64_t nb = uint64_t{1} << size, aligned = addr & ~(nb - 1);
  const uint64_t lo = std::max(addr, aligned + k * nb), hi = aligned + (k + 1) * nb;
  uint64_t v = 0;
  for (uint64_t a = lo; a < hi; ++a) {
    uint8_t byte;
    m.read(a, &byte, 1);
    v |= uint64_t{byte} << (8 * (a % 8));
  }
  return v;
}

TEST(AxiToTlm, BurstsBecomeOneTransactionEach) {
  sim::TlmMemoryTiming t;
  t.read_latency = 5 * kT;
  t.write_latency = 3 * kT;
  BridgeBench bb("bb", t);
  sim::TlmMemory& mem = bb.memory;
  mem.allow(0x1000, 0x2000, "buf");
  for (uint64_t a = 0x1000; a < 0x3000; a += 8) mem.write64(a, 0x0101010101010101ull * ((a >> 3) & 0xff) ^ a);

  const size_t r0 = bb.master.post(rd(0, 0x1000, 15));       // 16 beats, aligned
  const size_t r1 = bb.master.post(rd(1, 0x1203, 3));        // unaligned start: 29 bytes
  const size_t r2 = bb.master.post(rd(2, 0x1302, 3, 1));     // narrow: 2 bytes per beat
  const size_t w0 = bb.master.post(wr(0, 0x2000, {1, 2, 3, 4}));
  const size_t w1 = bb.master.post(wr(1, 0x2100, {0x1111111111111111ull, 0x2222222222222222ull}, {0x0f, 0xf0}));
  const size_t w2 = bb.master.post(wr(1, 0x2203, {0xa7a6a5a4a3a2a1a0ull}, {0xf8}));  // unaligned, whole
  const size_t w3 = bb.master.post(wr(0, 0x2305, {0xffeeddccbbaa9988ull}, {0x60}));  // unaligned, partial
  const std::vector<uint8_t> before_w1 = [&] {
    std::vector<uint8_t> v(16);
    mem.read(0x2100, v.data(), 16);
    return v;
  }();
  bb.run_until_done();
  EXPECT_TRUE(bb.master.errors.empty()) << bb.master.errors.front();

  // The transactions, one per burst, in order per direction.
  std::vector<sim::TlmAccess> reads, writes;
  for (const auto& a : mem.log()) (a.command == tlm::TLM_READ_COMMAND ? reads : writes).push_back(a);
  ASSERT_EQ(reads.size(), 3u);
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_EQ(reads[0].addr, 0x1000u);
  EXPECT_EQ(reads[0].length, 128u);
  EXPECT_EQ(reads[0].streaming_width, 128u);
  EXPECT_EQ(reads[1].addr, 0x1203u);
  EXPECT_EQ(reads[1].length, 29u);
  EXPECT_EQ(reads[2].addr, 0x1302u);
  EXPECT_EQ(reads[2].length, 8u);
  for (const auto& a : reads) EXPECT_TRUE(a.byte_enables.empty());
  EXPECT_EQ(writes[0].addr, 0x2000u);
  EXPECT_EQ(writes[0].length, 32u);
  EXPECT_TRUE(writes[0].byte_enables.empty());  // every byte enabled: no byte enable array
  EXPECT_EQ(writes[1].addr, 0x2100u);
  EXPECT_EQ(writes[1].length, 16u);
  EXPECT_EQ(writes[1].byte_enables,
            (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(writes[2].addr, 0x2203u);
  EXPECT_EQ(writes[2].length, 5u);
  EXPECT_TRUE(writes[2].byte_enables.empty());  // lanes 0-2 are not the burst's bytes
  EXPECT_EQ(writes[3].addr, 0x2305u);
  EXPECT_EQ(writes[3].length, 3u);
  EXPECT_EQ(writes[3].byte_enables, (std::vector<uint8_t>{0xff, 0xff, 0}));
  for (const auto& a : mem.log()) EXPECT_EQ(a.response, tlm::TLM_OK_RESPONSE);

  // Read data on the right lanes.
  for (size_t i : {r0, r1, r2}) {
    const test::Burst& b = bb.master.burst(i);
    ASSERT_TRUE(b.done);
    ASSERT_EQ(b.rdata.size(), b.len + 1);
    for (uint32_t k = 0; k <= b.len; ++k) {
      EXPECT_EQ(b.rdata[k], expected_beat(mem, b.addr, b.size, k)) << "burst " << i << " beat " << k;
      EXPECT_EQ(b.rresp[k], model::kAxiRespOkay);
    }
  }
  // Written data.
  for (int k = 0; k < 4; ++k) EXPECT_EQ(mem.read64(0x2000 + 8 * k), uint64_t(k + 1));
  std::vector<uint8_t> got(16);
  mem.read(0x2100, got.data(), 16);
  for (int i = 0; i < 16; ++i) {
    const bool on = i < 4 || i >= 12;
    EXPECT_EQ(got[i], on ? (i < 8 ? 0x11 : 0x22) : before_w1[i]) << i;
  }
  uint8_t w2b[5];
  mem.read(0x2203, w2b, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(w2b[i], 0xa3 + i);
  uint8_t w3b[3];
  mem.read(0x2305, w3b, 3);
  EXPECT_EQ(w3b[0], 0xdd);
  EXPECT_EQ(w3b[1], 0xee);
  for (size_t i : {w0, w1, w2, w3}) EXPECT_EQ(bb.master.burst(i).bresp, model::kAxiRespOkay);

  // Timing: first R beat at t + 1 + max(1, ceil(d / T)) = t + 6, then one beat per cycle; the
  // next bursts' data was fetched meanwhile and follows back to back.
  const test::Burst& b0 = bb.master.burst(r0);
  EXPECT_EQ(b0.t_beats[0], b0.t_addr + 6);
  for (uint32_t k = 1; k <= b0.len; ++k) EXPECT_EQ(b0.t_beats[k], b0.t_beats[k - 1] + 1);
  EXPECT_EQ(bb.master.burst(r1).t_beats[0], b0.t_beats.back() + 1);
  EXPECT_EQ(bb.master.burst(r2).t_beats[0], bb.master.burst(r1).t_beats.back() + 1);
  // B at the last W beat + 1 + max(1, ceil(3 ns / T)) = + 4.
  const test::Burst& bw = bb.master.burst(w0);
  EXPECT_EQ(bw.t_resp, bw.t_beats.back() + 4);
  EXPECT_EQ(bb.bridge.stats().reads, 3u);
  EXPECT_EQ(bb.bridge.stats().writes, 4u);
  EXPECT_EQ(bb.bridge.stats().read_bytes, 128u + 29 + 8);
  EXPECT_EQ(bb.bridge.stats().protocol, 0u);
  EXPECT_TRUE(bb.bridge.idle());
}

TEST(AxiToTlm, SeveralIdsOutstandingAndZeroDelay) {
  sim::TlmMemoryTiming t;
  t.read_latency = SC_ZERO_TIME;
  t.write_latency = SC_ZERO_TIME;
  BridgeBench bb("bb", t);
  sim::TlmMemory& mem = bb.memory;
  mem.allow(0x4000, 0x4000, "buf");
  for (uint64_t a = 0x4000; a < 0x8000; a += 8) mem.write64(a, a * 0x9e3779b97f4a7c15ull);
  // Like the unit: up to 3 read requesters and 2 write requesters, IDs by requester.
  std::vector<size_t> reads, writes;
  for (int i = 0; i < 12; ++i)
    reads.push_back(bb.master.post(rd(uint32_t(i % 3), 0x4000 + 0x100 * i, uint32_t(i % 4) * 3)));
  for (int i = 0; i < 6; ++i) {
    std::vector<uint64_t> data(size_t(i + 1), 0xabcd0000u + i);
    writes.push_back(bb.master.post(wr(uint32_t(i % 2), 0x6000 + 0x80 * i, data)));
  }
  bb.run_until_done();
  EXPECT_TRUE(bb.master.errors.empty()) << bb.master.errors.front();
  for (size_t i : reads) {
    const test::Burst& b = bb.master.burst(i);
    for (uint32_t k = 0; k <= b.len; ++k) EXPECT_EQ(b.rdata.at(k), mem.read64(b.addr + 8 * k));
  }
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k <= i; ++k) EXPECT_EQ(mem.read64(0x6000 + 0x80 * i + 8 * k), 0xabcd0000u + i);
  // Answered in order, whatever the IDs.
  std::vector<size_t> order;
  for (size_t i : bb.master.completion_order())
    if (!bb.master.burst(i).write) order.push_back(i);
  EXPECT_EQ(order, reads);
  EXPECT_GE(bb.bridge.stats().max_outstanding_reads, 3u);
  EXPECT_GE(bb.bridge.stats().max_outstanding_writes, 2u);
  // Zero delay: first R beat 2 cycles after AR (registered in, registered out).
  const test::Burst& b0 = bb.master.burst(reads[0]);
  EXPECT_EQ(b0.t_beats[0], b0.t_addr + 2);
  // And the R channel never idles once data flows: 1 + 4 + 7 + 10 beats, repeated 3 times.
  const test::Burst& last = bb.master.burst(reads.back());
  EXPECT_EQ(last.t_beats.back() - b0.t_beats[0] + 1, 3u * (1 + 4 + 7 + 10));
}

TEST(AxiToTlm, TlmErrorsBecomeSlverr) {
  BridgeBench bb("bb", sim::TlmMemoryTiming{});
  sim::TlmMemory& mem = bb.memory;
  mem.allow(0x1000, 0x1000, "buf");
  mem.inject_error(0x1800, 8, tlm::TLM_GENERIC_ERROR_RESPONSE);
  const size_t ok = bb.master.post(rd(0, 0x1000, 3));
  const size_t injected = bb.master.post(rd(1, 0x17f0, 3));   // touches 0x1800
  const size_t outside = bb.master.post(rd(2, 0x3000, 1));    // no window: address error
  const size_t fixed = bb.master.post(rd(0, 0x1000, 1, 3, 0));  // FIXED: not issued
  const size_t wide = bb.master.post(rd(0, 0x1000, 1, 4));       // 16 bytes per beat: not issued
  const size_t w_bad = bb.master.post(wr(0, 0x17f8, {1, 2}));
  const size_t w_wrap = bb.master.post(wr(1, 0x1100, {1, 2}, {}, 3, 2));  // WRAP: not issued
  const size_t w_ok = bb.master.post(wr(1, 0x1100, {5}));
  bb.run_until_done();
  EXPECT_TRUE(bb.master.errors.empty()) << bb.master.errors.front();
  auto all_resp = [&](size_t i, uint32_t want) {
    const test::Burst& b = bb.master.burst(i);
    ASSERT_TRUE(b.done) << i;
    for (uint32_t r : b.rresp) EXPECT_EQ(r, want) << i;
  };
  all_resp(ok, model::kAxiRespOkay);
  all_resp(injected, model::kAxiRespSlverr);
  all_resp(outside, model::kAxiRespSlverr);
  all_resp(fixed, model::kAxiRespSlverr);
  all_resp(wide, model::kAxiRespSlverr);
  EXPECT_EQ(bb.master.burst(w_bad).bresp, model::kAxiRespSlverr);
  EXPECT_EQ(bb.master.burst(w_wrap).bresp, model::kAxiRespSlverr);
  EXPECT_EQ(bb.master.burst(w_ok).bresp, model::kAxiRespOkay);
  EXPECT_EQ(mem.read64(0x1100), 5u);
  EXPECT_EQ(mem.read64(0x17f8), 0u);  // the failed write did nothing
  EXPECT_EQ(bb.bridge.stats().unsupported, 3u);
  EXPECT_EQ(bb.bridge.stats().read_errors, 2u);
  EXPECT_EQ(bb.bridge.stats().write_errors, 1u);
  EXPECT_EQ(mem.log().size(), 5u);  // the unsupported bursts never reached the target
  ASSERT_EQ(mem.violations().size(), 1u);  // the out-of-window read (injected errors are not)
  EXPECT_EQ(mem.violations()[0].addr, 0x3000u);
  EXPECT_EQ(mem.stats().injected, 2u);
}

// =============================================================================================
// Whole runs through the TLM backend

TEST(UnitTlm, ExitCodeBundleEqualsTruth) {
  driver::TlmBackend dev;
  EXPECT_EQ(dev.cycles(), 8u);  // through reset
  dev.run(10);
  EXPECT_EQ(dev.cycles(), 18u);
  driver::RunResult r = driver::run_bundle(dev, bundle_dir("exit_code"));
  expect_equal(read_guest_trace(bundle_dir("exit_code") + "/guest.txt"), r);
  EXPECT_GT(r.records.size(), 10u);
  const model::AxiToTlmStats& s = dev.unit_tlm().mem_stats();
  EXPECT_GT(s.reads, 0u);
  EXPECT_GT(s.writes, 0u);
  EXPECT_EQ(s.read_errors + s.write_errors + s.unsupported + s.protocol, 0u);
  EXPECT_EQ(dev.memory().stats().refused, 0u);
  EXPECT_EQ(dev.unit_tlm().reg_stats().errors + dev.unit_tlm().reg_stats().refused, 0u);
}

TEST(UnitTlm, HashsortProgramEqualsTruth) {
  Bundle b = test::load_bundle("hashsort_chained");
  driver::TlmBackend dev;
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog);
  expect_equal(b.truth, r);
  EXPECT_EQ(r.counter("RECORDS"), r.records.size());
  const model::AxiToTlmStats& s = dev.unit_tlm().mem_stats();
  EXPECT_GE(s.max_outstanding_reads, 2u) << "the unit's requesters overlap their reads";
  EXPECT_EQ(s.read_errors + s.write_errors + s.unsupported + s.protocol, 0u);
}

TEST(UnitTlm, SmallRingsAndTwoLineCache) {
  // Backpressure on every ring and refills on nearly every block, through the bridge.
  Bundle b = test::load_bundle("exit_code");
  driver::TlmOptions o;
  o.cam_entries = 2;
  driver::TlmBackend dev(o);
  driver::RunOptions ro;
  ro.buffers.out_bytes = 64;
  ro.buffers.trace_bytes = 4096;
  ro.buffers.event_entries = 8;
  ro.chunk = 1024;
  ro.step_cycles = 512;
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog, ro);
  expect_equal(b.truth, r);
  EXPECT_GT(r.counter("STALL_OUTPUT"), 1000u);
  EXPECT_GT(r.counter("STALL_TRACE"), 0u);
  EXPECT_GT(r.counter("CAM_REFILLS"), r.counter("CAM_LOOKUPS") / 4);
}

TEST(UnitTlm, SeveralJobsAndTheMemoryLatencyOnlyChangesTiming) {
  Bundle a = test::load_bundle("exit_code"), b = test::load_bundle("hashsort_chained");
  driver::TlmBackend dev;
  driver::RunResult r1 = driver::run_program(dev, a.pt, a.prog);
  expect_equal(a.truth, r1);
  dev.reset();
  driver::RunResult r2 = driver::run_program(dev, b.pt, b.prog);
  expect_equal(b.truth, r2);
  dev.reset();
  driver::RunResult r3 = driver::run_program(dev, a.pt, a.prog);
  expect_equal(a.truth, r3);
  EXPECT_EQ(r1.counter("BLOCKS"), r3.counter("BLOCKS"));
  EXPECT_EQ(r1.cycles, r3.cycles);  // cycle-accurate and deterministic
  // A slower memory (annotated delay 200 cycles instead of 20/10): same output, more cycles.
  dev.reset();
  dev.memory().set_timing(sim::TlmMemoryTiming{200 * kT, 200 * kT});
  driver::RunResult r4 = driver::run_program(dev, a.pt, a.prog);
  expect_equal(a.truth, r4);
  EXPECT_GT(r4.cycles, r1.cycles);
}

TEST(UnitTlm, TlmErrorStopsTheUnitWithErrAxi) {
  Bundle b = test::load_bundle("exit_code");
  driver::TlmBackend dev;
  driver::Driver drv(dev);
  for (bool on_writes : {false, true}) {
    SCOPED_TRACE(on_writes ? "output ring writes fail" : "trace ring reads fail");
    dev.reset();
    drv.identify();
    drv.setup(driver::Buffers{});
    // Reads of the trace ring fail, or every write the unit makes (the first: a hash table
    // entry for the first LOAD).
    dev.memory().clear_injected_errors();
    if (on_writes) dev.memory().inject_error(0, ~0ull, tlm::TLM_GENERIC_ERROR_RESPONSE, false, true);
    else
      dev.memory().inject_error(dev.read64(R::trace_base::kOffset), 1 << 20, tlm::TLM_GENERIC_ERROR_RESPONSE, true,
                                false);
    dev.write32(R::irq_enable::kOffset, R::irq_enable::kError.mask);
    drv.set_context(b.prog.cr3, b.prog.vmcs, true, false);
    drv.set_code(b.prog.code_base, b.prog.code_size);
    std::vector<uint64_t> addr;
    for (const driver::Descriptor& d : b.prog.descriptors) addr.push_back(drv.put_descriptor(d));
    for (driver::UnitEvent e : b.prog.events) {
      if (e.kind == 1) e.b = addr.at(e.b);
      if (!drv.try_push_event(e)) break;
    }
    drv.start();
    drv.push_trace(b.pt.data(), std::min<size_t>(b.pt.size(), 4096));
    dev.run(50000);
    const uint32_t st = drv.status();
    EXPECT_TRUE(R::status::kErrAxi.get(st)) << std::hex << st;
    EXPECT_FALSE(R::status::kBusy.get(st)) << std::hex << st;
    EXPECT_TRUE(dev.irq());
    EXPECT_TRUE(R::irq_status::kError.get(dev.read32(R::irq_status::kOffset)));
    dev.write32(R::irq_status::kOffset, R::irq_status::kError.mask);  // W1C
    dev.run(4);
    EXPECT_FALSE(dev.irq());
    EXPECT_TRUE(dev.violations().empty()) << dev.violations().front();
    EXPECT_GT(dev.memory().stats().injected, 0u);
  }
  EXPECT_GT(dev.unit_tlm().mem_stats().read_errors, 0u);
  EXPECT_GT(dev.unit_tlm().mem_stats().write_errors, 0u);
}

// The driver itself on a virtual CPU: a Device whose register accesses are b_transport calls
// from the CPU's thread, with a quantum keeper (the CPU runs up to a quantum ahead of the unit).
// Whatever the register timing mode, the output is exact.
class VirtualCpuDevice : public driver::Device {
public:
  VirtualCpuDevice(Script& cpu, Bench& bench) : cpu_(cpu), b_(bench) {
    tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(1, sc_core::SC_US));
    qk_.reset();
  }
  std::string name() const override { return "virtual cpu"; }
  uint32_t read32(uint32_t offset) override { return access(false, offset, 0); }
  void write32(uint32_t offset, uint32_t value) override { access(true, offset, value); }
  uint64_t alloc(uint64_t size, uint64_t align, const std::string& name, bool r, bool w) override {
    uint64_t a = (next_ + align - 1) & ~(align - 1);
    next_ = a + size + 4096;
    b_.memory.allow(a, size, name, r, w);
    return a;
  }
  void free_all() override {
    b_.memory.clear_windows();
    next_ = 0x80000000ull;
  }
  void mem_write(uint64_t addr, const void* data, size_t n) override { b_.memory.write(addr, data, n); }
  void mem_read(uint64_t addr, void* data, size_t n) override { b_.memory.read(addr, data, n); }
  void run(uint64_t cycles) override {  // the CPU does something else for a while
    qk_.inc(kT * double(cycles));
    qk_.sync();
  }
  uint64_t cycles() const override { return b_.dut.cycle(); }
  bool irq() const override { return b_.irq.read(); }
  void reset() override {}
  std::vector<std::string> violations() const override {
    std::vector<std::string> v;
    for (const auto& x : b_.memory.violations()) v.push_back(sim::TlmMemory::describe(x));
    return v;
  }
  uint64_t accesses = 0;

private:
  uint32_t access(bool write, uint32_t offset, uint32_t value) {
    uint8_t d[4];
    std::memcpy(d, &value, 4);
    qk_.inc(sc_time(2, SC_NS));  // the CPU's own time for the load/store
    sc_time delay = qk_.get_local_time();
    const auto st = cpu_.access(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, offset, d, 4, delay);
    EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
    qk_.set(delay);
    if (qk_.need_sync()) qk_.sync();
    ++accesses;
    std::memcpy(&value, d, 4);
    return value;
  }
  Script& cpu_;
  Bench& b_;
  tlm_utils::tlm_quantumkeeper qk_;
  uint64_t next_ = 0x80000000ull;
};

void run_on_virtual_cpu(bool sync) {
  Bundle bundle = test::load_bundle("exit_code");
  model::UnitTlmParams p;
  p.sync_register_access = sync;
  Bench b(p);
  b.memory.set_fail_on_violation(false);
  driver::RunResult r;
  uint64_t accesses = 0;
  b.run([&](Script& s) {
    VirtualCpuDevice dev(s, b);
    r = driver::run_program(dev, bundle.pt, bundle.prog);
    accesses = dev.accesses;
  });
  expect_equal(bundle.truth, r);
  EXPECT_GT(accesses, 100u);
  EXPECT_EQ(b.dut.reg_stats().reads + b.dut.reg_stats().writes, accesses);
}

TEST(UnitTlm, DriverOnAVirtualCpuSynced) { run_on_virtual_cpu(true); }
TEST(UnitTlm, DriverOnAVirtualCpuUnsynced) { run_on_virtual_cpu(false); }

TEST(UnitTlm, DoneInterruptAndW1C) {
  Bundle b = test::load_bundle("exit_code");
  driver::TlmBackend dev;
  dev.write32(R::irq_enable::kOffset, R::irq_enable::kDone.mask);
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog);
  expect_equal(b.truth, r);
  EXPECT_TRUE(R::irq_status::kDone.get(dev.read32(R::irq_status::kOffset)));
  EXPECT_TRUE(dev.irq());
  dev.write32(R::irq_status::kOffset, 0);  // writing 0 clears nothing
  dev.run(4);
  EXPECT_TRUE(dev.irq());
  dev.write32(R::irq_status::kOffset, R::irq_status::kDone.mask);
  dev.run(4);
  EXPECT_FALSE(dev.irq());
  EXPECT_FALSE(R::irq_status::kDone.get(dev.read32(R::irq_status::kOffset)));
  // A refused access through the backend's own path is an exception, not a silent value.
  EXPECT_THROW(dev.read32(0x3), std::runtime_error);
}

}  // namespace
