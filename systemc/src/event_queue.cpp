#include "xtu/model/event_queue.hpp"

#include <algorithm>

#include "xtu/regs.hpp"

namespace xtu::model {

namespace L = xtu::regs;

EventQueue::EventQueue(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, unsigned depth)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), mem_rd("mem"), out("out"),
      drained_o("drained_o"), error_o("error_o"), cfg_(cfg), status_(status), depth_(depth) {
  SC_HAS_PROCESS(EventQueue);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

void EventQueue::seq() {
  if (!rst_ni.read() || start_i.read()) {
    fifo_.clear();
    fetched_ = 0;
    in_flight_ = 0;
    buf_.clear();
    rreq_valid_ = out_valid_ = false;
    error_ = 0;
    running_ = rst_ni.read() && start_i.read();
    status_.evq_tail = 0;
    mem_rd.req.valid.write(false);
    mem_rd.beat.ready.write(true);
    out.valid.write(false);
    drained_o.write(false);
    error_o.write(0);
    return;
  }
  if (mem_rd.req.fired()) rreq_valid_ = false;
  if (out.fired()) {
    fifo_.pop_front();
    ++status_.evq_tail;
  }
  if (mem_rd.beat.fired()) {
    MemBeat b = mem_rd.beat.data.read();
    if (b.resp) error_ |= kErrAxi;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&b.data);
    buf_.insert(buf_.end(), p, p + 8);
    while (buf_.size() >= L::event::kSize) {
      L::Event e = L::Event::load(buf_.data());
      auto k = uint8_t(e.kind);
      if (k < 1 || k > 5) error_ |= kErrEvent;
      fifo_.push_back(EventItem{UnitEvent{e.offset, k, e.slot, e.nodes, e.a, e.b}});
      buf_.erase(buf_.begin(), buf_.begin() + L::event::kSize);
      --in_flight_;
    }
  }

  uint32_t entries = cfg_.evq_entries;
  bool ring_ok = entries && !(entries & (entries - 1)) && cfg_.evq_base % 8 == 0;
  if (running_ && !ring_ok && cfg_.evq_head) error_ |= kErrBounds;
  if (running_ && !error_ && ring_ok && !rreq_valid_ && in_flight_ == 0 && fetched_ < cfg_.evq_head) {
    uint64_t space = depth_ - fifo_.size();
    uint64_t idx = fetched_ & (entries - 1);
    uint64_t n = std::min<uint64_t>({4, cfg_.evq_head - fetched_, entries - idx, space});
    uint64_t addr = cfg_.evq_base + idx * L::event::kSize;
    // Never across a 4 KiB boundary (entries are 32 bytes, so an entry never straddles one).
    n = std::min<uint64_t>(n, (4096 - (addr & 4095)) / L::event::kSize);
    if (n > 0) {
      rreq_ = MemRead{addr, uint16_t(n * L::event::kSize / 8)};
      rreq_valid_ = true;
      fetched_ += n;
      in_flight_ = unsigned(n);
    }
  }

  mem_rd.req.valid.write(rreq_valid_);
  if (rreq_valid_) mem_rd.req.data.write(rreq_);
  mem_rd.beat.ready.write(true);
  out_valid_ = !fifo_.empty() && !error_;
  out.valid.write(out_valid_);
  if (out_valid_) out.data.write(fifo_.front());
  drained_o.write(running_ && fifo_.empty() && in_flight_ == 0 && !rreq_valid_ && fetched_ >= cfg_.evq_head);
  error_o.write(error_);
}

}  // namespace xtu::model
