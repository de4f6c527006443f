// xtu_walk_pkg: the walker's flow core, the definitions its modules share.
//
// The types of xtu::model::WalkerCore (systemc/include/xtu/model/walker_core.hpp): the packet
// the walker sees (WalkPacket), a node and a TB line (WalkNode, WalkLine), the modes
// (WalkerCore::Mode, same values), an output event (WalkOut), the configuration (WalkerConfig)
// and the state one WalkerCore::step() reads and writes. Use the names fully qualified
// (xtu_walk_pkg::NAME): Yosys 0.23 does not take `import xtu_walk_pkg::*`.
//
// Field widths are those of the hardware that produces the values, not the model's C++ types:
// TNT bits and count, CR3 and VMCS as xtu_pkt_decode gives them (xtu_pt_pkg: 47 bits, 6-bit
// count, 52-bit physical addresses), node indices and the return offset as the node layout
// holds them (xtu_reg_pkg: 5 and 16 bits), the GAP reason in 2 bits (1 OVF, 2 decode, 3 no
// sync). The model holds these in wider integers; for every value the hardware can produce the
// two agree (the test drives only such values). Addresses, IPs, trace offsets and the time are
// 64 bits, as in the model and the registers.
//
// The time is part of the packet and of the state: which packet's time a BLOCK carries (the
// last packet the walker consumed before it reached the TB: libipt's last_time) is decided by
// the flow core, so it is implemented and checked here rather than left to the formatter.
// WalkPacket::mode64 (MODE.Exec's CS.L) is left out: the walker does not use it.
package xtu_walk_pkg;

  // Widths. Those marked "=" are literals because Yosys 0.23 does not take a package's name in
  // another package; xtu_walk_step checks them against the named constants at elaboration
  // (TNT: xtu_pt_pkg::TntMaxBits, TntCntW; CR3/VMCS: xtu_pt_pkg::PaW; node fields:
  // xtu_reg_pkg::XTU_NODE_{SUCC,ALT,RET,KIND}_WIDTH).
  // verilator lint_off UNUSEDPARAM
  localparam int unsigned AddrW    = 64;  // host addresses, IPs, guest pc
  localparam int unsigned OffW     = 64;  // trace offsets
  localparam int unsigned TimeW    = 64;  // TSC estimate
  localparam int unsigned TntW     = 47;  // = TNT bits (TNT-64: up to 47)
  localparam int unsigned TntCntW  = 6;   // = TNT bit count
  localparam int unsigned CtxW     = 52;  // = PIP CR3, VMCS base
  localparam int unsigned CfgCtxW  = 64;  // TARGET_CR3, TARGET_VMCS registers
  localparam int unsigned NodeW    = 5;   // = node index (succ, alt)
  localparam int unsigned NodeCntW = NodeW + 1;  // node count 0..2^NodeW
  localparam int unsigned RetW     = 16;  // = return offset from the entry point
  localparam int unsigned KindW    = 4;   // = node kind
  localparam int unsigned IcountW  = 16;  // guest instructions of a TB
  localparam int unsigned FlagsW   = 8;   // output flags (record FLAGS)
  localparam int unsigned ReasonW  = 2;   // Error packet: GAP reason
  // verilator lint_on UNUSEDPARAM

  // Bits of the structs below. Arrays of them travel as flat vectors (element k at bits
  // [k*Bits +: Bits], as a packed array would hold them): Yosys 0.23 drops the packed
  // dimension of an array of a struct type. xtu_walk_step checks these against $bits().
  // verilator lint_off UNUSEDPARAM
  localparam int unsigned PktBits  = 4 + OffW + AddrW + 1 + TntW + TntCntW + CtxW + 1 + CtxW +
                                     ReasonW + TimeW + 1;
  localparam int unsigned NodeBits = KindW + 2 * NodeW + 1 + RetW;
  // verilator lint_on UNUSEDPARAM

  // WalkPacket::Kind (same values).
  typedef enum logic [3:0] {
    PkTnt      = 4'd0,
    PkTip      = 4'd1,
    PkTipPge   = 4'd2,
    PkTipPgd   = 4'd3,
    PkFup      = 4'd4,
    PkPsb      = 4'd5,
    PkPsbend   = 4'd6,
    PkOvf      = 4'd7,
    PkPip      = 4'd8,
    PkVmcs     = 4'd9,
    PkModeExec = 4'd10,
    PkOther    = 4'd11,
    PkError    = 4'd12,  // the decoder lost synchronisation (reason: 2 decode error, 3 no sync)
    PkEnd      = 4'd13
  } pkt_kind_e;

  // WalkerCore::Mode (same values).
  typedef enum logic [3:0] {
    ModeUnsynced      = 4'd0,   // before the first PSB, or after a decode error
    ModePsbPlus       = 4'd1,   // between PSB and PSBEND
    ModeOut           = 4'd2,   // tracing off (or no position): wait for TIP.PGE
    ModeNode          = 4'd3,   // at node `node` of the current line
    ModeCallPgd       = 4'd4,   // helper call: TIP.PGD, then
    ModeCallPge       = 4'd5,   //   TIP.PGE at the return address
    ModePtrPgd        = 4'd6,   // goto_ptr: TIP.PGD,
    ModePtrPge        = 4'd7,   //   TIP.PGE,
    ModePtrTip        = 4'd8,   //   TIP(target)
    ModeDispatchTip   = 4'd9,   // jmp *reg: TIP(target)
    ModeWaitPgd       = 4'd10,  // leaving the code buffer: TIP.PGD
    ModeOvfWait       = 4'd11,  // after OVF: FUP or TIP.PGE
    ModeLookupPending = 4'd12   // a lookup was requested; waiting for its answer
  } mode_e;

  // WalkOut::Kind (same values; the record kinds BLOCK, GAP, CONTEXT).
  typedef enum logic [1:0] {
    OutNone    = 2'd0,
    OutBlock   = 2'd1,
    OutGap     = 2'd2,
    OutContext = 2'd3
  } out_kind_e;

  // GAP reasons (output flags of a GAP).
  // verilator lint_off UNUSEDPARAM
  localparam logic [FlagsW-1:0] GapOvf    = 8'd1;
  localparam logic [FlagsW-1:0] GapDecode = 8'd2;
  // verilator lint_on UNUSEDPARAM

  // WalkPacket without mode64.
  typedef struct packed {
    pkt_kind_e            kind;
    logic [OffW-1:0]      offset;      // trace offset of the packet
    logic [AddrW-1:0]     ip;          // TIP*, FUP: reconstructed IP
    logic                 ip_valid;    // 0: IP suppressed
    logic [TntW-1:0]      tnt_bits;    // TNT: first branch in bit tnt_count-1
    logic [TntCntW-1:0]   tnt_count;
    logic [CtxW-1:0]      cr3;         // PIP
    logic                 nr;          // PIP
    logic [CtxW-1:0]      vmcs;        // VMCS
    logic [ReasonW-1:0]   reason;      // Error: GAP reason (0 means decode error)
    logic [TimeW-1:0]     tsc;         // TSC estimate once this packet is decoded
    logic                 tsc_valid;
  } walk_pkt_t;

  // WalkNode. The kind is a node_kind value (xtu_reg_pkg::xtu_node_kind_e) or anything else
  // (INVALID and undefined kinds are decode errors); only bit 0 of the slot is used.
  typedef struct packed {
    logic [KindW-1:0]     kind;
    logic [NodeW-1:0]     succ;
    logic [NodeW-1:0]     alt;
    logic                 slot;
    logic [RetW-1:0]      ret;
  } walk_node_t;

  // WalkLine without its nodes (they travel as an array of MAX_NODES walk_node_t beside it).
  typedef struct packed {
    logic                 tb;          // entering node 0 is a guest block
    logic [AddrW-1:0]     host;        // entry point
    logic [AddrW-1:0]     pc;          // guest pc
    logic [IcountW-1:0]   icount;
    logic [NodeCntW-1:0]  n;           // nodes; node indices >= n walk off the descriptor
    logic [AddrW-1:0]     link0;       // goto_tb slot 0 target, 0 = not linked
    logic [AddrW-1:0]     link1;       // goto_tb slot 1 target
  } walk_line_t;

  // WalkOut.
  typedef struct packed {
    out_kind_e            kind;
    logic [AddrW-1:0]     value;       // BLOCK: pc; GAP: trace offset; CONTEXT: CR3
    logic [IcountW-1:0]   icount;
    logic [FlagsW-1:0]    flags;       // GAP: reason; CONTEXT: bit 0 traced, bit 1 NR
    logic [TimeW-1:0]     tsc;         // BLOCK: libipt's time of the TB's first instruction
    logic                 tsc_valid;
  } walk_out_t;

  // WalkerConfig.
  typedef struct packed {
    logic                 ctx_filter;
    logic [CfgCtxW-1:0]   target_cr3;
    logic [CfgCtxW-1:0]   target_vmcs;  // 0: any
    logic                 ctx_records;
  } walk_cfg_t;

  // The state WalkerCore::step() reads and writes, apart from the current line (walk_line_t
  // and its nodes, which only answer_lookup and the events change) and the output event not
  // taken yet (WalkerCore::has_output(), take_output(): a flag and a walk_out_t beside it).
  typedef struct packed {
    mode_e                mode;
    logic                 have_line;
    logic [NodeW-1:0]     node;
    logic                 entry_pending;    // at node 0 of a TB whose BLOCK is not reported yet
    logic [TntW-1:0]      tnt_bits;
    logic [TntCntW-1:0]   tnt_count;
    logic [AddrW-1:0]     expect_ip;        // return address awaited (CallPge, PtrPge)
    logic [NodeW-1:0]     cont_node;        // CALL: node after the return
    logic [AddrW-1:0]     lookup_addr;
    logic                 psb_fup;          // a FUP with an IP was seen in this PSB+
    logic [AddrW-1:0]     psb_fup_ip;
    mode_e                mode_before_psb;
    logic [TimeW-1:0]     flow_time;        // time of the last consumed packet (libipt's last_time)
    logic                 flow_time_valid;
    logic [CtxW-1:0]      cr3;
    logic [CtxW-1:0]      vmcs;
    logic                 nr;
    logic                 have_cr3;
    logic [OffW-1:0]      last_offset;      // offset of the last packet used (a walk error's GAP)
  } walk_state_t;

  // WalkerCore::in_context().
  function automatic logic in_context(logic ctx_filter, logic [CfgCtxW-1:0] target_cr3,
                                      logic [CfgCtxW-1:0] target_vmcs, logic have_cr3,
                                      logic [CtxW-1:0] cr3, logic [CtxW-1:0] vmcs);
    in_context = !ctx_filter || !have_cr3 ||
                 ({{(CfgCtxW-CtxW){1'b0}}, cr3} == target_cr3 &&
                  (target_vmcs == '0 || {{(CfgCtxW-CtxW){1'b0}}, vmcs} == target_vmcs));
  endfunction

endpackage
