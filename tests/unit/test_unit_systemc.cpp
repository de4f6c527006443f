// The unit (cycle-accurate SystemC model) driven through the driver and the AXI memory model:
// properties of whole runs. Each TEST runs in its own process (SystemC elaborates once per
// process; gtest_discover_tests + CTest run each test alone). Tests on real bundles use those the
// end-to-end capture tests write (FIXTURES_REQUIRED in tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sim_support/bundles.hpp"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/driver/session.hpp"
#include "xtu/driver/systemc_backend.hpp"
#include "xtu/formats/bundle.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/golden/golden.hpp"
#include "xtu/model/unit.hpp"
#include "xtu/regs.hpp"

namespace {

using namespace xtu;
using test::Bundle;
using test::bundle_dir;
using test::expect_equal;
namespace R = xtu::regs;


TEST(UnitSystemC, IdentifiesItself) {
  driver::SystemCOptions so;
  so.cam_entries = 16;
  driver::SystemCBackend dev(so);
  driver::Driver drv(dev);
  driver::DeviceInfo i = drv.identify();
  EXPECT_EQ(i.id, R::kMapId);
  EXPECT_EQ(i.version, R::kMapVersion);
  EXPECT_EQ(i.cam_entries, 16u);
  EXPECT_EQ(i.max_nodes, 32u);
  // Configuration registers read back, both halves of 64-bit ones.
  dev.write64(R::trace_base::kOffset, 0x123456789abcdef0ull);
  EXPECT_EQ(dev.read64(R::trace_base::kOffset), 0x123456789abcdef0ull);
  dev.write32(R::trace_base::kOffset + 4, 0x11);
  EXPECT_EQ(dev.read64(R::trace_base::kOffset), 0x00000011'9abcdef0ull);
  // Read-only registers ignore writes; W1C clears only the bits written.
  dev.write32(R::id::kOffset, 0);
  EXPECT_EQ(dev.read32(R::id::kOffset), R::kMapId);
  EXPECT_EQ(dev.read32(R::irq_status::kOffset), 0u);
}

TEST(UnitSystemC, OutputRingWrapsUnderBackpressure) {
  // A 64-byte output ring holds 4 records: the unit fills it, stalls until the driver drains,
  // wraps around hundreds of thousands of times, and still writes only inside the ring.
  Bundle b = test::load_bundle("hashsort_chained");
  driver::SystemCBackend dev;
  driver::RunOptions o;
  o.buffers.out_bytes = 64;
  o.step_cycles = 256;
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog, o);
  expect_equal(b.truth, r);
  EXPECT_GT(r.counter("STALL_OUTPUT"), 1000u);
  EXPECT_EQ(r.counter("RECORDS"), r.records.size());
}

TEST(UnitSystemC, SmallTraceAndEventRingsStream) {
  // Trace ring of 4 KiB and event ring of 8 entries: the driver streams both as the unit
  // consumes them (TRACE_TAIL / EVQ_TAIL), the unit waits at TRACE_HEAD.
  Bundle b = test::load_bundle("dispatch_chained");
  driver::SystemCBackend dev;
  driver::RunOptions o;
  o.buffers.trace_bytes = 4096;
  o.buffers.event_entries = 8;
  o.chunk = 1024;
  o.step_cycles = 1024;
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog, o);
  expect_equal(b.truth, r);
  EXPECT_GT(r.counter("STALL_TRACE"), 0u);
}

TEST(UnitSystemC, TwoLineCacheStillExact) {
  // With 2 lines nearly every lookup refills from the hash table: replacement and refill are
  // exercised on every block, and the result is the same.
  Bundle b = test::load_bundle("hashsort_chained");
  driver::SystemCOptions so;
  so.cam_entries = 2;
  driver::SystemCBackend dev(so);
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog);
  expect_equal(b.truth, r);
  EXPECT_GT(r.counter("CAM_REFILLS"), r.counter("CAM_LOOKUPS") / 4);
  EXPECT_GE(r.counter("HT_PROBES"), r.counter("CAM_REFILLS"));
}

TEST(UnitSystemC, SeveralJobsWithoutReelaborating) {
  // One backend, three jobs: reset() between them; each equals its truth and counters restart.
  Bundle a = test::load_bundle("exit_code"), b = test::load_bundle("hashsort_chained");
  driver::SystemCBackend dev;
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
}

TEST(UnitSystemC, CorruptedStreamsEndWithGapsInBoundedTime) {
  // Truncations, bit flips, overwritten chunks and pure garbage: the unit always finishes
  // (DONE), within a bounded number of cycles, never accesses memory outside its buffers, and
  // reports lost data as gaps; a truncated stream decodes to a prefix of the truth.
  Bundle b = test::load_bundle("exit_code");
  driver::SystemCBackend dev;
  std::mt19937_64 rng(42);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
  for (size_t cut : {size_t(1), size_t(17), b.pt.size() / 3, b.pt.size() / 2, b.pt.size() - 1})
    cases.push_back({"truncated at " + std::to_string(cut), std::vector<uint8_t>(b.pt.begin(), b.pt.begin() + long(cut))});
  for (int i = 0; i < 6; ++i) {
    std::vector<uint8_t> v = b.pt;
    for (int k = 0; k < 1 + i * 5; ++k) v[rng() % v.size()] ^= uint8_t(1u << (rng() % 8));
    cases.push_back({"bit flips " + std::to_string(i), v});
  }
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> v = b.pt;
    size_t at = rng() % (v.size() - 512);
    for (size_t k = 0; k < 512; ++k) v[at + k] = uint8_t(rng());
    cases.push_back({"garbage chunk " + std::to_string(i), v});
  }
  std::vector<uint8_t> garbage(1 << 14);
  for (uint8_t& x : garbage) x = uint8_t(rng());
  cases.push_back({"pure garbage", garbage});
  cases.push_back({"empty", {}});
  cases.push_back({"zeros (PAD)", std::vector<uint8_t>(8192, 0)});

  for (const auto& [name, pt] : cases) {
    SCOPED_TRACE(name);
    dev.reset();
    driver::RunOptions o;
    o.max_idle_steps = 64;
    driver::RunResult r = driver::run_program(dev, pt, b.prog, o);
    EXPECT_TRUE(r.done);
    EXPECT_TRUE(r.violations.empty()) << (r.violations.empty() ? "" : r.violations.front());
    EXPECT_EQ(r.status & 0xff00u, 0u);
    EXPECT_LT(r.cycles, 200 * (pt.size() + 1024) + 1000000) << "cycles";
    std::vector<GuestRecord> got = driver::guest_records(r.records);
    if (name.rfind("truncated", 0) == 0) {
      size_t n = 0;
      while (n < got.size() && got[n].kind == GuestRecord::Kind::Block) ++n;
      std::vector<GuestRecord> head(got.begin(), got.begin() + long(n));
      std::vector<GuestRecord> want(b.truth.begin(), b.truth.begin() + long(std::min(n, b.truth.size())));
      EXPECT_EQ(head, want) << "a truncated stream must decode to a prefix of the truth";
    }
    if (name == "pure garbage" || name == "zeros (PAD)") {
      // No PSB anywhere: nothing decodable, and the output says so.
      ASSERT_EQ(got.size(), 1u);
      EXPECT_EQ(got.front().kind, GuestRecord::Kind::Gap);
    }
  }
}

TEST(UnitSystemC, MisconfiguredBuffersStopWithAnError) {
  // A hash table base that is not 32-byte aligned: the unit stops with ERR_BOUNDS at its first
  // table access; nothing outside the configured windows is ever accessed.
  Bundle b = test::load_bundle("exit_code");
  driver::SystemCBackend dev;
  driver::Driver drv(dev);
  drv.identify();
  driver::Buffers buf;
  drv.setup(buf);
  uint64_t ht = dev.read64(R::ht_base::kOffset);
  dev.write64(R::ht_base::kOffset, ht + 8);
  drv.set_context(b.prog.cr3, b.prog.vmcs, true, false);
  drv.set_code(b.prog.code_base, b.prog.code_size);
  driver::UnitEvent e{0, 1, 0, 1, b.prog.descriptors[0].host, drv.put_descriptor(b.prog.descriptors[0])};
  ASSERT_TRUE(drv.try_push_event(e));
  drv.start();
  drv.push_trace(b.pt.data(), std::min<size_t>(b.pt.size(), 4096));
  dev.run(20000);
  uint32_t st = drv.status();
  EXPECT_TRUE(R::status::kErrBounds.get(st)) << std::hex << st;
  EXPECT_FALSE(R::status::kBusy.get(st));
  EXPECT_TRUE(dev.irq() == false);  // IRQ_ENABLE is 0
  EXPECT_TRUE(R::irq_status::kError.get(dev.read32(R::irq_status::kOffset)));
  EXPECT_TRUE(dev.violations().empty());
}

TEST(UnitSystemC, MalformedEventStopsWithAnError) {
  Bundle b = test::load_bundle("exit_code");
  driver::SystemCBackend dev;
  driver::Driver drv(dev);
  drv.identify();
  drv.setup(driver::Buffers{});
  drv.set_context(b.prog.cr3, b.prog.vmcs, true, false);
  drv.set_code(b.prog.code_base, b.prog.code_size);
  // A LOAD whose descriptor address lies outside the descriptor pool.
  ASSERT_TRUE(drv.try_push_event(driver::UnitEvent{0, 1, 0, 1, 0x1000, 0x8}));
  // An event of an unknown kind.
  ASSERT_TRUE(drv.try_push_event(driver::UnitEvent{0, 9, 0, 0, 0, 0}));
  dev.write32(R::irq_enable::kOffset, R::irq_enable::kError.mask);
  drv.start();
  drv.push_trace(b.pt.data(), b.pt.size());
  dev.run(20000);
  uint32_t st = drv.status();
  EXPECT_TRUE(R::status::kErrEvent.get(st)) << std::hex << st;
  EXPECT_TRUE(dev.irq());
  dev.write32(R::irq_status::kOffset, R::irq_status::kError.mask);  // W1C
  dev.run(4);
  EXPECT_FALSE(dev.irq());
  EXPECT_TRUE(dev.violations().empty());
}

TEST(UnitSystemC, DoneInterrupt) {
  Bundle b = test::load_bundle("exit_code");
  driver::SystemCBackend dev;
  dev.write32(R::irq_enable::kOffset, R::irq_enable::kDone.mask);
  driver::RunResult r = driver::run_program(dev, b.pt, b.prog);
  expect_equal(b.truth, r);
  // setup() does not touch IRQ_ENABLE; DONE raised the interrupt.
  EXPECT_TRUE(R::irq_status::kDone.get(dev.read32(R::irq_status::kOffset)));
  EXPECT_TRUE(dev.irq());
}

// Time in the records (CTRL.TIME_EN): every BLOCK carries the time libipt gives the TB's first
// instruction (pt_insn_time), exactly: on a trace with MTC, TMA and CYC, and on one with TSC only.
void expect_time_matches_golden(const std::string& name) {
  std::string dir = bundle_dir(name);
  struct Timed { uint64_t pc, tsc; bool valid; };
  std::vector<Timed> want;
  golden::Options go;
  go.on_block = [&](uint64_t pc, uint64_t tsc, bool valid) { want.push_back({pc, tsc, valid}); };
  FILE* null = std::fopen("/dev/null", "w");
  GuestTraceWriter w(null);
  golden::run(dir, w, go);
  std::fclose(null);

  driver::SystemCBackend dev;
  driver::RunOptions o;
  o.time = true;
  driver::RunResult r = driver::run_bundle(dev, dir, o);
  ASSERT_TRUE(r.done);
  std::vector<Timed> got;
  uint64_t hi = 0;
  size_t time_records = 0;
  for (const driver::Record& rec : r.records) {
    if (rec.kind == 4) {
      hi = rec.value & ~0xffffffffull;
      ++time_records;
    }
    if (rec.kind == 1) got.push_back({rec.value, hi | rec.tsc, (rec.flags & 1) != 0});
  }
  ASSERT_EQ(got.size(), want.size());
  EXPECT_GT(time_records, 0u);
  size_t timed = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].pc, want[i].pc) << "block " << i;
    ASSERT_EQ(got[i].valid, want[i].valid) << "block " << i;
    if (want[i].valid) {
      ASSERT_EQ(got[i].tsc, want[i].tsc) << "block " << i << " pc " << std::hex << want[i].pc;
      ++timed;
    }
  }
  EXPECT_GT(timed, want.size() / 2);
}

TEST(UnitSystemC, TimeMatchesGoldenWithMtcAndCyc) { expect_time_matches_golden("timing_packing"); }
TEST(UnitSystemC, TimeMatchesGoldenWithTscOnly) { expect_time_matches_golden("exit_code"); }

// The live API, as a DBT uses it: every translation, link, invalidation and flush is a call at
// the trace offset where it happened, and the PT bytes arrive in pieces of random size between the
// calls, with steps in between; small rings make the driver hold events and bytes back. The result
// is the run of the same input through run_program(), record for record. Input: the first 300 KB
// of the bigcode bundle (three flushes that reuse host addresses) and the events before it.
TEST(UnitSystemC, LiveSessionEqualsBundleRun) {
  const std::string dir = bundle_dir("bigcode_chained");
  std::vector<ev::Event> events = ev::read(dir + "/events.xtev");
  std::vector<uint8_t> pt = read_file_bytes(dir + "/trace.pt");
  const size_t cut = 300000;
  ASSERT_GT(pt.size(), cut);
  pt.resize(cut);
  events.erase(std::remove_if(events.begin(), events.end(), [&](const ev::Event& e) { return e.trace_offset >= cut; }),
               events.end());
  driver::SystemCBackend dev;
  driver::RunResult whole = driver::run_program(dev, pt, driver::translate_events(events));
  EXPECT_TRUE(whole.done);
  EXPECT_TRUE(whole.violations.empty());
  EXPECT_GT(whole.counter("BLOCKS"), 10000u);

  dev.reset();
  driver::SessionConfig c;
  c.buffers.trace_bytes = 16 * 1024;
  c.buffers.event_entries = 64;
  c.buffers.desc_bytes = 16u << 20;
  c.chunk = 4096;
  c.step_cycles = 1024;
  driver::Session s(dev, c);
  std::mt19937 rng(7);
  std::vector<driver::Record> live;
  uint64_t given = 0, calls = 0, flushes = 0;
  auto give_trace_to = [&](uint64_t upto) {
    while (given < upto) {
      size_t n = std::min<uint64_t>(upto - given, 1 + rng() % 9000);
      s.trace(pt.data() + given, n);
      given += n;
      if (rng() % 32 == 0) s.step(live);
    }
  };
  for (const ev::Event& e : events)  // the traced process: configuration, before the trace
    if (std::holds_alternative<ev::Process>(e.body)) s.event(e);
  for (const ev::Event& e : events) {
    give_trace_to(std::min<uint64_t>(e.trace_offset, pt.size()));
    const uint64_t off = e.trace_offset;
    std::visit([&](const auto& b) {
      using T = std::decay_t<decltype(b)>;
      if constexpr (std::is_same_v<T, ev::Code>) s.code(off, b.host_addr, b.bytes);
      else if constexpr (std::is_same_v<T, ev::TbLoad>) s.tb_translated(off, b.host_addr, b.guest_pc, uint16_t(b.insns.size()), b.code);
      else if constexpr (std::is_same_v<T, ev::Link>) s.tb_linked(off, b.src_tb, b.slot, b.target);
      else if constexpr (std::is_same_v<T, ev::Unlink>) s.tb_unlinked(off, b.src_tb, b.slot);
      else if constexpr (std::is_same_v<T, ev::Invalidate>) s.tb_invalidated(off, b.host_addr);
      else if constexpr (std::is_same_v<T, ev::Flush>) {
        ++flushes;
        s.flush(off);
      }
    }, e.body);
    ++calls;
  }
  give_trace_to(pt.size());
  s.end_of_trace();
  while (s.step(live)) {
  }
  driver::RunResult r = s.finish();
  EXPECT_EQ(flushes, 3u);
  EXPECT_EQ(calls, events.size());
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.violations.empty());
  ASSERT_EQ(r.records.size(), whole.records.size());
  EXPECT_EQ(live.size(), r.records.size());  // step() handed out every record finish() reports
  for (size_t k = 0; k < r.records.size(); ++k) {
    const driver::Record &x = r.records[k], &y = whole.records[k];
    ASSERT_TRUE(x.kind == y.kind && x.value == y.value && x.flags == y.flags && x.icount == y.icount)
        << "record " << k << " differs";
  }
  EXPECT_EQ(r.descriptors, whole.descriptors);
  EXPECT_EQ(r.events, whole.events);
  EXPECT_GT(r.counter("STALL_TRACE"), 0u);  // the unit waited for bytes the "DBT" had not given yet
}

TEST(UnitSystemC, LiveSessionRejectsMisuse) {
  driver::SystemCBackend dev;
  driver::Session s(dev, driver::SessionConfig{});
  s.tb_invalidated(100, 0x1000);
  EXPECT_THROW(s.tb_invalidated(50, 0x1000), std::invalid_argument);   // offsets must not decrease
  std::vector<uint8_t> bytes(200, 0);
  s.trace(bytes.data(), bytes.size());
  EXPECT_THROW(s.flush(150), std::invalid_argument);                   // bytes at 150 already given
  EXPECT_THROW(s.tb_translated(300, 0x2000, 0x400000, 1, {0xc3}), std::runtime_error);  // no prologue yet
  std::vector<driver::Record> out;
  s.step(out);
  EXPECT_THROW(s.event(ev::Event{300, 0, ev::Process{}}), std::logic_error);  // context is set before start
  s.end_of_trace();
  EXPECT_THROW(s.trace(bytes.data(), 1), std::logic_error);
  driver::RunResult r = s.finish();  // 200 zero bytes: no PSB, a gap, and the unit finishes
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.violations.empty());
  ASSERT_FALSE(r.records.empty());
  EXPECT_EQ(r.records.front().kind, uint8_t(R::RecordKind::Gap));
}

}  // namespace
