#include "xtu/capture/synth.hpp"

#include <algorithm>
#include <stdexcept>

namespace xtu::capture {

OpRecorder::OpRecorder(OpList& out, const hostcode::Prologue& prologue, uint64_t c_return_ip, const CostModel& costs)
    : out_(out), pro_(prologue), c_ret_(c_return_ip), cost_(costs) {}

void OpRecorder::event(ev::Body body) {
  out_.events.push_back({0, 0, std::move(body)});
  op(Op::Kind::Event, 0, 0, static_cast<uint32_t>(out_.events.size() - 1));
}

void OpRecorder::add_initial_event(ev::Body body) { event(std::move(body)); }

void OpRecorder::flush() {
  advance(cost_.flush);
  event(ev::Flush{});
}

void OpRecorder::translate(const Translation& tb) {
  advance(cost_.translate_base + uint64_t(cost_.translate_per_byte) * tb.code.size());
  ev::TbLoad t;
  t.host_addr = tb.host_addr;
  t.guest_pc = tb.id.pc;
  t.cs_base = tb.id.cs_base;
  t.flags = tb.id.flags;
  t.cflags = tb.cflags;
  t.code = tb.code;
  // Host range of each guest instruction: from its "-- guest addr" mark to the next mark; the
  // last one runs to the slow paths / constant pool (or the end), as QEMU's perf map says.
  // Instructions whose host code is empty have no mark: they get an empty range where the next
  // instruction starts.
  uint64_t end = tb.code_end;
  size_t m = 0;
  for (size_t g = 0; g < tb.guest.size(); ++g) {
    ev::InsnMap im;
    im.guest_pc = tb.guest[g].pc;
    while (m < tb.marks.size() && tb.marks[m].guest_pc != im.guest_pc &&
           std::none_of(tb.guest.begin() + g, tb.guest.end(), [&](const qemu::GuestInsn& gi) { return gi.pc == tb.marks[m].guest_pc; }))
      ++m;  // a mark for no listed instruction: skip (never seen in QEMU 10 logs)
    uint64_t start = m < tb.marks.size() ? tb.marks[m].host_addr : end;
    uint64_t stop = start;
    if (m < tb.marks.size() && tb.marks[m].guest_pc == im.guest_pc) {
      stop = m + 1 < tb.marks.size() ? tb.marks[m + 1].host_addr : end;
      ++m;
    }
    im.host_offset = static_cast<uint32_t>(start - tb.host_addr);
    im.host_size = static_cast<uint32_t>(stop - start);
    t.insns.push_back(im);
  }
  if (t.insns.empty()) throw std::runtime_error("translation at log line " + std::to_string(tb.log_line) + " has no guest instructions");
  event(std::move(t));
}

void OpRecorder::link(const Translation& src, unsigned slot, uint64_t jmp_addr, const Translation& dst) {
  advance(cost_.link);
  event(ev::Link{src.host_addr, jmp_addr, dst.host_addr, slot});
}

void OpRecorder::enter_from_c(const Translation& tb) {
  advance(cost_.c_round_trip);
  op(Op::Kind::IdleBoundary);
  op(Op::Kind::Enable, pro_.addr);
  advance(uint64_t(cost_.per_insn) * pro_.entry_insns);
  op(Op::Kind::Tip, tb.host_addr);  // jmp *%rsi
}

void OpRecorder::to_c() { op(Op::Kind::Disable, c_ret_); }

void OpRecorder::run_tb(const Translation& tb, const hostcode::Path& path, Transition how, const Translation* next) {
  out_.block_pcs.push_back(tb.id.pc);
  op(Op::Kind::Block, tb.host_addr, 0, static_cast<uint32_t>(out_.block_pcs.size() - 1));
  op(Op::Kind::Boundary, tb.host_addr);
  for (const hostcode::Step& s : path.steps) {
    if (s.kind == hostcode::Step::Kind::Cond) {
      op(Op::Kind::Cond, 0, s.taken ? 1 : 0);
    } else {
      op(Op::Kind::Disable, s.target);
      advance(cost_.helper_call);
      op(Op::Kind::IdleBoundary);
      op(Op::Kind::Enable, s.ret);
    }
  }
  advance(uint64_t(cost_.per_insn) * path.insns);
  const hostcode::Exit& ex = path.exit;
  switch (how) {
    case Transition::Linked:
      break;
    case Transition::ToC:
    case Transition::End:
      advance(cost_.per_insn * (ex.kind == hostcode::Exit::Kind::GotoTb ? ex.stub_insns + pro_.epi_insns : pro_.ret0_insns));
      to_c();
      break;
    case Transition::LookupHit:
    case Transition::LookupMiss:
      op(Op::Kind::Disable, ex.helper);
      advance(cost_.lookup_helper);
      op(Op::Kind::IdleBoundary);
      op(Op::Kind::Enable, ex.ret);
      if (how == Transition::LookupHit) {
        op(Op::Kind::Tip, next->host_addr);
      } else {
        op(Op::Kind::Tip, pro_.epilogue_ret0);
        advance(uint64_t(cost_.per_insn) * pro_.ret0_insns);
        to_c();
      }
      break;
    case Transition::NoReturn:
      op(Op::Kind::Disable, ex.helper);
      break;
  }
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Player {
  const OpList& list;
  std::vector<ev::Event>& events_out;
  size_t pos = 0;
  uint64_t blocks = 0;
  bool done() const { return pos >= list.ops.size(); }
};

}  // namespace

ComposeResult compose(const OpList& main, const OpList* other, const ComposeOptions& opt) {
  ComposeResult res;
  PtWriter w(opt.pt, main.context, opt.pad_seed, opt.pad_every);
  w.start();
  Player pm{main, res.main_events};
  Player po{other ? *other : main, res.other_events};
  size_t next_loss = 0;
  bool in_loss = false;
  uint64_t loss_end = 0;
  uint64_t since_switch = 0;

  // Play one op of `p`; returns true if it was a Disable (a point where PacketEn=0).
  auto play = [&](Player& p, bool is_main) -> bool {
    const Op& o = p.list.ops[p.pos++];
    switch (o.kind) {
      case Op::Kind::Cond: w.cond(o.flag != 0); break;
      case Op::Kind::Tip: w.indirect(o.arg); break;
      case Op::Kind::Enable: w.enable(o.arg); break;
      case Op::Kind::Disable: w.disable(o.arg); return true;
      case Op::Kind::Boundary: w.boundary(o.arg); break;
      case Op::Kind::IdleBoundary: w.idle_boundary(); break;
      case Op::Kind::Advance: w.advance(o.arg); break;
      case Op::Kind::Event: {
        ev::Event e = p.list.events[o.small];
        e.trace_offset = w.offset();
        e.time = w.tsc();
        p.events_out.push_back(std::move(e));
        break;
      }
      case Op::Kind::Block: {
        uint64_t k = p.blocks++;
        if (!is_main) break;
        ++since_switch;
        if (in_loss && k == loss_end) {
          w.end_loss(true, o.arg);  // OVF, FUP(entry of this block)
          in_loss = false;
        }
        if (!in_loss && next_loss < opt.losses.size() && k == opt.losses[next_loss].first && opt.losses[next_loss].count) {
          w.begin_loss();
          in_loss = true;
          loss_end = k + opt.losses[next_loss].count;
          ++next_loss;
          res.truth.push_back(GuestRecord::gap());
        }
        if (in_loss) ++res.lost_blocks;
        else res.truth.push_back(GuestRecord::block(p.list.block_pcs[o.small]));
        break;
      }
    }
    return false;
  };

  while (!pm.done()) {
    bool disabled = play(pm, true);
    if (disabled && other && !po.done() && opt.switch_every && since_switch >= opt.switch_every && !w.losing()) {
      w.switch_context(other->context);
      ++res.context_switches;
      uint64_t start_blocks = po.blocks;
      while (!po.done()) {
        bool d = play(po, false);
        if (d && po.blocks - start_blocks >= opt.switch_every) break;
      }
      // The other process may stop inside a helper call or mid-TB only at a Disable, or at its end.
      w.switch_context(main.context);
      ++res.context_switches;
      since_switch = 0;
    }
  }
  if (in_loss) w.end_loss(false, 0);
  w.finish();
  res.stats = w.stats();
  res.cycles = w.cycles();
  res.pt = w.take_bytes();
  return res;
}

}  // namespace xtu::capture
