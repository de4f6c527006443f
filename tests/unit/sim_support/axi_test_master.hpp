// AxiTestMaster: an AXI4 traffic generator for the memory model's tests (tests only).
//
// Bursts posted with post() are issued in order per direction (AR in post order for reads, AW in
// post order for writes) with up to max_outstanding of each in flight; W data follows the AWs in
// order, its beats offered from the moment the burst's AW is on the bus. Responses are matched
// per ID to the oldest burst in flight with that ID (the AXI ordering rule), so a slave that
// broke the per-ID order would show up as wrong data. Every handshake is time-stamped with the
// edge number (this module's own count of rising edges, from 0).
//
// Optional random stalls (RREADY/BREADY low, WVALID delayed) with a seed. Registered outputs.
// `errors` collects what the slave got wrong: responses with no burst in flight for their ID,
// RLAST on the wrong beat, B before the last W, R or B dropped or changed before the handshake.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "xtu/model/axi.hpp"

namespace xtu::test {

struct Burst {
  bool write = false;
  uint32_t id = 0;
  uint64_t addr = 0;
  uint32_t len = 0;     // beats - 1
  uint32_t size = 3;    // log2 bytes per beat
  uint32_t burst = xtu::model::kAxiBurstIncr;
  std::vector<uint64_t> wdata;  // writes: one word per beat, bytes on their lanes
  std::vector<uint32_t> wstrb;  // writes: per beat (empty: 0xFF)
  int wlast_beat = -1;          // writes: the beat WLAST goes with (-1: the last one, correctly)

  // Results.
  bool done = false;
  uint64_t t_addr = UINT64_MAX;   // AR/AW handshake edge
  std::vector<uint64_t> t_beats;  // R/W handshake edges
  uint64_t t_resp = UINT64_MAX;   // B handshake edge (writes); last R beat (reads)
  std::vector<uint64_t> rdata;
  std::vector<uint32_t> rresp;
  uint32_t bresp = 0;
};

class AxiTestMaster : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  xtu::model::AxiMasterPorts m;

  uint32_t max_outstanding = 16;   // per direction
  double stall_probability = 0.0;  // RREADY/BREADY drops, WVALID delays
  std::vector<std::string> errors; // protocol problems seen on the responses

  SC_HAS_PROCESS(AxiTestMaster);
  explicit AxiTestMaster(const sc_core::sc_module_name& name, uint64_t seed = 1)
      : sc_module(name), clk_i("clk_i"), rst_ni("rst_ni"), m("m"), rng_(seed) {
    SC_METHOD(on_clock);
    sensitive << clk_i.pos();
    dont_initialize();
  }

  size_t post(Burst b) {
    bursts_.push_back(std::move(b));
    const size_t i = bursts_.size() - 1;
    (bursts_[i].write ? aw_queue_ : ar_queue_).push_back(i);
    return i;
  }
  const Burst& burst(size_t i) const { return bursts_[i]; }
  size_t count() const { return bursts_.size(); }
  bool all_done() const {
    for (const auto& b : bursts_)
      if (!b.done) return false;
    return true;
  }
  uint64_t cycle() const { return cycle_; }
  // Order in which bursts completed (indices).
  const std::vector<size_t>& completion_order() const { return completed_; }

private:
  bool stall() { return stall_probability > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < stall_probability; }

  void on_clock() {
    const uint64_t now = cycle_++;
    if (!rst_ni.read()) {
      r_pending_ = b_pending_ = false;
      m.arvalid.write(false);
      m.awvalid.write(false);
      m.wvalid.write(false);
      m.rready.write(false);
      m.bready.write(false);
      return;
    }
    const bool ar_hs = m.arvalid.read() && m.arready.read();
    const bool aw_hs = m.awvalid.read() && m.awready.read();
    const bool w_hs = m.wvalid.read() && m.wready.read();
    const bool r_hs = m.rvalid.read() && m.rready.read();
    const bool b_hs = m.bvalid.read() && m.bready.read();

    // The slave's VALIDs must hold, with their payload, until the handshake.
    const std::vector<uint64_t> r_now = {m.rid.read(), m.rdata.read(), m.rresp.read(), m.rlast.read()};
    const std::vector<uint64_t> b_now = {m.bid.read(), m.bresp.read()};
    if (r_pending_ && (!m.rvalid.read() || r_now != r_payload_)) errors.push_back("R changed before its handshake");
    if (b_pending_ && (!m.bvalid.read() || b_now != b_payload_)) errors.push_back("B changed before its handshake");
    r_pending_ = m.rvalid.read() && !r_hs;
    b_pending_ = m.bvalid.read() && !b_hs;
    r_payload_ = r_now;
    b_payload_ = b_now;

    if (ar_hs) {
      const size_t i = ar_queue_.front();
      ar_queue_.pop_front();
      bursts_[i].t_addr = now;
      rd_inflight_[bursts_[i].id].push_back(i);
      ++rd_outstanding_;
    }
    if (aw_hs) {
      const size_t i = aw_queue_.front();
      aw_queue_.pop_front();
      bursts_[i].t_addr = now;
      wr_inflight_[bursts_[i].id].push_back(i);
      ++wr_outstanding_;
    }
    if (r_hs) {
      auto& q = rd_inflight_[m.rid.read()];
      if (q.empty()) {
        errors.push_back("R beat with ID " + std::to_string(m.rid.read()) + " and no read in flight");
      } else {
        Burst& b = bursts_[q.front()];
        b.rdata.push_back(m.rdata.read());
        b.rresp.push_back(m.rresp.read());
        b.t_beats.push_back(now);
        const bool last = b.rdata.size() == b.len + 1;
        if (m.rlast.read() != last) errors.push_back("RLAST wrong at beat " + std::to_string(b.rdata.size() - 1));
        if (last) {
          b.done = true;
          b.t_resp = now;
          completed_.push_back(q.front());
          q.pop_front();
          --rd_outstanding_;
        }
      }
    }
    if (w_hs) {
      Burst& b = bursts_[w_order_.front()];
      b.t_beats.push_back(now);
      if (++w_beat_ == b.len + 1) {
        w_order_.pop_front();
        w_beat_ = 0;
      }
    }
    if (b_hs) {
      auto& q = wr_inflight_[m.bid.read()];
      if (q.empty()) {
        errors.push_back("B with ID " + std::to_string(m.bid.read()) + " and no write in flight");
      } else {
        Burst& b = bursts_[q.front()];
        if (b.t_beats.size() != b.len + 1) errors.push_back("B before the last W beat");
        b.bresp = m.bresp.read();
        b.t_resp = now;
        b.done = true;
        completed_.push_back(q.front());
        q.pop_front();
        --wr_outstanding_;
      }
    }

    // Outputs for the next edge. A VALID stays up with its payload until its handshake.
    if (!(m.arvalid.read() && !ar_hs)) {
      const bool go = !ar_queue_.empty() && rd_outstanding_ < max_outstanding;
      if (go) {
        const Burst& b = bursts_[ar_queue_.front()];
        m.arid.write(b.id);
        m.araddr.write(b.addr);
        m.arlen.write(b.len);
        m.arsize.write(b.size);
        m.arburst.write(b.burst);
      }
      m.arvalid.write(go);
    }
    if (!(m.awvalid.read() && !aw_hs)) {
      const bool go = !aw_queue_.empty() && wr_outstanding_ < max_outstanding;
      if (go) {
        const size_t i = aw_queue_.front();
        const Burst& b = bursts_[i];
        m.awid.write(b.id);
        m.awaddr.write(b.addr);
        m.awlen.write(b.len);
        m.awsize.write(b.size);
        m.awburst.write(b.burst);
        w_order_.push_back(i);  // its W data may go from now on
      }
      m.awvalid.write(go);
    }
    if (!(m.wvalid.read() && !w_hs)) {
      const bool go = !w_order_.empty() && !stall();
      if (go) {
        const Burst& b = bursts_[w_order_.front()];
        m.wdata.write(b.wdata.at(w_beat_));
        m.wstrb.write(b.wstrb.empty() ? 0xFF : b.wstrb.at(w_beat_));
        m.wlast.write(b.wlast_beat < 0 ? w_beat_ == b.len : w_beat_ == static_cast<uint32_t>(b.wlast_beat));
      }
      m.wvalid.write(go);
    }
    m.rready.write(!stall());
    m.bready.write(!stall());
  }

  std::vector<Burst> bursts_;
  std::deque<size_t> ar_queue_, aw_queue_, w_order_;
  std::map<uint32_t, std::deque<size_t>> rd_inflight_, wr_inflight_;
  uint32_t rd_outstanding_ = 0, wr_outstanding_ = 0;
  uint32_t w_beat_ = 0;
  bool r_pending_ = false, b_pending_ = false;
  std::vector<uint64_t> r_payload_, b_payload_;
  std::vector<size_t> completed_;
  uint64_t cycle_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace xtu::test
