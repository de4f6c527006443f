#include "xtu/driver/systemc_backend.hpp"

#include <cstdlib>
#include <stdexcept>

#include "xtu/model/unit.hpp"
#include "xtu/regs.hpp"
#include "xtu/sim/axi_memory.hpp"
#include "xtu/sim/axil_master.hpp"
#include "xtu/sim/clock_reset.hpp"

namespace xtu::driver {

namespace {
bool g_instantiated = false;
}  // namespace

struct SystemCBackend::Impl {
  explicit Impl(const SystemCOptions& o)
      : clock("clock", sc_core::sc_time(1, sc_core::SC_NS), 4),
        memory("memory", timing(o)),
        regs("regs"),
        unit("xtu", params(o)),
        axi("axi"),
        axil("axil"),
        irq("irq"),
        arena() {
    memory.clk_i(clock.clk);
    memory.rst_ni(clock.rst_n);
    memory.axi.bind(axi);
    memory.set_fail_on_violation(false);  // reported through violations(), the test fails on them
    regs.clk_i(clock.clk);
    regs.rst_ni(clock.rst_n);
    regs.axil.bind(axil);
    unit.clk_i(clock.clk);
    unit.rst_ni(clock.rst_n);
    unit.irq_o(irq);
    unit.s_axil.bind(axil);
    unit.m_axi.bind(axi);
    std::string vcd = o.vcd;
    if (vcd.empty())
      if (const char* d = std::getenv("XTU_VCD")) vcd = std::string(d) + "/xtu.vcd";
    if (!vcd.empty()) {
      std::string base = vcd.size() > 4 && vcd.substr(vcd.size() - 4) == ".vcd" ? vcd.substr(0, vcd.size() - 4) : vcd;
      tf = sc_core::sc_create_vcd_trace_file(base.c_str());
      axi.trace(tf, "m_axi");
      axil.trace(tf, "s_axil");
      sc_core::sc_trace(tf, irq, "irq");
      unit.trace(tf);
    }
    clock.run(8);  // through reset
  }
  ~Impl() {
    if (tf) sc_core::sc_close_vcd_trace_file(tf);
  }
  static sim::MemoryTiming timing(const SystemCOptions& o) {
    sim::MemoryTiming t;
    t.read_latency = o.mem_read_latency;
    t.write_latency = o.mem_write_latency;
    t.beat_interval = o.mem_beat_interval;
    t.max_outstanding = 8;
    return t;
  }
  static model::UnitParams params(const SystemCOptions& o) {
    model::UnitParams p;
    p.cam_entries = o.cam_entries;
    p.walk_width = o.walk_width;
    p.dec_width = o.dec_width;
    return p;
  }

  sim::ClockReset clock;
  sim::AxiMemory memory;
  sim::AxiLiteMaster regs;
  model::Unit unit;
  model::AxiSignals axi;
  model::AxiLiteSignals axil;
  sc_core::sc_signal<bool> irq;
  DmaArena arena;
  sc_core::sc_trace_file* tf = nullptr;
};

SystemCBackend::SystemCBackend(const SystemCOptions& options) {
  if (g_instantiated)
    throw std::logic_error("one SystemC backend per process: SystemC elaborates once (use reset() between jobs)");
  g_instantiated = true;
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  impl_ = std::make_unique<Impl>(options);
}

SystemCBackend::~SystemCBackend() = default;

uint32_t SystemCBackend::read32(uint32_t offset) {
  uint32_t resp = 0;
  uint32_t v = impl_->regs.run_read(offset, &resp);
  if (resp) throw std::runtime_error("register read at " + std::to_string(offset) + " failed (AXI error)");
  return v;
}

void SystemCBackend::write32(uint32_t offset, uint32_t value) {
  if (impl_->regs.run_write(offset, value))
    throw std::runtime_error("register write at " + std::to_string(offset) + " failed (AXI error)");
}

uint64_t SystemCBackend::alloc(uint64_t size, uint64_t align, const std::string& name, bool unit_reads,
                               bool unit_writes) {
  const uint64_t a = impl_->arena.take(size, align);
  impl_->memory.allow(a, size, name, unit_reads, unit_writes);
  return a;
}

void SystemCBackend::free_all() {
  impl_->memory.clear_windows();
  impl_->arena.clear();
}

void SystemCBackend::mem_write(uint64_t addr, const void* data, size_t n) { impl_->memory.write(addr, data, n); }
void SystemCBackend::mem_read(uint64_t addr, void* data, size_t n) { impl_->memory.read(addr, data, n); }
void SystemCBackend::run(uint64_t cycles) { impl_->clock.run(cycles); }
uint64_t SystemCBackend::cycles() const { return impl_->clock.cycle(); }
bool SystemCBackend::irq() const { return impl_->irq.read(); }

void SystemCBackend::reset() {
  // CTRL.SOFT_RESET returns every block to its reset state without re-elaborating the model.
  write32(regs::ctrl::kOffset, regs::ctrl::kSoftReset.mask);
  run(4);
  impl_->memory.clear_violations();
}

std::vector<std::string> SystemCBackend::violations() const {
  std::vector<std::string> v;
  for (const sim::Violation& x : impl_->memory.violations()) v.push_back(x.to_string());
  return v;
}

const model::Unit& SystemCBackend::unit() const { return impl_->unit; }

}  // namespace xtu::driver
