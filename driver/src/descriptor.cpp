#include "xtu/driver/descriptor.hpp"

#include <map>
#include <sstream>

#include "xtu/formats/hex.hpp"

namespace xtu::driver {

const char* node_kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::Cond: return "COND";
    case NodeKind::GotoTb: return "GOTO_TB";
    case NodeKind::GotoPtr: return "GOTO_PTR";
    case NodeKind::Call: return "CALL";
    case NodeKind::NoReturn: return "NORETURN";
    case NodeKind::Exit: return "EXIT";
    case NodeKind::Dispatch: return "DISPATCH";
    case NodeKind::Ret: return "RET";
    case NodeKind::Invalid: return "INVALID";
  }
  return "?";
}

namespace {

using hostcode::Transfer;

class Builder {
public:
  Builder(const hostcode::Region& r, const hostcode::Prologue& pro, int32_t pc_disp, uint64_t exit_stub,
          uint64_t entry, unsigned max_nodes)
      : r_(r), pro_(pro), pc_disp_(pc_disp), exit_stub_(exit_stub), entry_(entry), max_(max_nodes) {}

  std::vector<Node> build(bool& ok) {
    resolve(entry_);
    // Fill nodes breadth-first: a node's successors are resolved (and numbered) after it.
    for (size_t k = 0; k < nodes_.size() && ok_; ++k) fill(k);
    ok = ok_ && nodes_.size() <= max_;
    return std::move(nodes_);
  }

private:
  // The node of the first control transfer reached from `a` (direct jumps inside the code are
  // followed), created on first use. Straight-line instructions are counted into its `insns`.
  uint8_t resolve(uint64_t a) {
    uint16_t count = 0;
    for (unsigned guard = 0; guard < 4096; ++guard) {
      const hostcode::Insn& i = r_.at(a);
      if (i.term == hostcode::Term::None) {
        ++count;
        a += i.len;
        continue;
      }
      ++count;
      auto it = at_.find(a);
      if (it != at_.end()) return it->second;
      Transfer t = hostcode::classify_transfer(r_, a, pc_disp_, pro_, exit_stub_);
      if (t.kind == Transfer::Kind::Jump) {  // folded away
        a = t.target;
        continue;
      }
      if (nodes_.size() >= 32) {  // indices are 5 bits: this code cannot be described
        ok_ = false;
        return 0;
      }
      uint8_t k = uint8_t(nodes_.size());
      at_[a] = k;
      Node n;
      n.addr = a;
      n.insns = count;
      nodes_.push_back(n);
      todo_.push_back(t);
      return k;
    }
    ok_ = false;  // a loop of jumps without a transfer
    return 0;
  }

  void fill(size_t k) {
    Transfer t = todo_[k];
    Node n = nodes_[k];
    uint64_t off_base = entry_;
    switch (t.kind) {
      case Transfer::Kind::Cond: n.kind = NodeKind::Cond; break;
      case Transfer::Kind::GotoTb: n.kind = NodeKind::GotoTb; n.slot = uint8_t(t.slot); break;
      case Transfer::Kind::GotoPtr: n.kind = NodeKind::GotoPtr; n.ret = uint16_t(t.next - off_base); break;
      case Transfer::Kind::Call: n.kind = NodeKind::Call; n.ret = uint16_t(t.next - off_base); break;
      case Transfer::Kind::NoReturn: n.kind = NodeKind::NoReturn; break;
      case Transfer::Kind::ExitTb:
      case Transfer::Kind::ExitJump: n.kind = NodeKind::Exit; break;
      case Transfer::Kind::Indirect: n.kind = NodeKind::Dispatch; break;
      case Transfer::Kind::Ret: n.kind = NodeKind::Ret; break;
      default: n.kind = NodeKind::Invalid; break;
    }
    if ((t.kind == Transfer::Kind::Call || t.kind == Transfer::Kind::GotoPtr) && t.next - off_base > 0xffff) {
      n.kind = NodeKind::Invalid;  // return offset does not fit the node
    }
    nodes_[k] = n;
    if (t.kind == Transfer::Kind::Cond) {
      uint8_t taken = resolve(t.target);
      uint8_t not_taken = resolve(t.next);
      nodes_[k].succ = taken;
      nodes_[k].alt = not_taken;
    } else if (t.kind == Transfer::Kind::Call && n.kind == NodeKind::Call) {
      nodes_[k].succ = resolve(t.next);
    }
  }

  const hostcode::Region& r_;
  const hostcode::Prologue& pro_;
  int32_t pc_disp_;
  uint64_t exit_stub_;
  uint64_t entry_;
  unsigned max_;
  bool ok_ = true;
  std::map<uint64_t, uint8_t> at_;
  std::vector<Node> nodes_;
  std::vector<Transfer> todo_;
};

}  // namespace

Descriptor build_descriptor(uint64_t code_addr, const std::vector<uint8_t>& code, uint64_t entry, DescKind kind,
                            uint64_t guest_pc, uint16_t icount, const hostcode::Prologue& prologue,
                            int32_t pc_env_disp, const BuildLimits& limits) {
  Descriptor d;
  d.host = entry;
  d.pc = guest_pc;
  d.kind = kind;
  d.icount = icount;
  d.code_size = uint32_t(code.size());
  hostcode::Region r(code_addr, code);
  uint64_t exit_stub = 0;
  if (kind == DescKind::Tb) {
    hostcode::TbCode tb(code_addr, code, pc_env_disp, prologue);
    exit_stub = tb.exit_request_stub();
  }
  bool ok = true;
  Builder b(r, prologue, pc_env_disp, exit_stub, entry, limits.max_nodes);
  d.nodes = b.build(ok);
  if (!ok || d.nodes.empty()) {
    Node bad;
    bad.kind = NodeKind::Invalid;
    bad.addr = entry;
    d.nodes.assign(1, bad);
  }
  return d;
}

std::string describe(const Descriptor& d) {
  std::ostringstream o;
  o << (d.kind == DescKind::Tb ? "tb " : "code ") << hex(d.host) << " pc " << hex(d.pc) << " icount " << d.icount
    << " nodes " << d.nodes.size() << "\n";
  for (size_t k = 0; k < d.nodes.size(); ++k) {
    const Node& n = d.nodes[k];
    o << "  " << k << ": " << node_kind_name(n.kind) << " @" << hex(n.addr) << " insns " << n.insns;
    if (n.kind == NodeKind::Cond) o << " taken->" << int(n.succ) << " not->" << int(n.alt);
    if (n.kind == NodeKind::Call) o << " ret +" << hex(n.ret) << " ->" << int(n.succ);
    if (n.kind == NodeKind::GotoPtr) o << " ret +" << hex(n.ret);
    if (n.kind == NodeKind::GotoTb) o << " slot " << int(n.slot);
    o << "\n";
  }
  return o.str();
}

}  // namespace xtu::driver
