// The descriptor builder: a translated block's host code (decoded with Zydis, hostcode/) turned
// into the compact control-flow description the unit walks (docs/architecture.md, "TB
// descriptor"). One node per host control transfer the walker must follow; direct jumps inside
// the code are folded away; node 0 is the first transfer reached from the entry point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xtu/hostcode/tcg_code.hpp"

namespace xtu::driver {

enum class NodeKind : uint8_t {
  Cond = 1, GotoTb = 2, GotoPtr = 3, Call = 4, NoReturn = 5, Exit = 6, Dispatch = 7, Ret = 8, Invalid = 15,
};
const char* node_kind_name(NodeKind k);

struct Node {
  NodeKind kind = NodeKind::Invalid;
  uint8_t succ = 0;      // COND: taken; CALL: continuation after the return
  uint8_t alt = 0;       // COND: not taken
  uint8_t slot = 0;      // GOTO_TB
  uint16_t ret = 0;      // CALL, GOTO_PTR: return address - entry point
  uint16_t insns = 0;    // host instructions of the straight-line run ending with this transfer
  uint64_t addr = 0;     // host address of the transfer (builder output, not stored in memory)
  bool operator==(const Node& o) const {
    return kind == o.kind && succ == o.succ && alt == o.alt && slot == o.slot && ret == o.ret && insns == o.insns;
  }
};

enum class DescKind : uint8_t { Tb = 1, Code = 2 };

struct Descriptor {
  uint64_t host = 0;       // entry point
  uint64_t pc = 0;         // guest pc (TB), 0 for other code
  DescKind kind = DescKind::Tb;
  uint16_t icount = 0;     // guest instructions
  uint32_t code_size = 0;
  std::vector<Node> nodes;
};

struct BuildLimits {
  unsigned max_nodes = 32;  // the unit's MAX_NODES
};

// Build the descriptor of the code at `entry` inside `code` (which starts at `code_addr`). The
// result always has at least one node; code the builder cannot describe (undecodable bytes, a
// shape TCG does not produce, too many nodes) yields INVALID nodes, never an exception.
Descriptor build_descriptor(uint64_t code_addr, const std::vector<uint8_t>& code, uint64_t entry, DescKind kind,
                            uint64_t guest_pc, uint16_t icount, const hostcode::Prologue& prologue,
                            int32_t pc_env_disp, const BuildLimits& limits = {});

std::string describe(const Descriptor& d);

}  // namespace xtu::driver
