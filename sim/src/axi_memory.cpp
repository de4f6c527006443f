// AxiMemory: see axi_memory.hpp for the protocol, the windows and the exact timing.
#include "xtu/sim/axi_memory.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace xtu::sim {

using model::kAxiBurstIncr;
using model::kAxiRespOkay;
using model::kAxiRespSlverr;

namespace {

// The bytes beat k of an INCR burst addresses (AXI4 spec, A3.4.1): the first beat runs from the
// (possibly unaligned) start address to the end of its 2^size container, later beats are whole
// aligned containers. With size <= 3 a beat never straddles two 8-byte bus words.
struct BeatSpan {
  uint64_t addr;
  uint64_t bytes;
};

BeatSpan beat_span(uint64_t addr, uint32_t size, uint32_t k) {
  const uint64_t nb = uint64_t{1} << size;
  const uint64_t aligned = addr & ~(nb - 1);
  if (k == 0) return {addr, aligned + nb - addr};
  return {aligned + uint64_t{k} * nb, nb};
}

// Byte lanes (bit i = lane i of the 64-bit bus) a beat uses.
uint32_t lane_mask(const BeatSpan& s) {
  uint32_t m = 0;
  for (uint64_t i = 0; i < s.bytes; ++i) m |= 1u << ((s.addr + i) % 8);
  return m;
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

}  // namespace

std::string Violation::to_string() const {
  std::ostringstream os;
  os << (write ? "write" : "read") << " of " << bytes << " byte(s) at " << hex(addr) << " (AXI ID " << id
     << ", cycle " << cycle << ") refused or flagged: " << why;
  return os.str();
}

AxiMemory::AxiMemory(const sc_core::sc_module_name& name, const MemoryTiming& timing)
    : sc_module(name), clk_i("clk_i"), rst_ni("rst_ni"), axi("axi") {
  set_timing(timing);
  SC_METHOD(on_clock);
  sensitive << clk_i.pos();
  dont_initialize();
}

void AxiMemory::set_timing(const MemoryTiming& t) {
  if (t.read_latency < 1 || t.write_latency < 1)
    throw std::invalid_argument("AxiMemory: read_latency and write_latency must be >= 1 (registered outputs)");
  if (t.beat_interval < 1) throw std::invalid_argument("AxiMemory: beat_interval must be >= 1");
  if (t.max_outstanding < 1) throw std::invalid_argument("AxiMemory: max_outstanding must be >= 1");
  if (!(t.stall_probability >= 0.0 && t.stall_probability < 1.0))
    throw std::invalid_argument("AxiMemory: stall_probability must be in [0, 1)");
  timing_ = t;
  rng_.seed(t.seed);
}

void AxiMemory::allow(uint64_t base, uint64_t size, const std::string& name, bool read, bool write) {
  windows_.push_back(Window{base, size, name, read, write});
}

// ---------------------------------------------------------------------------------------------
// Checks and violations

AxiMemory::Access AxiMemory::check(uint64_t addr, uint64_t n, bool write) const {
  WindowCheck c = check_windows(windows_, addr, n, write);
  Access a;
  a.ok = c.ok;
  a.kind = c.kind;
  a.addr = c.addr;
  a.name = std::move(c.name);
  a.why = std::move(c.why);
  return a;
}

void AxiMemory::record(Violation v, size_t* merge) {
  if (merge && *merge < violations_.size()) {
    Violation& p = violations_[*merge];
    if (p.kind == v.kind && p.write == v.write && p.id == v.id && p.name == v.name && p.addr + p.bytes == v.addr) {
      p.bytes += v.bytes;
      return;
    }
  }
  violations_.push_back(std::move(v));
  if (merge) *merge = violations_.size() - 1;
  if (fail_on_violation_) SC_REPORT_ERROR(kMsgType, violations_.back().to_string().c_str());
}

// Burst-level checks at the AR/AW handshake; true = the burst is refused as a whole.
bool AxiMemory::check_burst(uint64_t now, bool write, uint32_t id, uint64_t addr, uint32_t len, uint32_t size,
                            uint32_t burst) {
  const char* ax = write ? "AW" : "AR";
  const uint64_t beats = (len & 0xFF) + 1;
  Violation v;
  v.write = write;
  v.id = id;
  v.addr = addr;
  v.cycle = now;
  if (len > 255) {
    v.kind = ViolationKind::Protocol;
    v.why = std::string(ax) + "LEN " + std::to_string(len) + " > 255 (only its low 8 bits are used)";
    record(v);
  }
  if (size > 3) {
    v.kind = ViolationKind::Unsupported;
    v.bytes = beats << std::min<uint32_t>(size, 7);
    v.why = std::string(ax) + "SIZE " + std::to_string(size) + " is wider than the 64-bit bus";
    record(v);
    return true;
  }
  if (burst != kAxiBurstIncr) {
    v.kind = ViolationKind::Unsupported;
    v.bytes = beats << size;
    v.why = std::string(ax) + "BURST " + std::to_string(burst) + " not supported (INCR only)";
    record(v);
    return true;
  }
  const uint64_t nb = uint64_t{1} << size;
  const uint64_t last = (addr & ~(nb - 1)) + beats * nb - 1;
  if ((addr >> 12) != (last >> 12)) {
    v.kind = ViolationKind::Cross4K;
    v.bytes = last - addr + 1;
    v.why = "burst crosses a 4 KiB boundary (AXI protocol)";
    record(v);
  }
  return false;
}

bool AxiMemory::roll_stall() {
  if (timing_.stall_probability <= 0.0) return false;
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < timing_.stall_probability;
}

// ---------------------------------------------------------------------------------------------
// Clocked behaviour

void AxiMemory::reset_state() {
  reads_.clear();
  writes_.clear();
  r_in_burst_ = false;
  r_slot_ = w_slot_ = 0;
  prefer_w_ = false;
  axi.arready.write(false);
  axi.awready.write(false);
  axi.wready.write(false);
  axi.rvalid.write(false);
  axi.rlast.write(false);
  axi.bvalid.write(false);
}

void AxiMemory::accept_read(uint64_t now) {
  ReadBurst rb;
  rb.seq = seq_++;
  rb.id = axi.arid.read();
  rb.addr = axi.araddr.read();
  const uint32_t len = axi.arlen.read();
  rb.size = axi.arsize.read();
  rb.beats = (len & 0xFF) + 1;
  rb.ready_cycle = now + timing_.read_latency;
  ++stats_.read_transactions;
  reads_.push_back(rb);
  stats_.max_outstanding_reads = std::max<uint32_t>(stats_.max_outstanding_reads, reads_.size());
  reads_.back().rejected = check_burst(now, false, rb.id, rb.addr, len, rb.size, axi.arburst.read());
}

void AxiMemory::accept_write(uint64_t now) {
  WriteBurst wb;
  wb.seq = seq_++;
  wb.id = axi.awid.read();
  wb.addr = axi.awaddr.read();
  const uint32_t len = axi.awlen.read();
  wb.size = axi.awsize.read();
  wb.beats = (len & 0xFF) + 1;
  ++stats_.write_transactions;
  writes_.push_back(wb);
  stats_.max_outstanding_writes = std::max<uint32_t>(stats_.max_outstanding_writes, writes_.size());
  writes_.back().rejected = check_burst(now, true, wb.id, wb.addr, len, wb.size, axi.awburst.read());
}

void AxiMemory::take_w_beat(uint64_t now) {
  // W beats fill the accepted AW bursts in order.
  const auto it = std::find_if(writes_.begin(), writes_.end(), [](const WriteBurst& w) { return !w.data_done; });
  if (it == writes_.end()) return;  // cannot happen: WREADY is only raised for a pending burst
  WriteBurst& wb = *it;
  ++stats_.write_beats;
  const uint64_t data = axi.wdata.read();
  const uint32_t strb = axi.wstrb.read();
  const bool last = wb.received + 1 == wb.beats;
  if (wb.rejected) {
    wb.error = true;
    ++stats_.refused_beats;
  } else {
    const BeatSpan s = beat_span(wb.addr, wb.size, wb.received);
    const uint32_t lanes = lane_mask(s);
    if (strb & ~lanes) {
      Violation v{ViolationKind::Protocol, s.addr, s.bytes, true, wb.id, "",
                  "WSTRB " + hex(strb) + " selects lanes outside the beat's bytes (lanes " + hex(lanes) + ")", now};
      record(v);
    }
    const Access a = check(s.addr, s.bytes, true);
    if (!a.ok) {
      wb.error = true;
      ++stats_.refused_beats;
      record(Violation{a.kind, s.addr, s.bytes, true, wb.id, a.name, a.why, now}, &wb.merge);
    } else {
      for (uint64_t i = 0; i < s.bytes; ++i) {
        const uint64_t b = s.addr + i;
        const unsigned lane = b % 8;
        if ((strb >> lane) & 1) store_.set_byte(b, static_cast<uint8_t>(data >> (8 * lane)));
      }
    }
  }
  if (axi.wlast.read() != last) {
    Violation v{ViolationKind::Protocol, wb.addr, 0, true, wb.id, "",
                last ? "WLAST low on the burst's last beat"
                     : "WLAST high on beat " + std::to_string(wb.received) + " of " + std::to_string(wb.beats),
                now};
    record(v);
  }
  ++wb.received;
  if (last) {
    wb.data_done = true;
    wb.b_cycle = now + timing_.write_latency;
  }
}

void AxiMemory::finish_r_beat(uint64_t now) {
  const auto it = std::find_if(reads_.begin(), reads_.end(), [&](const ReadBurst& r) { return r.seq == r_out_.seq; });
  if (it == reads_.end()) return;  // cannot happen
  ++stats_.read_beats;
  if (r_out_.refused) {
    ++stats_.refused_beats;
    if (!it->rejected)  // (a rejected burst was recorded once, at AR)
      record(Violation{r_out_.kind, r_out_.addr, r_out_.bytes, false, it->id, r_out_.name, r_out_.why, now},
             &it->merge);
  }
  if (++it->done == it->beats) {
    reads_.erase(it);
    r_in_burst_ = false;
  } else {
    r_in_burst_ = true;
    r_burst_seq_ = it->seq;
  }
}

AxiMemory::ReadBurst* AxiMemory::pick_read(uint64_t t) {
  if (reads_.empty()) return nullptr;
  if (timing_.id_order == IdOrder::InOrder) {
    ReadBurst& f = reads_.front();
    return f.ready_cycle <= t ? &f : nullptr;
  }
  if (timing_.id_order == IdOrder::Reorder && r_in_burst_) {
    for (auto& r : reads_)
      if (r.seq == r_burst_seq_) return &r;
  }
  // The oldest burst of each ID is eligible (in order per ID); pick one at random.
  std::vector<ReadBurst*> heads;
  std::vector<uint32_t> seen;
  for (auto& r : reads_) {
    if (std::find(seen.begin(), seen.end(), r.id) != seen.end()) continue;
    seen.push_back(r.id);
    if (r.ready_cycle <= t) heads.push_back(&r);
  }
  if (heads.empty()) return nullptr;
  return heads[heads.size() == 1 ? 0 : rng_() % heads.size()];
}

AxiMemory::WriteBurst* AxiMemory::pick_b(uint64_t t) {
  if (writes_.empty()) return nullptr;
  auto ready = [t](const WriteBurst& w) { return w.data_done && w.b_cycle <= t; };
  if (timing_.id_order == IdOrder::InOrder) return ready(writes_.front()) ? &writes_.front() : nullptr;
  std::vector<WriteBurst*> heads;
  std::vector<uint32_t> seen;
  for (auto& w : writes_) {
    if (std::find(seen.begin(), seen.end(), w.id) != seen.end()) continue;
    seen.push_back(w.id);
    if (ready(w)) heads.push_back(&w);
  }
  if (heads.empty()) return nullptr;
  return heads[heads.size() == 1 ? 0 : rng_() % heads.size()];
}

void AxiMemory::present_r_beat(ReadBurst& rb) {
  const BeatSpan s = beat_span(rb.addr, rb.size, rb.done);
  r_out_ = RBeat{};
  r_out_.seq = rb.seq;
  r_out_.addr = s.addr;
  r_out_.bytes = s.bytes;
  uint64_t data = 0;
  if (rb.rejected) {
    r_out_.refused = true;
  } else if (const Access a = check(s.addr, s.bytes, false); !a.ok) {
    r_out_.refused = true;
    r_out_.kind = a.kind;
    r_out_.name = a.name;
    r_out_.why = a.why;
  } else {
    for (uint64_t i = 0; i < s.bytes; ++i) {
      const uint64_t b = s.addr + i;
      data |= uint64_t{store_.byte_at(b)} << (8 * (b % 8));
    }
  }
  axi.rid.write(rb.id);
  axi.rdata.write(data);
  axi.rresp.write(r_out_.refused ? kAxiRespSlverr : kAxiRespOkay);
  axi.rlast.write(rb.done + 1 == rb.beats);
  axi.rvalid.write(true);
}

void AxiMemory::on_clock() {
  const uint64_t now = cycle_++;
  if (!rst_ni.read()) {
    reset_state();
    return;
  }

  // 1. What moved at this edge (our outputs still hold the values this edge sampled).
  const bool ar_hs = axi.arvalid.read() && axi.arready.read();
  const bool aw_hs = axi.awvalid.read() && axi.awready.read();
  const bool w_hs = axi.wvalid.read() && axi.wready.read();
  const bool r_hs = axi.rvalid.read() && axi.rready.read();
  const bool b_hs = axi.bvalid.read() && axi.bready.read();

  if (r_hs) finish_r_beat(now);
  if (b_hs) {
    const auto it =
        std::find_if(writes_.begin(), writes_.end(), [&](const WriteBurst& w) { return w.seq == b_out_seq_; });
    if (it != writes_.end()) writes_.erase(it);
  }
  if (w_hs) take_w_beat(now);  // (before AW: a W beat belongs to a burst accepted earlier)
  if (ar_hs) accept_read(now);
  if (aw_hs) accept_write(now);

  // Bandwidth: each beat moves its data path's next free slot.
  const uint64_t interval = timing_.beat_interval;
  auto advance = [&](uint64_t& slot) { slot = std::max(slot, now) + interval; };
  if (r_hs) advance(r_slot_);
  if (w_hs) advance(timing_.shared_bandwidth ? r_slot_ : w_slot_);

  if (!idle()) ++stats_.busy_cycles;

  // 2. Outputs for the next edge t.
  const uint64_t t = now + 1;
  axi.arready.write(reads_.size() < timing_.max_outstanding && !roll_stall());
  axi.awready.write(writes_.size() < timing_.max_outstanding && !roll_stall());

  // An R beat on the bus stays there until taken (AXI: VALID and the payload hold).
  const bool r_held = axi.rvalid.read() && !r_hs;
  ReadBurst* r_next = r_held ? nullptr : pick_read(t);
  const bool w_pending =
      std::any_of(writes_.begin(), writes_.end(), [](const WriteBurst& w) { return !w.data_done; });
  bool offer_r = false, offer_w = false;
  if (timing_.shared_bandwidth) {
    const bool slot = t >= r_slot_;
    const bool r_wants = r_next && slot;
    const bool w_wants = w_pending && slot;
    // A W beat is certain at t if WVALID is high now and did not move now (VALID must hold);
    // only then is the slot contested. An uncertain W only gets WREADY when R does not want it.
    const bool w_sure = w_wants && axi.wvalid.read() && !w_hs;
    if (r_wants && w_sure) {
      (prefer_w_ ? offer_w : offer_r) = true;
      prefer_w_ = !prefer_w_;
    } else if (r_wants) {
      offer_r = true;
    } else {
      offer_w = w_wants;  // (a held R beat does not block W: see advance())
    }
  } else {
    offer_r = r_next && t >= r_slot_;
    offer_w = w_pending && t >= w_slot_;
  }
  if (offer_r && roll_stall()) offer_r = false;
  if (offer_w && roll_stall()) offer_w = false;

  if (offer_r) present_r_beat(*r_next);
  else if (!r_held) axi.rvalid.write(false);
  axi.wready.write(offer_w);

  const bool b_held = axi.bvalid.read() && !b_hs;
  if (!b_held) {
    WriteBurst* b = pick_b(t);
    if (b && !roll_stall()) {
      axi.bid.write(b->id);
      axi.bresp.write(b->error ? kAxiRespSlverr : kAxiRespOkay);
      axi.bvalid.write(true);
      b_out_seq_ = b->seq;
    } else {
      axi.bvalid.write(false);
    }
  }
}

}  // namespace xtu::sim
