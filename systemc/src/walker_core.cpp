#include "xtu/model/walker_core.hpp"

#include "xtu/formats/hex.hpp"

namespace xtu::model {

namespace {
constexpr uint8_t kCond = 1, kGotoTb = 2, kGotoPtr = 3, kCall = 4, kNoReturn = 5, kExit = 6, kDispatch = 7, kRet = 8;
constexpr uint8_t kGapOvf = 1, kGapDecode = 2;
}  // namespace

const char* WalkerCore::mode_name(Mode m) {
  switch (m) {
    case Mode::Unsynced: return "unsynced";
    case Mode::PsbPlus: return "psb+";
    case Mode::Out: return "out";
    case Mode::Node: return "node";
    case Mode::CallPgd: return "call-pgd";
    case Mode::CallPge: return "call-pge";
    case Mode::PtrPgd: return "ptr-pgd";
    case Mode::PtrPge: return "ptr-pge";
    case Mode::PtrTip: return "ptr-tip";
    case Mode::DispatchTip: return "dispatch-tip";
    case Mode::WaitPgd: return "wait-pgd";
    case Mode::OvfWait: return "ovf-wait";
    case Mode::LookupPending: return "lookup";
  }
  return "?";
}

void WalkerCore::reset() {
  WalkerConfig cfg = cfg_;
  *this = WalkerCore(cfg);
}

bool WalkerCore::in_context() const {
  if (!cfg_.ctx_filter || !have_cr3_) return true;
  return cr3_ == cfg_.target_cr3 && (cfg_.target_vmcs == 0 || vmcs_ == cfg_.target_vmcs);
}

void WalkerCore::emit(Step& s, WalkOut::Kind k, uint64_t value, uint16_t icount, uint8_t flags) {
  has_out_ = true;
  out_ = WalkOut{k, value, icount, flags};
  s.emitted = true;
}

void WalkerCore::error(Step& s, const std::string& why, uint64_t offset) {
  ++errors_;
  ++walk_errors_;
  last_error_ = why + " at trace offset " + std::to_string(offset);
  mode_ = Mode::Unsynced;
  tnt_count_ = 0;
  tnt_bits_ = 0;
  have_line_ = false;
  entry_pending_ = false;
  emit(s, WalkOut::Kind::Gap, offset, 0, kGapDecode);
}

void WalkerCore::request_lookup(Step& s, uint64_t addr) {
  lookup_addr_ = addr;
  mode_ = Mode::LookupPending;
  s.need_lookup = true;
}

void WalkerCore::answer_lookup(const WalkLine* line) {
  if (mode_ != Mode::LookupPending) return;
  if (!line) {
    Step s;
    error(s, "no entry point at " + hex(lookup_addr_), last_offset_);
    return;
  }
  line_ = *line;
  have_line_ = true;
  node_ = 0;
  mode_ = Mode::Node;
  entry_pending_ = line_.tb;  // reported once the next packet is known
}

void WalkerCore::update_links(uint64_t host, const uint64_t link[2]) {
  if (have_line_ && line_.host == host) {
    line_.link[0] = link[0];
    line_.link[1] = link[1];
  }
}

void WalkerCore::drop_line() {
  // A flush or invalidation while the walker is inside a line can only happen while tracing is
  // off (events are applied in PacketEn=0 windows); in any other state the position is lost.
  if (have_line_ && mode_ != Mode::Out && mode_ != Mode::Unsynced && mode_ != Mode::PsbPlus &&
      mode_ != Mode::OvfWait && mode_ != Mode::CallPge && mode_ != Mode::PtrPge)
    mode_ = Mode::Out;
  have_line_ = false;
}

WalkerCore::Step WalkerCore::step(const WalkPacket* pkt) {
  Step s;
  if (has_out_) {
    s.blocked = true;
    return s;
  }
  if (mode_ == Mode::LookupPending) {
    s.need_lookup = true;
    return s;
  }
  // Once the TNT bits are used up, an OVF, a decoder error or a PSB waiting as the next packet
  // comes first: libipt handles such events as soon as its TNT cache is empty, before the next
  // instruction (a PSB+ describes the state at the instruction it precedes: its time counts for
  // that instruction).
  bool async_next = pkt && (pkt->kind == WalkPacket::Kind::Ovf || pkt->kind == WalkPacket::Kind::Error ||
                            pkt->kind == WalkPacket::Kind::Psb);
  if (mode_ == Mode::Node && !(tnt_count_ == 0 && async_next)) {
    if (entry_pending_) {
      // The TB's first instruction is reached: a guest block. Reported only once the next packet
      // is known (if it is an OVF or an error, libipt does not report the block: see above).
      if (!pkt) {
        s.need_packet = true;
        return s;
      }
      entry_pending_ = false;
      emit(s, WalkOut::Kind::Block, line_.pc, line_.icount, 0);
      out_.time = flow_time_;
      out_.time_valid = flow_time_valid_;
    }
    follow_node(s, pkt);
    return s;
  }
  if (!pkt) {
    s.need_packet = true;
    return s;
  }
  take_packet(s, *pkt);
  return s;
}

void WalkerCore::follow_node(Step& s, const WalkPacket* pkt) {
  if (!have_line_ || node_ >= line_.nodes.size()) {
    if (!s.emitted) error(s, "walked off the descriptor", last_offset_);
    return;
  }
  const WalkNode& n = line_.nodes[node_];
  switch (n.kind) {
    case kCond:
      if (tnt_count_ == 0) {
        if (!pkt) {
          s.need_packet = true;
          return;
        }
        if (pkt->kind != WalkPacket::Kind::Tnt) {
          if (!s.emitted) take_packet(s, *pkt);  // a non-TNT packet at a branch (next cycle if we emitted)
          return;
        }
        if (pkt->tnt_count == 0) {
          if (!s.emitted) error(s, "empty TNT", pkt->offset);
          return;
        }
        tnt_bits_ = pkt->tnt_bits;  // absorb the TNT packet and use its first bit in this cycle
        tnt_count_ = pkt->tnt_count;
        s.consumed = true;
        last_offset_ = pkt->offset;
        flow_time_ = pkt->time;
        flow_time_valid_ = pkt->time_valid;
      }
      {
        bool taken = (tnt_bits_ >> (tnt_count_ - 1)) & 1;
        --tnt_count_;
        node_ = taken ? n.succ : n.alt;
        ++nodes_;
        s.advanced = true;
      }
      return;
    case kGotoTb:
      // Linked or not, decided only once the next packet is known: every event up to that
      // packet's offset (a LINK, an UNLINK) is then applied, however far ahead the decoder is.
      if (!pkt) {
        s.need_packet = true;
        return;
      }
      // Not in the step that reported the TB's BLOCK (a TB whose node 0 is a goto_tb): in the
      // next one, once that output is taken. A lookup so never starts while an output is held,
      // which the GAP of a failed lookup (answer_lookup) would replace.
      if (s.emitted) return;
      if (line_.link[n.slot & 1]) {
        // Linked: straight into the next TB without a packet.
        ++nodes_;
        s.advanced = true;
        request_lookup(s, line_.link[n.slot & 1]);
        return;
      }
      ++nodes_;
      s.advanced = true;
      mode_ = Mode::WaitPgd;
      return;
    case kGotoPtr:
      expect_ip_ = line_.host + n.ret;
      mode_ = Mode::PtrPgd;
      break;
    case kCall:
      expect_ip_ = line_.host + n.ret;
      cont_node_ = n.succ;
      mode_ = Mode::CallPgd;
      break;
    case kNoReturn:
    case kExit:
    case kRet:
      mode_ = Mode::WaitPgd;
      break;
    case kDispatch:
      mode_ = Mode::DispatchTip;
      break;
    default:
      if (!s.emitted) error(s, "invalid node " + std::to_string(node_) + " in " + hex(line_.host), last_offset_);
      return;
  }
  ++nodes_;
  s.advanced = true;
}

void WalkerCore::take_packet(Step& s, const WalkPacket& p) {
  using K = WalkPacket::Kind;
  s.consumed = true;
  last_offset_ = p.offset;
  // libipt gives an instruction the time at the last TNT, TIP or event packet it consumed (the
  // decoder keeps timing packets: they never reach the walker).
  flow_time_ = p.time;
  flow_time_valid_ = p.time_valid;

  // Packets that never move the flow.
  switch (p.kind) {
    case K::Other:
    case K::ModeExec:
    case K::End:
      return;
    case K::Error:
      // The decoder lost synchronisation (bad bytes, truncated packet, nothing before a PSB).
      ++errors_;
      last_error_ = "decoder error at trace offset " + std::to_string(p.offset);
      mode_ = Mode::Unsynced;
      tnt_count_ = 0;
      have_line_ = false;
      entry_pending_ = false;
      emit(s, WalkOut::Kind::Gap, p.offset, 0, p.reason ? p.reason : kGapDecode);
      return;
    case K::Pip:
    case K::Vmcs: {
      uint64_t cr3 = p.kind == K::Pip ? p.cr3 : cr3_;
      uint64_t vmcs = p.kind == K::Vmcs ? p.vmcs : vmcs_;
      bool nr = p.kind == K::Pip ? p.nr : nr_;
      bool changed = !have_cr3_ || cr3 != cr3_ || vmcs != vmcs_ || nr != nr_;
      bool was_in = in_context();
      if (p.kind == K::Pip) have_cr3_ = true;
      cr3_ = cr3;
      vmcs_ = vmcs;
      nr_ = nr;
      bool now_in = in_context();
      // The walker keeps its state across a switch away and back: the traced process is switched
      // out while tracing is off (in C, or inside a helper call between TIP.PGD and TIP.PGE) and
      // resumes where it stopped; packets of other contexts are dropped meanwhile.
      if (was_in != now_in) ++ctx_switches_;
      // A CONTEXT record at every change, by PIP or by VMCS (once a CR3 is known): in a PSB+ the
      // VMCS packet follows the PIP, and only then is it known whether this is the traced context.
      if (changed && cfg_.ctx_records && have_cr3_)
        emit(s, WalkOut::Kind::Context, cr3, 0, uint8_t((now_in ? 1 : 0) | (nr ? 2 : 0)));
      return;
    }
    case K::Ovf:
      if (mode_ == Mode::Unsynced) return;  // after a decode error only a PSB resynchronises
      ++overflows_;
      mode_ = Mode::OvfWait;
      tnt_count_ = 0;
      tnt_bits_ = 0;
      entry_pending_ = false;
      emit(s, WalkOut::Kind::Gap, p.offset, 0, kGapOvf);
      return;
    case K::Psb:
      if (mode_ == Mode::PsbPlus) return;
      if (tnt_count_ != 0 && mode_ != Mode::Unsynced) return error(s, "TNT bits left at a PSB", p.offset);
      mode_before_psb_ = mode_;
      mode_ = Mode::PsbPlus;
      psb_fup_ = false;
      return;
    default:
      break;
  }

  switch (mode_) {
    case Mode::Unsynced:
      return;  // dropped until a PSB
    case Mode::PsbPlus:
      if (p.kind == K::Fup) {
        psb_fup_ = p.ip_valid;
        psb_fup_ip_ = p.ip;
        return;
      }
      if (p.kind == K::Psbend) {
        Mode before = mode_before_psb_;
        bool positioned = before == Mode::Node || before == Mode::CallPgd || before == Mode::PtrPgd ||
                          before == Mode::PtrTip || before == Mode::DispatchTip || before == Mode::WaitPgd ||
                          before == Mode::CallPge || before == Mode::PtrPge;
        if (positioned) {
          mode_ = before;  // a periodic PSB+ inside the flow: its FUP is where we are
          return;
        }
        if (psb_fup_ && in_context()) return request_lookup(s, psb_fup_ip_);
        mode_ = Mode::Out;
        return;
      }
      if (p.kind == K::Tnt || p.kind == K::Tip || p.kind == K::TipPge || p.kind == K::TipPgd)
        return error(s, "control-flow packet inside PSB+", p.offset);
      return;
    default:
      break;
  }

  if (!in_context()) return;  // control flow of another process

  if (p.kind == K::Tnt) {
    if (mode_ != Mode::Node || tnt_count_ != 0) return error(s, "unexpected TNT", p.offset);
    if (p.tnt_count == 0) return error(s, "empty TNT", p.offset);
    tnt_bits_ = p.tnt_bits;
    tnt_count_ = p.tnt_count;
    return;
  }
  if (tnt_count_ != 0) return error(s, "TNT bits left at a TIP-class packet", p.offset);

  switch (mode_) {
    case Mode::Node:
      // At a branch without bits: only a TIP.PGD (tracing stops at the branch) fits.
      if (p.kind == K::TipPgd) {
        mode_ = Mode::Out;
        return;
      }
      return error(s, "expected TNT", p.offset);
    case Mode::Out:
      if (p.kind == K::TipPge && p.ip_valid) return request_lookup(s, p.ip);
      if (p.kind == K::TipPgd) return;
      return error(s, "expected TIP.PGE", p.offset);
    case Mode::CallPgd:
    case Mode::PtrPgd:
    case Mode::WaitPgd:
      if (p.kind != K::TipPgd) return error(s, "expected TIP.PGD", p.offset);
      mode_ = mode_ == Mode::CallPgd ? Mode::CallPge : mode_ == Mode::PtrPgd ? Mode::PtrPge : Mode::Out;
      return;
    case Mode::CallPge:
    case Mode::PtrPge:
      if (p.kind != K::TipPge || !p.ip_valid) return error(s, "expected TIP.PGE", p.offset);
      if (p.ip == expect_ip_ && have_line_) {
        if (mode_ == Mode::CallPge) {
          node_ = cont_node_;
          mode_ = Mode::Node;
        } else {
          mode_ = Mode::PtrTip;
        }
        return;
      }
      return request_lookup(s, p.ip);  // tracing resumed somewhere else
    case Mode::PtrTip:
    case Mode::DispatchTip:
      if (p.kind == K::Tip && p.ip_valid) return request_lookup(s, p.ip);
      if (p.kind == K::TipPgd) {  // the indirect branch left the code buffer
        mode_ = Mode::Out;
        return;
      }
      return error(s, "expected TIP", p.offset);
    case Mode::OvfWait:
      if ((p.kind == K::Fup || p.kind == K::TipPge) && p.ip_valid) return request_lookup(s, p.ip);
      return error(s, "expected FUP or TIP.PGE after OVF", p.offset);
    default:
      return error(s, std::string("packet in state ") + mode_name(mode_), p.offset);
  }
}

}  // namespace xtu::model
