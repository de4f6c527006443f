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

WalkerCore::Action WalkerCore::emit(WalkOut::Kind k, uint64_t value, uint16_t icount, uint8_t flags) {
  has_out_ = true;
  out_ = WalkOut{k, value, icount, flags};
  return Action::Emitted;
}

WalkerCore::Action WalkerCore::error(const std::string& why, uint64_t offset, bool consumed) {
  ++errors_;
  last_error_ = why + " at trace offset " + std::to_string(offset);
  mode_ = Mode::Unsynced;
  tnt_count_ = 0;
  tnt_bits_ = 0;
  have_line_ = false;
  entry_pending_ = false;
  emit(WalkOut::Kind::Gap, offset, 0, kGapDecode);
  return consumed ? Action::ConsumedPacket : Action::Emitted;
}

WalkerCore::Action WalkerCore::request_lookup(uint64_t addr, Mode after) {
  lookup_addr_ = addr;
  after_lookup_ = after;
  mode_ = Mode::LookupPending;
  return Action::ConsumedPacket;
}

WalkerCore::Action WalkerCore::enter_line() {
  node_ = 0;
  mode_ = Mode::Node;
  entry_pending_ = line_.tb;  // reported at the next step, once the next packet is known
  return Action::Advanced;
}

void WalkerCore::answer_lookup(const WalkLine* line) {
  if (mode_ != Mode::LookupPending) return;
  if (!line) {
    error("no entry point at " + hex(lookup_addr_), lookup_addr_, false);
    return;
  }
  line_ = *line;
  have_line_ = true;
  enter_line();
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

WalkerCore::Action WalkerCore::step(const WalkPacket* pkt) {
  if (has_out_) return Action::Blocked;
  if (mode_ == Mode::LookupPending) return Action::NeedLookup;

  // Follow a node when no packet is needed for it. Once the TNT bits are used up, an OVF or a
  // decoder error waiting as the next packet comes first (libipt handles such asynchronous
  // events as soon as its TNT cache is empty, before the next instruction); and a node that
  // moves without a packet (a linked goto_tb) is only followed once the next packet is known,
  // so the outcome never depends on how far ahead the decoder is.
  bool async_next = pkt && (pkt->kind == WalkPacket::Kind::Ovf || pkt->kind == WalkPacket::Kind::Error);
  if (mode_ == Mode::Node && !(tnt_count_ == 0 && async_next)) {
    if (entry_pending_) {
      // The TB's first instruction is reached: a guest block (libipt reports it only if no OVF
      // or error is pending at this point; then the branch above took the packet first).
      if (!pkt) return Action::NeedPacket;
      entry_pending_ = false;
      return emit(WalkOut::Kind::Block, line_.pc, line_.icount, 0);
    }
    if (!have_line_ || node_ >= line_.nodes.size()) return error("walked off the descriptor", pkt ? pkt->offset : 0, false);
    const WalkNode& n = line_.nodes[node_];
    switch (n.kind) {
      case kCond:
        if (tnt_count_ == 0) break;  // needs a TNT packet: handled below
        {
          bool taken = (tnt_bits_ >> (tnt_count_ - 1)) & 1;
          --tnt_count_;
          node_ = taken ? n.succ : n.alt;
          ++nodes_;
          return Action::Advanced;
        }
      case kGotoTb:
        if (line_.link[n.slot & 1] && !pkt) return Action::NeedPacket;
        ++nodes_;
        if (line_.link[n.slot & 1]) {
          lookup_addr_ = line_.link[n.slot & 1];
          mode_ = Mode::LookupPending;
          return Action::NeedLookup;
        }
        mode_ = Mode::WaitPgd;
        return Action::Advanced;
      case kGotoPtr:
        ++nodes_;
        expect_ip_ = line_.host + n.ret;
        mode_ = Mode::PtrPgd;
        return Action::Advanced;
      case kCall:
        ++nodes_;
        expect_ip_ = line_.host + n.ret;
        cont_node_ = n.succ;
        mode_ = Mode::CallPgd;
        return Action::Advanced;
      case kNoReturn:
      case kExit:
      case kRet:
        ++nodes_;
        mode_ = Mode::WaitPgd;
        return Action::Advanced;
      case kDispatch:
        ++nodes_;
        mode_ = Mode::DispatchTip;
        return Action::Advanced;
      default:
        return error("invalid node " + std::to_string(node_) + " in " + hex(line_.host), pkt ? pkt->offset : 0, false);
    }
  }

  if (!pkt) return Action::NeedPacket;
  const WalkPacket& p = *pkt;
  using K = WalkPacket::Kind;

  // Packets that never move the flow.
  switch (p.kind) {
    case K::Other:
    case K::ModeExec:
    case K::End:
      return Action::ConsumedPacket;
    case K::Error:
      // The decoder lost synchronisation (bad bytes, truncated packet, nothing before a PSB).
      ++errors_;
      last_error_ = "decoder error at trace offset " + std::to_string(p.offset);
      mode_ = Mode::Unsynced;
      tnt_count_ = 0;
      have_line_ = false;
      entry_pending_ = false;
      emit(WalkOut::Kind::Gap, p.offset, 0, p.reason ? p.reason : kGapDecode);
      return Action::ConsumedPacket;
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
      if (changed && cfg_.ctx_records && p.kind == K::Pip) {
        emit(WalkOut::Kind::Context, cr3, 0, uint8_t((now_in ? 1 : 0) | (nr ? 2 : 0)));
      }
      return Action::ConsumedPacket;
    }
    case K::Ovf:
      ++overflows_;
      mode_ = Mode::OvfWait;
      tnt_count_ = 0;
      tnt_bits_ = 0;
      entry_pending_ = false;
      emit(WalkOut::Kind::Gap, p.offset, 0, kGapOvf);
      return Action::ConsumedPacket;
    case K::Psb:
      if (mode_ == Mode::PsbPlus) return Action::ConsumedPacket;
      if (tnt_count_ != 0 && mode_ != Mode::Unsynced) return error("TNT bits left at a PSB", p.offset, true);
      mode_before_psb_ = mode_;
      mode_ = Mode::PsbPlus;
      psb_fup_ = false;
      return Action::ConsumedPacket;
    default:
      break;
  }

  switch (mode_) {
    case Mode::Unsynced:
      return Action::ConsumedPacket;  // dropped until a PSB

    case Mode::PsbPlus:
      if (p.kind == K::Fup) {
        psb_fup_ = p.ip_valid;
        psb_fup_ip_ = p.ip;
        return Action::ConsumedPacket;
      }
      if (p.kind == K::Psbend) {
        Mode before = mode_before_psb_;
        bool positioned = before == Mode::Node || before == Mode::CallPgd || before == Mode::PtrPgd ||
                          before == Mode::PtrTip || before == Mode::DispatchTip || before == Mode::WaitPgd ||
                          before == Mode::CallPge || before == Mode::PtrPge;
        if (positioned) {
          mode_ = before;  // a periodic PSB+ inside the flow: the FUP is where we are
          return Action::ConsumedPacket;
        }
        if (psb_fup_ && in_context()) return request_lookup(psb_fup_ip_, Mode::Node);
        mode_ = Mode::Out;
        return Action::ConsumedPacket;
      }
      if (p.kind == K::Tnt || p.kind == K::Tip || p.kind == K::TipPge || p.kind == K::TipPgd)
        return error("control-flow packet inside PSB+", p.offset, true);
      return Action::ConsumedPacket;

    default:
      break;
  }

  // Out of the traced context: control flow belongs to another process.
  if (!in_context()) return Action::ConsumedPacket;

  if (p.kind == K::Tnt) {
    if (mode_ != Mode::Node || tnt_count_ != 0) return error("unexpected TNT", p.offset, true);
    tnt_bits_ = p.tnt_bits;
    tnt_count_ = p.tnt_count;
    if (tnt_count_ == 0) return error("empty TNT", p.offset, true);
    return Action::ConsumedPacket;
  }
  if (tnt_count_ != 0) return error("TNT bits left at a TIP-class packet", p.offset, true);

  switch (mode_) {
    case Mode::Node:
      // At a COND node without bits: only a TIP.PGD (tracing stops at the branch) is possible.
      if (p.kind == K::TipPgd) {
        mode_ = Mode::Out;
        return Action::ConsumedPacket;
      }
      return error("expected TNT", p.offset, true);
    case Mode::Out:
      if (p.kind == K::TipPge && p.ip_valid) return request_lookup(p.ip, Mode::Node);
      if (p.kind == K::TipPgd) return Action::ConsumedPacket;
      return error("expected TIP.PGE", p.offset, true);
    case Mode::CallPgd:
    case Mode::PtrPgd:
    case Mode::WaitPgd:
      if (p.kind != K::TipPgd) return error("expected TIP.PGD", p.offset, true);
      mode_ = mode_ == Mode::CallPgd ? Mode::CallPge : mode_ == Mode::PtrPgd ? Mode::PtrPge : Mode::Out;
      return Action::ConsumedPacket;
    case Mode::CallPge:
    case Mode::PtrPge:
      if (p.kind != K::TipPge || !p.ip_valid) return error("expected TIP.PGE", p.offset, true);
      if (p.ip == expect_ip_ && have_line_) {
        if (mode_ == Mode::CallPge) {
          node_ = cont_node_;
          mode_ = Mode::Node;
        } else {
          mode_ = Mode::PtrTip;
        }
        return Action::ConsumedPacket;
      }
      return request_lookup(p.ip, Mode::Node);  // tracing resumed somewhere else
    case Mode::PtrTip:
    case Mode::DispatchTip:
      if (p.kind == K::Tip && p.ip_valid) return request_lookup(p.ip, Mode::Node);
      if (p.kind == K::TipPgd) {  // the indirect branch left the code buffer
        mode_ = Mode::Out;
        return Action::ConsumedPacket;
      }
      return error("expected TIP", p.offset, true);
    case Mode::OvfWait:
      if ((p.kind == K::Fup || p.kind == K::TipPge) && p.ip_valid) return request_lookup(p.ip, Mode::Node);
      return error("expected FUP or TIP.PGE after OVF", p.offset, true);
    default:
      return error(std::string("packet in state ") + mode_name(mode_), p.offset, true);
  }
}

}  // namespace xtu::model
