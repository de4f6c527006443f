#include "xtu/model/trace_reader.hpp"

#include <algorithm>

namespace xtu::model {

TraceReader::TraceReader(sc_core::sc_module_name n, const UnitConfig& cfg, unsigned fifo_beats, unsigned burst)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), mem_rd("mem"), out("out"),
      error_o("error_o"), cfg_(cfg), fifo_beats_(fifo_beats), burst_(burst) {
  SC_HAS_PROCESS(TraceReader);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

void TraceReader::seq() {
  if (!rst_ni.read() || start_i.read()) {
    fifo_.clear();
    pending_.clear();
    pending_beats_ = beat_in_burst_ = 0;
    fetch_ = 0;
    rreq_valid_ = out_valid_ = end_sent_ = false;
    running_ = rst_ni.read() && start_i.read();
    error_ = 0;
    mem_rd.req.valid.write(false);
    mem_rd.beat.ready.write(true);
    out.valid.write(false);
    error_o.write(0);
    return;
  }
  if (mem_rd.req.fired()) rreq_valid_ = false;
  if (out.fired()) fifo_.pop_front();
  if (mem_rd.beat.fired()) {
    MemBeat b = mem_rd.beat.data.read();
    if (b.resp) error_ |= kErrAxi;
    const Burst& bu = pending_.front();
    uint64_t word_first = (bu.first & ~uint64_t(7)) + 8ull * beat_in_burst_;
    uint64_t lo = std::max(word_first, bu.first);
    uint64_t hi = std::min(word_first + 8, bu.last);
    TraceBeat t;
    t.data = b.data;
    t.offset = lo;
    t.skip = uint8_t(lo - word_first);
    t.n = uint8_t(hi > lo ? hi - lo : 0);
    if (t.n) fifo_.push_back(t);
    --pending_beats_;
    if (++beat_in_burst_ == bu.beats) {
      pending_.pop_front();
      beat_in_burst_ = 0;
    }
  }

  uint64_t size = cfg_.trace_size;
  bool ring_ok = size >= 8 && size % 8 == 0 && cfg_.trace_base % 8 == 0;
  if (running_ && !ring_ok) error_ |= kErrBounds;
  if (running_ && !error_ && ring_ok && !rreq_valid_ && fetch_ < cfg_.trace_head) {
    unsigned room = fifo_beats_ > fifo_.size() + pending_beats_ ? unsigned(fifo_beats_ - fifo_.size() - pending_beats_) : 0;
    uint64_t ring_pos = fetch_ % size;
    uint64_t addr = cfg_.trace_base + (ring_pos & ~uint64_t(7));
    uint64_t avail = cfg_.trace_head - fetch_;                      // bytes written, not fetched
    uint64_t to_ring_end = size - ring_pos;
    uint64_t to_page_end = 4096 - (addr & 4095) - (ring_pos & 7);  // bytes from fetch_ to the page end
    uint64_t bytes = std::min({avail, to_ring_end, to_page_end, uint64_t(burst_) * 8 - (ring_pos & 7)});
    uint64_t beats = ((ring_pos & 7) + bytes + 7) / 8;
    if (room > 0 && beats > room) {
      beats = room;
      bytes = beats * 8 - (ring_pos & 7);
    }
    if (room > 0 && bytes > 0) {
      rreq_ = MemRead{addr, uint16_t(beats)};
      rreq_valid_ = true;
      pending_.push_back(Burst{fetch_, fetch_ + bytes, unsigned(beats)});
      pending_beats_ += unsigned(beats);
      fetch_ += bytes;
    }
  }
  // End of trace: everything fetched and handed on.
  if (running_ && cfg_.trace_last && fetch_ >= cfg_.trace_head && pending_.empty() && !rreq_valid_ && !end_sent_ &&
      fifo_.size() < fifo_beats_) {
    TraceBeat e;
    e.offset = fetch_;
    e.end = true;
    fifo_.push_back(e);
    end_sent_ = true;
  }

  mem_rd.req.valid.write(rreq_valid_);
  if (rreq_valid_) mem_rd.req.data.write(rreq_);
  mem_rd.beat.ready.write(true);
  out_valid_ = !fifo_.empty();
  out.valid.write(out_valid_);
  if (out_valid_) out.data.write(fifo_.front());
  error_o.write(error_);
}

}  // namespace xtu::model
