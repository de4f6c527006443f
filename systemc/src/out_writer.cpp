#include "xtu/model/out_writer.hpp"

#include <algorithm>
#include <cstring>

#include "xtu/regs.hpp"

namespace xtu::model {

namespace L = xtu::regs;

OutWriter::OutWriter(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, UnitCounters& counters,
                     unsigned depth)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), in("in"), mem_wr("mem"),
      done_o("done_o"), watermark_o("watermark_o"), error_o("error_o"), cfg_(cfg), status_(status),
      cnt_(counters), depth_(depth) {
  SC_HAS_PROCESS(OutWriter);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

void OutWriter::seq() {
  if (!rst_ni.read() || start_i.read()) {
    fifo_.clear();
    beats_.clear();
    head_ = written_ = 0;
    inflight_.clear();
    arrived_ = false;
    wreq_valid_ = wbeat_valid_ = false;
    done_ = false;
    have_time_hi_ = false;
    error_ = 0;
    running_ = rst_ni.read() && start_i.read();
    status_.out_head = 0;
    in.ready.write(false);
    mem_wr.req.valid.write(false);
    mem_wr.beat.valid.write(false);
    mem_wr.ack.ready.write(true);
    done_o.write(false);
    watermark_o.write(false);
    error_o.write(0);
    return;
  }
  if (mem_wr.req.fired()) wreq_valid_ = false;
  if (mem_wr.beat.fired()) wbeat_valid_ = false;
  arrived_ = in.fired();
  if (in.fired()) {
    OutItem it = in.data.read();
    Rec r{};
    L::Record rec{};
    if (it.end) {
      rec.kind = L::RecordKind::End;
      rec.value = status_.trace_tail;
    } else {
      rec.kind = L::RecordKind(uint8_t(it.o.kind));
      if (it.o.kind == WalkOut::Kind::Block && cfg_.time_en && it.o.time_valid) {
        // A TIME record before the first timed block and whenever TSC bits 63:32 change.
        uint32_t hi = uint32_t(it.o.time >> 32);
        if (!have_time_hi_ || hi != time_hi_) {
          L::Record t{};
          t.kind = L::RecordKind::Time;
          t.value = it.o.time;
          Rec tr{};
          t.store(tr.bytes);
          fifo_.push_back(tr);
          have_time_hi_ = true;
          time_hi_ = hi;
        }
        rec.flags = 1;
        rec.tsc = uint32_t(it.o.time);
      }
      if (it.o.kind == WalkOut::Kind::Block) ++cnt_[kCtrBlocks];
      if (it.o.kind == WalkOut::Kind::Gap) ++cnt_[kCtrGaps];
      rec.value = it.o.value;
      rec.flags = it.o.kind == WalkOut::Kind::Block ? rec.flags : it.o.flags;
      rec.icount = it.o.icount;
    }
    rec.store(r.bytes);
    r.end = it.end;
    fifo_.push_back(r);
  }
  if (mem_wr.ack.fired() && !inflight_.empty()) {
    if (mem_wr.ack.data.read().resp) error_ |= kErrAxi;
    Inflight f = inflight_.front();
    inflight_.pop_front();
    head_ += 16ull * f.records;
    cnt_[kCtrRecords] += f.records;
    status_.out_head = head_;
    if (f.end) done_ = true;
  }

  uint64_t size = cfg_.out_size;
  bool ring_ok = size >= 64 && !(size & (size - 1)) && cfg_.out_base % 16 == 0;
  if (running_ && !ring_ok) error_ |= kErrBounds;
  bool batch_ready = fifo_.size() >= 8 || !arrived_;
  if (running_ && !error_ && ring_ok && inflight_.size() < 4 && !wreq_valid_ && beats_.empty() && !fifo_.empty() &&
      batch_ready) {
    uint64_t used = written_ - cfg_.out_tail;
    uint64_t space = used <= size ? (size - used) / 16 : 0;
    uint64_t pos = written_ & (size - 1);
    uint64_t addr = cfg_.out_base + pos;
    uint64_t n = std::min<uint64_t>({8, fifo_.size(), space, (size - pos) / 16, (4096 - (addr & 4095)) / 16});
    if (n > 0) {
      wreq_ = MemWrite{addr, uint16_t(2 * n)};
      wreq_valid_ = true;
      Inflight f{unsigned(n), false};
      for (uint64_t k = 0; k < n; ++k) {
        const Rec& r = fifo_.front();
        uint64_t w0, w1;
        std::memcpy(&w0, r.bytes, 8);
        std::memcpy(&w1, r.bytes + 8, 8);
        beats_.push_back(MemWBeat{w0, 0xff, false});
        beats_.push_back(MemWBeat{w1, 0xff, k + 1 == n});
        if (r.end) f.end = true;
        fifo_.pop_front();
      }
      inflight_.push_back(f);
      written_ += 16 * n;
    }
  }
  if (!wbeat_valid_ && !beats_.empty()) {
    wbeat_ = beats_.front();
    beats_.pop_front();
    wbeat_valid_ = true;
  }

  in.ready.write(running_ && fifo_.size() + 2 < depth_);  // a BLOCK may bring a TIME record
  mem_wr.req.valid.write(wreq_valid_);
  if (wreq_valid_) mem_wr.req.data.write(wreq_);
  mem_wr.beat.valid.write(wbeat_valid_);
  if (wbeat_valid_) mem_wr.beat.data.write(wbeat_);
  mem_wr.ack.ready.write(true);
  done_o.write(done_);
  uint64_t waiting = (head_ - cfg_.out_tail) / 16;
  watermark_o.write(running_ && cfg_.out_watermark && waiting >= cfg_.out_watermark);
  error_o.write(error_);
}

}  // namespace xtu::model
