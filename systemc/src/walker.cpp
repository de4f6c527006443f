#include "xtu/model/walker.hpp"

#include "xtu/model/tb_cache.hpp"

namespace xtu::model {

Walker::Walker(sc_core::sc_module_name n, const UnitConfig& cfg, UnitCounters& counters, TbCache& cache,
               unsigned width, unsigned dec_width)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), pkt("pkt"), ev("ev"),
      evq_drained_i("evq_drained_i"), dec_pos_i("dec_pos_i"), dec_out_valid_i("dec_out_valid_i"), creq("creq"), cresp("cresp"), out("out"), idle_o("idle_o"), cfg_(cfg),
      cnt_(counters), cache_(cache), width_(width ? width : 1),
      dec_width_(dec_width ? dec_width : 1), pkt_buf_(2 * dec_width_ + 2) {
  SC_HAS_PROCESS(Walker);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

void Walker::reset_state() {
  WalkerConfig wc;
  wc.ctx_filter = cfg_.ctx_filter;
  wc.target_cr3 = cfg_.target_cr3;
  wc.target_vmcs = cfg_.target_vmcs;
  wc.ctx_records = cfg_.ctx_records;
  core_ = WalkerCore(wc);
  pbuf_.clear();
  ebuf_.clear();
  pending_ = Pending::None;
  out_valid_ = creq_valid_ = false;
  ended_ = end_sent_ = false;
  walk_errors_seen_ = 0;
}

void Walker::apply_event_effect(const UnitEvent& e) {
  switch (e.type) {
    case 2:
    case 3:
      if (core_.has_line() && core_.line().host == e.a) {
        uint64_t link[2] = {core_.line().link[0], core_.line().link[1]};
        link[e.slot & 1] = e.type == 2 ? e.b : 0;
        core_.update_links(e.a, link);
      }
      break;
    case 4:
      if (core_.has_line() && core_.line().host == e.a) core_.drop_line();
      break;
    case 5:
      core_.drop_line();
      break;
    default:
      break;
  }
}

void Walker::seq() {
  if (!rst_ni.read()) {
    reset_state();
    running_ = false;
    pkt.ready.write(false);
    ev.ready.write(false);
    cresp.ready.write(true);
    out.valid.write(false);
    creq.valid.write(false);
    idle_o.write(true);
    return;
  }
  if (start_i.read()) {
    reset_state();
    running_ = true;
  }

  // Items that moved at this edge.
  if (pkt.fired()) {
    PktItem g = pkt.data.read();
    for (unsigned i = 0; i < g.n; ++i) pbuf_.push_back(g.p[i]);
  }
  if (ev.fired()) ebuf_.push_back(ev.data.read());
  if (out.fired()) out_valid_ = false;
  if (creq.fired()) creq_valid_ = false;

  if (running_) {
    // Answers: a CAM hit seen last cycle (node RAM read done), or the cache engine's response.
    if (pending_ == Pending::Hit) {
      core_.answer_lookup(&cache_.line(hit_line_));
      pending_ = Pending::None;
    } else if (cresp.valid.read() && cresp.ready.read()) {
      CacheResp r = cresp.data.read();
      if (pending_ == Pending::Miss) {
        core_.answer_lookup(r.found ? &cache_.line(r.line) : nullptr);
      } else if (pending_ == Pending::Event) {
        apply_event_effect(ebuf_.front().e);
        ebuf_.pop_front();
        ++cnt_[kCtrEvents];
      }
      pending_ = Pending::None;
    }
    if (core_.has_output() && !out_valid_) {
      out_reg_.o = core_.take_output();
      out_reg_.end = false;
      out_valid_ = true;
    }

    if (pending_ == Pending::None && !creq_valid_) {
      bool nothing_on_way = pbuf_.empty() && !pkt.valid.read() && !dec_out_valid_i.read();
      bool event_due = !ebuf_.empty() &&
                       (!pbuf_.empty() ? ebuf_.front().e.offset <= pbuf_.front().offset
                                       : ended_ || (nothing_on_way && ebuf_.front().e.offset <= dec_pos_i.read()));
      if (event_due) {
        const UnitEvent& e = ebuf_.front().e;
        creq_reg_ = CacheReq{CacheReq::Op(e.type), e.a, e.b, e.b, e.slot, e.nodes};
        creq_valid_ = true;
        pending_ = Pending::Event;
        ++cnt_[kCtrStallEvent];
      } else {
        // Up to WALK_WIDTH steps: each may use the next packet (one whose events are all
        // applied), follow a node, emit one event or start one lookup; the cycle ends at a
        // lookup or a wait (a second output in the cycle waits: the output register holds one).
        size_t used = 0;
        WalkerCore::Step s;
        for (unsigned w = 0; w < width_; ++w) {
          const WalkPacket* p = nullptr;
          if (used < pbuf_.size()) {
            const WalkPacket& cand = pbuf_[used];
            bool events_done = ebuf_.empty() ? evq_drained_i.read() : ebuf_.front().e.offset > cand.offset;
            if (events_done) p = &cand;
          }
          s = core_.step(p);
          if (s.consumed) {
            if (p->kind == WalkPacket::Kind::End) ended_ = true;
            ++used;
          }
          if (core_.has_output() && !out_valid_) {
            out_reg_.o = core_.take_output();
            out_reg_.end = false;
            out_valid_ = true;
          }
          if (s.need_lookup) {
            ++cnt_[kCtrCamLookups];
            int line = cache_.cam_lookup(core_.lookup_addr());
            if (line >= 0) {
              ++cnt_[kCtrCamHits];
              cache_.touch(unsigned(line));
              hit_line_ = uint16_t(line);
              pending_ = Pending::Hit;
            } else {
              creq_reg_ = CacheReq{CacheReq::Op::Lookup, core_.lookup_addr(), 0, 0, 0, 0};
              creq_valid_ = true;
              pending_ = Pending::Miss;
            }
          }
          if (s.blocked && w == 0) ++cnt_[kCtrStallOutput];  // a cycle without progress
          if (s.need_packet && !s.advanced && !s.consumed && w == 0) {
            if (pbuf_.empty() && !ended_) ++cnt_[kCtrStallTrace];
            else if (!pbuf_.empty() && !p) ++cnt_[kCtrStallEvent];
          }
          if (s.need_lookup || s.blocked || s.need_packet || s.idle()) break;
        }
        pbuf_.erase(pbuf_.begin(), pbuf_.begin() + long(used));
        cnt_[kCtrNodes] = core_.nodes();
        // The trace is over and everything before END is out: send END once.
        if (ended_ && !end_sent_ && s.need_packet && pbuf_.empty() && ebuf_.empty() && !out_valid_ &&
            !core_.has_output()) {
          out_reg_ = OutItem{};
          out_reg_.end = true;
          out_valid_ = true;
          end_sent_ = true;
        }
      }
    } else if (pending_ == Pending::Miss) {
      ++cnt_[kCtrStallRefill];
    } else if (pending_ == Pending::Event) {
      ++cnt_[kCtrStallEvent];  // the tb_cache engine is applying the event
    }
    cnt_[kCtrOverflows] = core_.overflows();
    // DECODE_ERRORS: the decoder's errors (counted there) plus the walker's own.
    cnt_[kCtrDecodeErrors] += core_.walk_errors() - walk_errors_seen_;
    walk_errors_seen_ = core_.walk_errors();
    cnt_[kCtrContextSwitches] = core_.context_switches();
  }

  pkt.ready.write(running_ && pbuf_.size() + dec_width_ <= pkt_buf_);
  ev.ready.write(running_ && ebuf_.size() <= 1);
  cresp.ready.write(true);
  out.valid.write(out_valid_);
  if (out_valid_) out.data.write(out_reg_);
  creq.valid.write(creq_valid_);
  if (creq_valid_) creq.data.write(creq_reg_);
  idle_o.write(!running_ || (end_sent_ && !out_valid_));
}

}  // namespace xtu::model
