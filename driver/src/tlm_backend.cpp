#include "xtu/driver/tlm_backend.hpp"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdlib>
#include <deque>
#include <stdexcept>

#include "xtu/model/unit_tlm.hpp"
#include "xtu/regs.hpp"
#include "xtu/sim/tlm_memory.hpp"

namespace xtu::driver {

namespace {

bool g_instantiated = false;

// The register initiator: a thread that issues queued transactions on its socket, one at a
// time, as a loosely-timed initiator would (it waits for the delay b_transport returns before
// the next one), and pauses the simulation after each so that the caller outside regains
// control right away.
class RegHost : public sc_core::sc_module {
public:
  struct Job {
    tlm::tlm_generic_payload* trans = nullptr;
    sc_core::sc_time delay;
    bool done = false;
  };

  tlm_utils::simple_initiator_socket<RegHost, 32> socket;

  SC_HAS_PROCESS(RegHost);
  explicit RegHost(const sc_core::sc_module_name& name) : sc_module(name), socket("socket") { SC_THREAD(thread); }

  void post(Job* j) {
    queue_.push_back(j);
    posted_.notify(sc_core::SC_ZERO_TIME);
  }

private:
  void thread() {
    for (;;) {
      while (queue_.empty()) wait(posted_);
      Job* j = queue_.front();
      queue_.pop_front();
      socket->b_transport(*j->trans, j->delay);
      if (j->delay != sc_core::SC_ZERO_TIME) wait(j->delay);
      j->done = true;
      sc_core::sc_pause();
    }
  }

  std::deque<Job*> queue_;
  sc_core::sc_event posted_;
};

}  // namespace

struct TlmBackend::Impl {
  explicit Impl(const TlmOptions& o)
      : options(o),
        host("host"),
        unit("xtu", params(o)),
        memory("memory", timing(o)),
        irq("irq"),
        arena() {
    host.socket.bind(unit.regs);
    unit.mem.bind(memory.socket);
    unit.irq(irq);
    memory.set_fail_on_violation(false);  // reported through violations(), the test fails on them
    memory.set_cycle_period(unit.clock_period());
    std::string vcd = o.vcd;
    if (vcd.empty())
      if (const char* d = std::getenv("XTU_VCD")) vcd = std::string(d) + "/xtu_tlm.vcd";
    if (!vcd.empty()) {
      std::string base = vcd.size() > 4 && vcd.substr(vcd.size() - 4) == ".vcd" ? vcd.substr(0, vcd.size() - 4) : vcd;
      tf = sc_core::sc_create_vcd_trace_file(base.c_str());
      unit.trace(tf);
      sc_core::sc_trace(tf, irq, "irq");
    }
  }
  ~Impl() {
    if (tf) sc_core::sc_close_vcd_trace_file(tf);
  }
  static model::UnitTlmParams params(const TlmOptions& o) {
    model::UnitTlmParams p;
    p.unit.cam_entries = o.cam_entries;
    p.unit.walk_width = o.walk_width;
    p.unit.dec_width = o.dec_width;
    p.sync_register_access = o.sync_register_access;
    return p;
  }
  static sim::TlmMemoryTiming timing(const TlmOptions& o) {
    const sc_core::sc_time period = model::UnitTlmParams{}.clock_period;
    sim::TlmMemoryTiming t;
    t.read_latency = period * double(o.mem_read_latency);
    t.write_latency = period * double(o.mem_write_latency);
    return t;
  }

  void run(uint64_t n) {
    if (n == 0) return;
    // Edge k is at k * period; cycle() edges are done. Simulating up to (not including) the
    // time of edge cycle() + n covers exactly n edges, wherever in a period the last register
    // access left the simulation.
    sc_core::sc_start(unit.edge_time(unit.cycle() + n) - sc_core::sc_time_stamp());
  }

  void transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (sc_core::sc_get_status() == sc_core::SC_RUNNING)
      throw std::logic_error("TlmBackend: register access from inside the simulation");
    if (broken) throw std::logic_error("TlmBackend: unusable after a register access that did not complete");
    RegHost::Job j;
    j.trans = &t;
    j.delay = delay;
    host.post(&j);
    // From here until j.done the host thread holds pointers to j and t: should the access not
    // complete, the backend stays unusable (the thread may still write to them).
    broken = true;
    const sc_core::sc_time limit = unit.clock_period() * double(options.max_access_cycles);
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    while (!j.done) {  // sc_start returns at the host's sc_pause()
      const sc_core::sc_time spent = sc_core::sc_time_stamp() - start;
      if (spent >= limit)
        throw std::runtime_error("TlmBackend: register access at " + std::to_string(t.get_address()) +
                                 " not done after " + std::to_string(options.max_access_cycles) + " cycles");
      sc_core::sc_start(limit - spent);
    }
    broken = false;
    delay = j.delay;
  }

  uint32_t access(bool write, uint32_t offset, uint32_t value) {
    unsigned char data[4];
    for (int i = 0; i < 4; ++i) data[i] = static_cast<unsigned char>(value >> (8 * i));
    tlm::tlm_generic_payload t;
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(offset);
    t.set_data_ptr(data);
    t.set_data_length(4);
    t.set_streaming_width(4);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    transport(t, delay);
    if (!t.is_response_ok())
      throw std::runtime_error(std::string("register ") + (write ? "write" : "read") + " at " +
                               std::to_string(offset) + " failed (" + t.get_response_string() + ")");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(data[i]) << (8 * i);
    return v;
  }

  TlmOptions options;
  RegHost host;
  model::UnitTlm unit;
  sim::TlmMemory memory;
  sc_core::sc_signal<bool> irq;
  DmaArena arena;
  sc_core::sc_trace_file* tf = nullptr;
  bool broken = false;
};

TlmBackend::TlmBackend(const TlmOptions& options) {
  if (g_instantiated)
    throw std::logic_error("one TLM backend per process: SystemC elaborates once (use reset() between jobs)");
  g_instantiated = true;
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  impl_ = std::make_unique<Impl>(options);
  impl_->run(8);  // through reset
}

TlmBackend::~TlmBackend() = default;

uint32_t TlmBackend::read32(uint32_t offset) { return impl_->access(false, offset, 0); }
void TlmBackend::write32(uint32_t offset, uint32_t value) { impl_->access(true, offset, value); }

void TlmBackend::transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  impl_->transport(trans, delay);
}

uint64_t TlmBackend::alloc(uint64_t size, uint64_t align, const std::string& name, bool unit_reads, bool unit_writes) {
  const uint64_t a = impl_->arena.take(size, align);
  impl_->memory.allow(a, size, name, unit_reads, unit_writes);
  return a;
}

void TlmBackend::free_all() {
  impl_->memory.clear_windows();
  impl_->arena.clear();
}

void TlmBackend::mem_write(uint64_t addr, const void* data, size_t n) { impl_->memory.write(addr, data, n); }
void TlmBackend::mem_read(uint64_t addr, void* data, size_t n) { impl_->memory.read(addr, data, n); }
void TlmBackend::run(uint64_t cycles) { impl_->run(cycles); }
uint64_t TlmBackend::cycles() const { return impl_->unit.cycle(); }
bool TlmBackend::irq() const { return impl_->irq.read(); }

void TlmBackend::reset() {
  // CTRL.SOFT_RESET returns every block to its reset state without re-elaborating the model.
  write32(regs::ctrl::kOffset, regs::ctrl::kSoftReset.mask);
  run(4);
  impl_->memory.clear_violations();
}

std::vector<std::string> TlmBackend::violations() const {
  std::vector<std::string> v;
  for (const sim::Violation& x : impl_->memory.violations()) v.push_back(sim::TlmMemory::describe(x));
  return v;
}

const model::UnitTlm& TlmBackend::unit_tlm() const { return impl_->unit; }
const model::Unit& TlmBackend::unit() const { return impl_->unit.unit(); }
sim::TlmMemory& TlmBackend::memory() { return impl_->memory; }

}  // namespace xtu::driver
