// TlmToAxiLite and AxiToTlm: see tlm_bridge.hpp.
#include "xtu/model/tlm_bridge.hpp"

#include <algorithm>
#include <utility>

namespace xtu::model {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using sc_core::wait;

// ---------------------------------------------------------------------------------------------
// TlmToAxiLite

TlmToAxiLite::TlmToAxiLite(const sc_core::sc_module_name& name, uint32_t map_size, bool sync)
    : sc_module(name), clk_i("clk_i"), rst_ni("rst_ni"), m_axil("m_axil"), map_size_(map_size), sync_(sync) {
  SC_CTHREAD(thread, clk_i.pos());
  reset_signal_is(rst_ni, false);
}

void TlmToAxiLite::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const tlm::tlm_command cmd = t.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) {
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  const uint64_t addr = t.get_address();
  unsigned char* data = t.get_data_ptr();
  unsigned char* be = t.get_byte_enable_ptr();
  const unsigned be_len = t.get_byte_enable_length();
  tlm::tlm_response_status refuse = tlm::TLM_OK_RESPONSE;
  if (addr % 4 != 0 || addr >= map_size_) refuse = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  else if (t.get_data_length() != 4 || t.get_streaming_width() < 4) refuse = tlm::TLM_BURST_ERROR_RESPONSE;
  else if (be && be_len == 0) refuse = tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  else if (!data) refuse = tlm::TLM_GENERIC_ERROR_RESPONSE;
  if (refuse != tlm::TLM_OK_RESPONSE) {
    ++stats_.refused;
    t.set_response_status(refuse);
    return;
  }
  auto enabled = [&](unsigned i) { return !be || be[i % be_len] == TLM_BYTE_ENABLED; };

  Request r;
  r.write = cmd == tlm::TLM_WRITE_COMMAND;
  r.addr = static_cast<uint32_t>(addr);
  r.strb = 0;
  for (unsigned i = 0; i < 4; ++i) {
    if (r.write) r.data |= uint32_t(data[i]) << (8 * i);
    if (enabled(i)) r.strb |= 1u << i;
  }
  if (sync_ && delay != SC_ZERO_TIME) {  // the access happens at the initiator's local time
    wait(delay);
    delay = SC_ZERO_TIME;
  }
  queue_.push_back(&r);
  while (!r.done) wait(done_event_);

  ++(r.write ? stats_.writes : stats_.reads);
  if (!r.write)
    for (unsigned i = 0; i < 4; ++i)
      if (enabled(i)) data[i] = static_cast<unsigned char>(r.rdata >> (8 * i));
  if (r.resp == kAxiRespOkay) {
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  } else {
    ++stats_.errors;
    t.set_response_status(r.resp == kAxiRespDecerr ? tlm::TLM_ADDRESS_ERROR_RESPONSE
                                                   : tlm::TLM_GENERIC_ERROR_RESPONSE);
  }
  t.set_dmi_allowed(false);
}

void TlmToAxiLite::drive_idle() {
  m_axil.awvalid.write(false);
  m_axil.wvalid.write(false);
  m_axil.bready.write(false);
  m_axil.arvalid.write(false);
  m_axil.rready.write(false);
}

// One request at a time, in order; AW and W together. After wait() the inputs hold the values
// sampled at this edge and our outputs what this edge saw: VALID && READY = a handshake now. A
// request interrupted by reset stays queued and is issued again afterwards.
void TlmToAxiLite::thread() {
  drive_idle();
  wait();
  for (;;) {
    if (queue_.empty()) {
      wait();
      continue;
    }
    Request& r = *queue_.front();
    if (r.write) {
      m_axil.awaddr.write(r.addr);
      m_axil.wdata.write(r.data);
      m_axil.wstrb.write(r.strb);
      m_axil.awvalid.write(true);
      m_axil.wvalid.write(true);
      m_axil.bready.write(true);
      for (;;) {
        wait();
        if (m_axil.awvalid.read() && m_axil.awready.read()) m_axil.awvalid.write(false);
        if (m_axil.wvalid.read() && m_axil.wready.read()) m_axil.wvalid.write(false);
        if (m_axil.bvalid.read() && m_axil.bready.read()) {
          m_axil.bready.write(false);
          r.resp = m_axil.bresp.read();
          break;
        }
      }
    } else {
      m_axil.araddr.write(r.addr);
      m_axil.arvalid.write(true);
      m_axil.rready.write(true);
      for (;;) {
        wait();
        if (m_axil.arvalid.read() && m_axil.arready.read()) m_axil.arvalid.write(false);
        if (m_axil.rvalid.read() && m_axil.rready.read()) {
          m_axil.rready.write(false);
          r.rdata = m_axil.rdata.read();
          r.resp = m_axil.rresp.read();
          break;
        }
      }
    }
    r.done = true;
    queue_.pop_front();
    done_event_.notify(SC_ZERO_TIME);
  }
}

// ---------------------------------------------------------------------------------------------
// AxiToTlm

AxiToTlm::AxiToTlm(const sc_core::sc_module_name& name, Transport transport, unsigned max_outstanding)
    : sc_module(name),
      clk_i("clk_i"),
      rst_ni("rst_ni"),
      s_axi("s_axi"),
      transport_(std::move(transport)),
      max_outstanding_(std::max(1u, max_outstanding)) {
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
  SC_THREAD(read_worker);
  SC_THREAD(write_worker);
}

AxiToTlm::BurstPtr AxiToTlm::make_burst(bool write, uint32_t id, uint64_t addr, uint32_t len, uint32_t size,
                                        uint32_t burst) {
  auto b = std::make_shared<Burst>();
  b->write = write;
  b->id = id;
  b->addr = b->start = addr;
  b->beats = (len & 0xFF) + 1;
  b->size = size;
  b->rejected = size > 3 || burst != kAxiBurstIncr;
  if (b->rejected) {
    ++stats_.unsupported;
    b->resp = kAxiRespSlverr;
    return b;
  }
  const uint64_t nb = uint64_t{1} << size;
  const uint64_t end = (addr & ~(nb - 1)) + b->beats * nb;
  b->data.assign(end - addr, 0);
  if (write) b->be.assign(end - addr, TLM_BYTE_ENABLED);
  return b;
}

void AxiToTlm::beat_range(const Burst& b, uint32_t k, uint64_t& lo, uint64_t& hi) const {
  const uint64_t nb = uint64_t{1} << b.size;
  const uint64_t aligned = b.addr & ~(nb - 1);
  lo = std::max(b.addr, aligned + k * nb);
  hi = aligned + (k + 1) * nb;
}

void AxiToTlm::reset_state() {
  reads_.clear();
  writes_.clear();
  read_work_.clear();  // a call in progress finishes on its own (the worker holds the burst)
  write_work_.clear();
  r_valid_ = b_valid_ = false;
}

void AxiToTlm::transport(Burst& b) {
  tlm::tlm_generic_payload p;
  p.set_command(b.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(b.start);
  p.set_data_ptr(b.data.data());
  p.set_data_length(static_cast<unsigned>(b.data.size()));
  p.set_streaming_width(static_cast<unsigned>(b.data.size()));
  if (b.write && b.partial) {
    p.set_byte_enable_ptr(b.be.data());
    p.set_byte_enable_length(static_cast<unsigned>(b.be.size()));
  }
  p.set_dmi_allowed(false);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time d = SC_ZERO_TIME;
  transport_(p, d);
  b.ready = sc_core::sc_time_stamp() + d;
  const bool ok = p.is_response_ok();
  b.resp = ok ? kAxiRespOkay : kAxiRespSlverr;
  b.transported = true;
  if (b.write) {
    ++stats_.writes;
    stats_.write_bytes += b.data.size();
    if (!ok) ++stats_.write_errors;
  } else {
    ++stats_.reads;
    stats_.read_bytes += b.data.size();
    if (!ok) ++stats_.read_errors;
  }
}

void AxiToTlm::read_worker() {
  for (;;) {
    while (read_work_.empty()) wait(read_work_event_);
    BurstPtr b = read_work_.front();
    read_work_.pop_front();
    transport(*b);
  }
}

void AxiToTlm::write_worker() {
  for (;;) {
    while (write_work_.empty()) wait(write_work_event_);
    BurstPtr b = write_work_.front();
    write_work_.pop_front();
    transport(*b);
  }
}

void AxiToTlm::seq() {
  if (!rst_ni.read()) {
    reset_state();
    s_axi.arready.write(false);
    s_axi.awready.write(false);
    s_axi.wready.write(false);
    s_axi.rvalid.write(false);
    s_axi.bvalid.write(false);
    return;
  }
  const sc_time now = sc_core::sc_time_stamp();

  // Handshakes at this edge (our outputs still hold what this edge saw).
  if (r_valid_ && s_axi.rready.read()) {
    r_valid_ = false;
    if (++reads_.front()->moved == reads_.front()->beats) reads_.pop_front();
  }
  if (b_valid_ && s_axi.bready.read()) {
    b_valid_ = false;
    writes_.pop_front();
  }
  if (s_axi.wready.read() && s_axi.wvalid.read()) {
    auto it = std::find_if(writes_.begin(), writes_.end(), [](const BurstPtr& p) { return !p->data_done; });
    if (it != writes_.end()) {  // (always: WREADY is only high for an accepted burst)
      Burst& b = **it;
      if (!b.rejected) {
        uint64_t lo, hi;
        beat_range(b, b.moved, lo, hi);
        const uint64_t d = s_axi.wdata.read();
        const uint32_t strb = s_axi.wstrb.read();
        for (uint64_t a = lo; a < hi; ++a) {
          const unsigned lane = a % 8;
          b.data[a - b.start] = static_cast<uint8_t>(d >> (8 * lane));
          const bool on = (strb >> lane) & 1;
          b.be[a - b.start] = on ? TLM_BYTE_ENABLED : TLM_BYTE_DISABLED;
          if (!on) b.partial = true;
        }
      }
      const bool last = ++b.moved == b.beats;
      if (s_axi.wlast.read() != last) ++stats_.protocol;
      if (last) {
        b.data_done = true;
        b.t0 = b.ready = now;  // the response follows the last W beat
        if (b.rejected) {
          b.transported = true;
        } else {
          write_work_.push_back(*it);
          write_work_event_.notify();
        }
      }
    }
  }
  if (s_axi.arready.read() && s_axi.arvalid.read()) {
    BurstPtr b = make_burst(false, s_axi.arid.read(), s_axi.araddr.read(), s_axi.arlen.read(), s_axi.arsize.read(),
                            s_axi.arburst.read());
    b->t0 = b->ready = now;
    if (b->rejected) {
      b->transported = true;
    } else {
      read_work_.push_back(b);
      read_work_event_.notify();
    }
    reads_.push_back(std::move(b));
    stats_.max_outstanding_reads = std::max<uint32_t>(stats_.max_outstanding_reads, uint32_t(reads_.size()));
  }
  if (s_axi.awready.read() && s_axi.awvalid.read()) {
    writes_.push_back(make_burst(true, s_axi.awid.read(), s_axi.awaddr.read(), s_axi.awlen.read(),
                                 s_axi.awsize.read(), s_axi.awburst.read()));
    stats_.max_outstanding_writes = std::max<uint32_t>(stats_.max_outstanding_writes, uint32_t(writes_.size()));
  }

  // Outputs for the next edge. A response goes out at the first edge at or after `ready`, and
  // after the edge that started it (its handshake or last W beat): a VALID, once up, holds.
  if (!r_valid_ && !reads_.empty()) {
    const Burst& b = *reads_.front();
    if (b.transported && b.ready <= now && b.t0 < now) {
      uint64_t d = 0;
      if (!b.rejected) {
        uint64_t lo, hi;
        beat_range(b, b.moved, lo, hi);
        for (uint64_t a = lo; a < hi; ++a) d |= uint64_t(b.data[a - b.start]) << (8 * (a % 8));
      }
      s_axi.rid.write(b.id);
      s_axi.rdata.write(d);
      s_axi.rresp.write(b.resp);
      s_axi.rlast.write(b.moved + 1 == b.beats);
      r_valid_ = true;
    }
  }
  if (!b_valid_ && !writes_.empty()) {
    const Burst& b = *writes_.front();
    if (b.data_done && b.transported && b.ready <= now && b.t0 < now) {
      s_axi.bid.write(b.id);
      s_axi.bresp.write(b.resp);
      b_valid_ = true;
    }
  }
  s_axi.rvalid.write(r_valid_);
  s_axi.bvalid.write(b_valid_);
  s_axi.arready.write(reads_.size() < max_outstanding_);
  s_axi.awready.write(writes_.size() < max_outstanding_);
  s_axi.wready.write(std::any_of(writes_.begin(), writes_.end(), [](const BurstPtr& p) { return !p->data_done; }));
}

}  // namespace xtu::model
