// AxiLiteMaster: see axil_master.hpp.
#include "xtu/sim/axil_master.hpp"

#include <stdexcept>
#include <string>

namespace xtu::sim {

using sc_core::wait;

AxiLiteMaster::AxiLiteMaster(const sc_core::sc_module_name& name)
    : sc_module(name), clk_i("clk_i"), rst_ni("rst_ni"), axil("axil") {
  SC_CTHREAD(thread, clk_i.pos());
  reset_signal_is(rst_ni, false);
}

void AxiLiteMaster::end_of_elaboration() {
  if (period_set_) return;
  if (const auto* clk = dynamic_cast<const sc_core::sc_clock*>(clk_i.get_interface())) period_ = clk->period();
}

AxiLiteMaster::Ticket AxiLiteMaster::post_write(uint32_t addr, uint32_t value, uint32_t strb) {
  const Ticket t = results_.size();
  results_.emplace_back();
  queue_.push_back(Request{t, true, addr, value, strb & 0xF});
  return t;
}

AxiLiteMaster::Ticket AxiLiteMaster::post_read(uint32_t addr) {
  const Ticket t = results_.size();
  results_.emplace_back();
  queue_.push_back(Request{t, false, addr, 0, 0});
  return t;
}

const AxiLiteMaster::Result& AxiLiteMaster::get(Ticket t) const {
  if (t >= results_.size()) throw std::out_of_range("AxiLiteMaster: unknown ticket " + std::to_string(t));
  return results_[t];
}
bool AxiLiteMaster::done(Ticket t) const { return get(t).done; }
uint32_t AxiLiteMaster::result(Ticket t) const { return get(t).data; }
uint32_t AxiLiteMaster::response(Ticket t) const { return get(t).resp; }

uint64_t AxiLiteMaster::run_until_done(Ticket t, uint64_t max_cycles) {
  if (sc_core::sc_get_status() == sc_core::SC_RUNNING)
    throw std::logic_error("AxiLiteMaster::run_until_done: called inside the simulation (use read32/write32)");
  uint64_t cycles = 0;
  while (!done(t)) {
    if (cycles >= max_cycles)
      throw std::runtime_error("AxiLiteMaster: request " + std::to_string(t) + " not done after " +
                               std::to_string(max_cycles) + " cycles");
    sc_core::sc_start(period_);
    ++cycles;
  }
  return cycles;
}

uint32_t AxiLiteMaster::run_read(uint32_t addr, uint32_t* resp, uint64_t max_cycles) {
  const Ticket t = post_read(addr);
  run_until_done(t, max_cycles);
  if (resp) *resp = response(t);
  return result(t);
}

uint32_t AxiLiteMaster::run_write(uint32_t addr, uint32_t value, uint64_t max_cycles) {
  const Ticket t = post_write(addr, value);
  run_until_done(t, max_cycles);
  return response(t);
}

void AxiLiteMaster::wait_done(Ticket t) {
  const sc_core::sc_process_handle self = sc_core::sc_get_current_process_handle();
  switch (self.proc_kind()) {
    case sc_core::SC_CTHREAD_PROC_:  // a clocked thread may only wait for its clock
      while (!done(t)) wait();
      break;
    case sc_core::SC_THREAD_PROC_:
      while (!done(t)) wait(done_event_);
      break;
    default:
      throw std::logic_error("AxiLiteMaster::read32/write32 block: call them from an SC_THREAD or SC_CTHREAD");
  }
}

uint32_t AxiLiteMaster::write32(uint32_t addr, uint32_t value, uint32_t strb) {
  const Ticket t = post_write(addr, value, strb);
  wait_done(t);
  return response(t);
}

uint32_t AxiLiteMaster::read32(uint32_t addr, uint32_t* resp) {
  const Ticket t = post_read(addr);
  wait_done(t);
  if (resp) *resp = response(t);
  return result(t);
}

void AxiLiteMaster::drive_idle() {
  axil.awvalid.write(false);
  axil.wvalid.write(false);
  axil.bready.write(false);
  axil.arvalid.write(false);
  axil.rready.write(false);
}

void AxiLiteMaster::finish(const Request& r, uint32_t data, uint32_t resp) {
  Result& res = results_[r.ticket];
  res.data = data;
  res.resp = resp;
  res.done = true;
  queue_.pop_front();
  done_event_.notify(sc_core::SC_ZERO_TIME);
}

// In the loops below, after wait() the inputs hold the values sampled at this edge and our own
// outputs (read back) still hold what this edge saw: VALID && READY read now = a handshake now.
void AxiLiteMaster::do_write(const Request& r) {
  axil.awaddr.write(r.addr);
  axil.wdata.write(r.data);
  axil.wstrb.write(r.strb);
  bool aw_left = true, w_left = true;
  axil.awvalid.write(order_ != WriteOrder::DataFirst);
  axil.wvalid.write(order_ != WriteOrder::AddressFirst);
  axil.bready.write(true);
  for (;;) {
    wait();
    if (axil.awvalid.read() && axil.awready.read()) {
      aw_left = false;
      axil.awvalid.write(false);
      if (w_left && !axil.wvalid.read()) axil.wvalid.write(true);  // AddressFirst: now W
    }
    if (axil.wvalid.read() && axil.wready.read()) {
      w_left = false;
      axil.wvalid.write(false);
      if (aw_left && !axil.awvalid.read()) axil.awvalid.write(true);  // DataFirst: now AW
    }
    if (axil.bvalid.read() && axil.bready.read()) {
      axil.bready.write(false);
      finish(r, 0, axil.bresp.read());
      return;
    }
  }
}

void AxiLiteMaster::do_read(const Request& r) {
  axil.araddr.write(r.addr);
  axil.arvalid.write(true);
  axil.rready.write(true);
  for (;;) {
    wait();
    if (axil.arvalid.read() && axil.arready.read()) axil.arvalid.write(false);
    if (axil.rvalid.read() && axil.rready.read()) {
      axil.rready.write(false);
      finish(r, axil.rdata.read(), axil.rresp.read());
      return;
    }
  }
}

void AxiLiteMaster::thread() {
  drive_idle();  // reset
  wait();
  for (;;) {
    if (queue_.empty()) {
      wait();
      continue;
    }
    const Request r = queue_.front();
    if (r.write) do_write(r);
    else do_read(r);
  }
}

}  // namespace xtu::sim
