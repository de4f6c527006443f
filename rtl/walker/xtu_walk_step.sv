// xtu_walk_step: one step of the walker's flow core (purely combinational).
//
// The RTL of xtu::model::WalkerCore::step() (systemc/src/walker_core.cpp), with follow_node(),
// take_packet(), error(), emit() and request_lookup() inlined. From the state (st_i, and
// has_out_i: the core holds an output event not taken yet), the current line (line_i; nodes_i:
// MaxNodes walk_node_t, node k at bits [k*NodeBits +: NodeBits], the first line_i.n of them the
// line's nodes, the others never read), the next packet if one may be used (pkt_valid_i, pkt_i)
// and the configuration: the state after the step (st_o) and what the step did:
//
//   consumed_o     the packet was used: drop it from the input
//   advanced_o     a node was followed
//   emitted_o      an output event was produced: out_o (the core holds it until it is taken)
//   need_lookup_o  look up st_o.lookup_addr (= lookup_addr_o), then answer (xtu_walk_core)
//   need_packet_o  stopped: the next packet is needed
//   blocked_o      an earlier output event (has_out_i) was not taken yet: nothing done
//   inc_*_o        the model's counters this step increments: nodes, decode errors (the
//                  decoder's Error packets and walk errors), walk errors, overflows, context
//                  switches
//
// A step uses at most one packet, follows at most one node, emits at most one event and
// requests at most one lookup, as in the model. The line and its nodes are not changed by a
// step (only have_line is, in the state).
module xtu_walk_step #(
  parameter int unsigned MaxNodes = 32  // MAX_NODES: nodes per line (at most 2^NodeW)
) (
  input  xtu_walk_pkg::walk_cfg_t                  cfg_i,
  input  xtu_walk_pkg::walk_state_t                st_i,
  input  logic                                     has_out_i,  // an output event not taken yet
  input  xtu_walk_pkg::walk_line_t                 line_i,
  input  logic [MaxNodes*xtu_walk_pkg::NodeBits-1:0] nodes_i,
  input  logic                                     pkt_valid_i,
  input  xtu_walk_pkg::walk_pkt_t                  pkt_i,

  output xtu_walk_pkg::walk_state_t                st_o,
  output logic                                     consumed_o,
  output logic                                     advanced_o,
  output logic                                     emitted_o,
  output logic                                     need_lookup_o,
  output logic                                     need_packet_o,
  output logic                                     blocked_o,
  output xtu_walk_pkg::walk_out_t                  out_o,
  output logic [xtu_walk_pkg::AddrW-1:0]           lookup_addr_o,

  output logic                                     inc_nodes_o,
  output logic                                     inc_dec_err_o,
  output logic                                     inc_walk_err_o,
  output logic                                     inc_ovf_o,
  output logic                                     inc_ctx_sw_o
);

  localparam int unsigned AddrW   = xtu_walk_pkg::AddrW;
  localparam int unsigned OffW    = xtu_walk_pkg::OffW;
  localparam int unsigned CtxW    = xtu_walk_pkg::CtxW;
  localparam int unsigned TntCntW = xtu_walk_pkg::TntCntW;
  localparam int unsigned FlagsW  = xtu_walk_pkg::FlagsW;
  localparam int unsigned RetW    = xtu_walk_pkg::RetW;
  localparam int unsigned NB      = xtu_walk_pkg::NodeBits;

  // The node at st_i.node (a mux over the line's nodes; an index at or past line_i.n, possibly
  // past MaxNodes, is never used: node_ok is then 0).
  xtu_walk_pkg::walk_node_t cur;
  logic                     node_ok;
  assign cur = nodes_i[st_i.node * NB +: NB];
  assign node_ok = st_i.have_line && ({1'b0, st_i.node} < line_i.n);

  // The widths xtu_walk_pkg gives as literals, against the constants they stand for.
  if (xtu_walk_pkg::TntW != xtu_pt_pkg::TntMaxBits ||
      xtu_walk_pkg::TntCntW != xtu_pt_pkg::TntCntW ||
      xtu_walk_pkg::CtxW != xtu_pt_pkg::PaW ||
      xtu_walk_pkg::NodeW != xtu_reg_pkg::XTU_NODE_SUCC_WIDTH ||
      xtu_walk_pkg::NodeW != xtu_reg_pkg::XTU_NODE_ALT_WIDTH ||
      xtu_walk_pkg::RetW != xtu_reg_pkg::XTU_NODE_RET_WIDTH ||
      xtu_walk_pkg::KindW != xtu_reg_pkg::XTU_NODE_KIND_WIDTH) begin : g_width_check
    $error("xtu_walk_pkg widths differ from xtu_pt_pkg / xtu_reg_pkg");
  end
  if ($bits(cur) != NB || $bits(pkt_i) != xtu_walk_pkg::PktBits) begin : g_bits_check
    $error("xtu_walk_pkg::NodeBits / PktBits differ from the structs");
  end
  if (MaxNodes < 1 || MaxNodes > (1 << xtu_walk_pkg::NodeW)) begin : g_max_nodes_check
    $error("MaxNodes must be 1..2^NodeW");
  end

  // The kinds the step tells apart.
  logic pk_tnt, pk_tip, pk_pge, pk_pgd, pk_fup, pk_psbend;
  assign pk_tnt    = pkt_i.kind == xtu_walk_pkg::PkTnt;
  assign pk_tip    = pkt_i.kind == xtu_walk_pkg::PkTip;
  assign pk_pge    = pkt_i.kind == xtu_walk_pkg::PkTipPge;
  assign pk_pgd    = pkt_i.kind == xtu_walk_pkg::PkTipPgd;
  assign pk_fup    = pkt_i.kind == xtu_walk_pkg::PkFup;
  assign pk_psbend = pkt_i.kind == xtu_walk_pkg::PkPsbend;

  // Once the TNT bits are used up, an OVF, a decoder error or a PSB waiting as the next packet
  // comes before the next node (docs/architecture.md, "asynchronous packets first").
  logic async_next;
  assign async_next = pkt_valid_i && (pkt_i.kind == xtu_walk_pkg::PkOvf ||
                                      pkt_i.kind == xtu_walk_pkg::PkError ||
                                      pkt_i.kind == xtu_walk_pkg::PkPsb);

  // Context values a PIP / VMCS packet would set, and the context before and after it.
  logic [CtxW-1:0] ctx_cr3, ctx_vmcs;
  logic            ctx_nr, ctx_have, ctx_changed, ctx_was_in, ctx_now_in, in_ctx;
  always_comb begin
    ctx_cr3     = (pkt_i.kind == xtu_walk_pkg::PkPip)  ? pkt_i.cr3  : st_i.cr3;
    ctx_vmcs    = (pkt_i.kind == xtu_walk_pkg::PkVmcs) ? pkt_i.vmcs : st_i.vmcs;
    ctx_nr      = (pkt_i.kind == xtu_walk_pkg::PkPip)  ? pkt_i.nr   : st_i.nr;
    ctx_have    = st_i.have_cr3 || (pkt_i.kind == xtu_walk_pkg::PkPip);
    ctx_changed = !st_i.have_cr3 || ctx_cr3 != st_i.cr3 || ctx_vmcs != st_i.vmcs ||
                  ctx_nr != st_i.nr;
    ctx_was_in  = xtu_walk_pkg::in_context(cfg_i.ctx_filter, cfg_i.target_cr3, cfg_i.target_vmcs,
                                              st_i.have_cr3, st_i.cr3, st_i.vmcs);
    ctx_now_in  = xtu_walk_pkg::in_context(cfg_i.ctx_filter, cfg_i.target_cr3, cfg_i.target_vmcs,
                                              ctx_have, ctx_cr3, ctx_vmcs);
  end
  assign in_ctx = ctx_was_in;

  // PSBEND: the mode before the PSB had a position (a periodic PSB+ inside the flow).
  logic positioned;
  always_comb begin
    case (st_i.mode_before_psb)
      xtu_walk_pkg::ModeNode, xtu_walk_pkg::ModeCallPgd, xtu_walk_pkg::ModePtrPgd,
      xtu_walk_pkg::ModePtrTip, xtu_walk_pkg::ModeDispatchTip, xtu_walk_pkg::ModeWaitPgd,
      xtu_walk_pkg::ModeCallPge, xtu_walk_pkg::ModePtrPge: positioned = 1'b1;
      default:                                               positioned = 1'b0;
    endcase
  end

  // line_i.tb matters only when a line is entered (xtu_walk_core).
  logic unused_tb;
  assign unused_tb = line_i.tb;

  // goto_tb: the link of the node's slot.
  logic [AddrW-1:0] link;
  assign link = cur.slot ? line_i.link1 : line_i.link0;

  // The TNT bit a COND node uses: bit count-1 of the bits (the state's, or the packet's when
  // the step absorbs a TNT packet).
  logic                          cond_absorb;  // COND without bits, a non-empty TNT packet
  logic [xtu_walk_pkg::TntW-1:0] cond_bits;
  logic [TntCntW-1:0]            cond_cnt;
  logic                          cond_taken;
  assign cond_absorb = st_i.tnt_count == '0 && pkt_valid_i && pk_tnt && pkt_i.tnt_count != '0;
  assign cond_bits   = cond_absorb ? pkt_i.tnt_bits  : st_i.tnt_bits;
  assign cond_cnt    = cond_absorb ? pkt_i.tnt_count : st_i.tnt_count;
  assign cond_taken  = cond_bits[cond_cnt - TntCntW'(1)];

  // The step.
  xtu_walk_pkg::walk_state_t st;
  logic                      consumed, advanced, need_lookup, need_packet, blocked;
  logic                      inc_nodes, inc_dec, inc_walk, inc_ovf, inc_ctx;
  logic                      hold, take;
  logic                      err;   // WalkerCore::error()
  logic [OffW-1:0]           err_off;
  logic                      lk;    // WalkerCore::request_lookup()
  logic [AddrW-1:0]          lk_addr;
  logic                      em;    // WalkerCore::emit()
  xtu_walk_pkg::walk_out_t   em_out;

  always_comb begin
    st          = st_i;
    consumed    = 1'b0;
    advanced    = 1'b0;
    need_lookup = 1'b0;
    need_packet = 1'b0;
    blocked     = 1'b0;
    inc_nodes   = 1'b0;
    inc_dec     = 1'b0;
    inc_walk    = 1'b0;
    inc_ovf     = 1'b0;
    inc_ctx     = 1'b0;
    hold        = 1'b0;
    take        = 1'b0;
    err         = 1'b0;
    err_off     = '0;
    lk          = 1'b0;
    lk_addr     = '0;
    em          = 1'b0;
    em_out      = '0;

    if (has_out_i) begin
      blocked = 1'b1;
    end else if (st_i.mode == xtu_walk_pkg::ModeLookupPending) begin
      need_lookup = 1'b1;
    end else if (st_i.mode == xtu_walk_pkg::ModeNode && !(st_i.tnt_count == '0 && async_next)) begin
      // At a node. A TB's first instruction reached: its BLOCK, once the next packet is known.
      if (st_i.entry_pending) begin
        if (!pkt_valid_i) begin
          need_packet = 1'b1;
          hold        = 1'b1;
        end else begin
          st.entry_pending  = 1'b0;
          em                = 1'b1;
          em_out.kind       = xtu_walk_pkg::OutBlock;
          em_out.value      = line_i.pc;
          em_out.icount     = line_i.icount;
          em_out.tsc        = st_i.flow_time;
          em_out.tsc_valid  = st_i.flow_time_valid;
        end
      end
      // follow_node(): at most one node.
      if (!hold) begin
        if (!node_ok) begin
          if (!em) begin
            err     = 1'b1;  // walked off the descriptor
            err_off = st_i.last_offset;
          end
        end else begin
          case (cur.kind)
            xtu_reg_pkg::XTU_NODE_KIND_COND: begin
              if (st_i.tnt_count == '0 && !pkt_valid_i) begin
                need_packet = 1'b1;
              end else if (st_i.tnt_count == '0 && !pk_tnt) begin
                take = !em;  // a non-TNT packet at a branch (next step if this one emitted)
              end else if (st_i.tnt_count == '0 && pkt_i.tnt_count == '0) begin
                if (!em) begin
                  err     = 1'b1;  // empty TNT
                  err_off = pkt_i.offset;
                end
              end else begin
                if (cond_absorb) begin  // absorb the TNT packet, use its first bit now
                  consumed             = 1'b1;
                  st.last_offset       = pkt_i.offset;
                  st.flow_time         = pkt_i.tsc;
                  st.flow_time_valid   = pkt_i.tsc_valid;
                end
                st.tnt_bits  = cond_bits;
                st.tnt_count = cond_cnt - TntCntW'(1);
                st.node      = cond_taken ? cur.succ : cur.alt;
                inc_nodes    = 1'b1;
                advanced     = 1'b1;
              end
            end
            xtu_reg_pkg::XTU_NODE_KIND_GOTO_TB: begin
              // Linked or not: decided once the next packet is known, and not in the step
              // that reported the BLOCK (a lookup never starts while an output is held).
              if (!pkt_valid_i) begin
                need_packet = 1'b1;
              end else if (!em) begin
                inc_nodes = 1'b1;
                advanced  = 1'b1;
                if (link != '0) begin
                  lk      = 1'b1;  // linked: straight into the next TB
                  lk_addr = link;
                end else begin
                  st.mode = xtu_walk_pkg::ModeWaitPgd;
                end
              end
            end
            xtu_reg_pkg::XTU_NODE_KIND_GOTO_PTR: begin
              st.expect_ip = line_i.host + {{(AddrW-RetW){1'b0}}, cur.ret};
              st.mode      = xtu_walk_pkg::ModePtrPgd;
              inc_nodes    = 1'b1;
              advanced     = 1'b1;
            end
            xtu_reg_pkg::XTU_NODE_KIND_CALL: begin
              st.expect_ip = line_i.host + {{(AddrW-RetW){1'b0}}, cur.ret};
              st.cont_node = cur.succ;
              st.mode      = xtu_walk_pkg::ModeCallPgd;
              inc_nodes    = 1'b1;
              advanced     = 1'b1;
            end
            xtu_reg_pkg::XTU_NODE_KIND_NORETURN, xtu_reg_pkg::XTU_NODE_KIND_EXIT,
            xtu_reg_pkg::XTU_NODE_KIND_RET: begin
              st.mode   = xtu_walk_pkg::ModeWaitPgd;
              inc_nodes = 1'b1;
              advanced  = 1'b1;
            end
            xtu_reg_pkg::XTU_NODE_KIND_DISPATCH: begin
              st.mode   = xtu_walk_pkg::ModeDispatchTip;
              inc_nodes = 1'b1;
              advanced  = 1'b1;
            end
            default: begin
              if (!em) begin
                err     = 1'b1;  // invalid node
                err_off = st_i.last_offset;
              end
            end
          endcase
        end
      end
    end else if (!pkt_valid_i) begin
      need_packet = 1'b1;
    end else begin
      take = 1'b1;
    end

    // take_packet(): the packet's effect in the current mode. Only reached when nothing above
    // changed the state.
    if (take) begin
      consumed           = 1'b1;
      st.last_offset     = pkt_i.offset;
      st.flow_time       = pkt_i.tsc;
      st.flow_time_valid = pkt_i.tsc_valid;
      case (pkt_i.kind)
        xtu_walk_pkg::PkOther, xtu_walk_pkg::PkModeExec, xtu_walk_pkg::PkEnd: ;
        xtu_walk_pkg::PkError: begin
          // The decoder lost synchronisation.
          inc_dec          = 1'b1;
          st.mode          = xtu_walk_pkg::ModeUnsynced;
          st.tnt_count     = '0;
          st.have_line     = 1'b0;
          st.entry_pending = 1'b0;
          em               = 1'b1;
          em_out.kind      = xtu_walk_pkg::OutGap;
          em_out.value     = pkt_i.offset;
          em_out.flags     = (pkt_i.reason != '0) ? FlagsW'(pkt_i.reason) : xtu_walk_pkg::GapDecode;
        end
        xtu_walk_pkg::PkPip, xtu_walk_pkg::PkVmcs: begin
          st.have_cr3 = ctx_have;
          st.cr3      = ctx_cr3;
          st.vmcs     = ctx_vmcs;
          st.nr       = ctx_nr;
          inc_ctx     = ctx_was_in != ctx_now_in;
          if (ctx_changed && cfg_i.ctx_records && ctx_have) begin
            em           = 1'b1;
            em_out.kind  = xtu_walk_pkg::OutContext;
            em_out.value = {{(AddrW-CtxW){1'b0}}, ctx_cr3};
            em_out.flags = {{(FlagsW-2){1'b0}}, ctx_nr, ctx_now_in};
          end
        end
        xtu_walk_pkg::PkOvf: begin
          // After a decode error only a PSB resynchronises.
          if (st_i.mode != xtu_walk_pkg::ModeUnsynced) begin
            inc_ovf          = 1'b1;
            st.mode          = xtu_walk_pkg::ModeOvfWait;
            st.tnt_count     = '0;
            st.tnt_bits      = '0;
            st.entry_pending = 1'b0;
            em               = 1'b1;
            em_out.kind      = xtu_walk_pkg::OutGap;
            em_out.value     = pkt_i.offset;
            em_out.flags     = xtu_walk_pkg::GapOvf;
          end
        end
        xtu_walk_pkg::PkPsb: begin
          if (st_i.mode == xtu_walk_pkg::ModePsbPlus) begin
            // a second PSB in a PSB+: nothing
          end else if (st_i.tnt_count != '0 && st_i.mode != xtu_walk_pkg::ModeUnsynced) begin
            err     = 1'b1;  // TNT bits left at a PSB
            err_off = pkt_i.offset;
          end else begin
            st.mode_before_psb = st_i.mode;
            st.mode            = xtu_walk_pkg::ModePsbPlus;
            st.psb_fup         = 1'b0;
          end
        end
        default: begin
          // TNT, TIP, TIP.PGE, TIP.PGD, FUP, PSBEND: by mode.
          if (st_i.mode == xtu_walk_pkg::ModeUnsynced) begin
            // dropped until a PSB
          end else if (st_i.mode == xtu_walk_pkg::ModePsbPlus) begin
            if (pk_fup) begin
              st.psb_fup    = pkt_i.ip_valid;
              st.psb_fup_ip = pkt_i.ip;
            end else if (pk_psbend) begin
              if (positioned) begin
                st.mode = st_i.mode_before_psb;  // a periodic PSB+ inside the flow
              end else if (st_i.psb_fup && in_ctx) begin
                lk      = 1'b1;
                lk_addr = st_i.psb_fup_ip;
              end else begin
                st.mode = xtu_walk_pkg::ModeOut;
              end
            end else begin
              err     = 1'b1;  // control-flow packet inside PSB+
              err_off = pkt_i.offset;
            end
          end else if (!in_ctx) begin
            // control flow of another context: dropped
          end else if (pk_tnt) begin
            if (st_i.mode != xtu_walk_pkg::ModeNode || st_i.tnt_count != '0 ||
                pkt_i.tnt_count == '0) begin
              err     = 1'b1;  // unexpected TNT, empty TNT
              err_off = pkt_i.offset;
            end else begin
              st.tnt_bits  = pkt_i.tnt_bits;
              st.tnt_count = pkt_i.tnt_count;
            end
          end else if (st_i.tnt_count != '0) begin
            err     = 1'b1;  // TNT bits left at a TIP-class packet
            err_off = pkt_i.offset;
          end else begin
            case (st_i.mode)
              xtu_walk_pkg::ModeNode: begin
                // At a branch without bits: only a TIP.PGD (tracing stops there) fits.
                if (pk_pgd) begin
                  st.mode = xtu_walk_pkg::ModeOut;
                end else begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end
              end
              xtu_walk_pkg::ModeOut: begin
                if (pk_pge && pkt_i.ip_valid) begin
                  lk      = 1'b1;
                  lk_addr = pkt_i.ip;
                end else if (!pk_pgd) begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end
              end
              xtu_walk_pkg::ModeCallPgd, xtu_walk_pkg::ModePtrPgd, xtu_walk_pkg::ModeWaitPgd: begin
                if (!pk_pgd) begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end else if (st_i.mode == xtu_walk_pkg::ModeCallPgd) begin
                  st.mode = xtu_walk_pkg::ModeCallPge;
                end else if (st_i.mode == xtu_walk_pkg::ModePtrPgd) begin
                  st.mode = xtu_walk_pkg::ModePtrPge;
                end else begin
                  st.mode = xtu_walk_pkg::ModeOut;
                end
              end
              xtu_walk_pkg::ModeCallPge, xtu_walk_pkg::ModePtrPge: begin
                if (!pk_pge || !pkt_i.ip_valid) begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end else if (pkt_i.ip == st_i.expect_ip && st_i.have_line) begin
                  if (st_i.mode == xtu_walk_pkg::ModeCallPge) begin
                    st.node = st_i.cont_node;
                    st.mode = xtu_walk_pkg::ModeNode;
                  end else begin
                    st.mode = xtu_walk_pkg::ModePtrTip;
                  end
                end else begin
                  lk      = 1'b1;  // tracing resumed somewhere else
                  lk_addr = pkt_i.ip;
                end
              end
              xtu_walk_pkg::ModePtrTip, xtu_walk_pkg::ModeDispatchTip: begin
                if (pk_tip && pkt_i.ip_valid) begin
                  lk      = 1'b1;
                  lk_addr = pkt_i.ip;
                end else if (pk_pgd) begin
                  st.mode = xtu_walk_pkg::ModeOut;  // the indirect branch left the code buffer
                end else begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end
              end
              xtu_walk_pkg::ModeOvfWait: begin
                if ((pk_fup || pk_pge) && pkt_i.ip_valid) begin
                  lk      = 1'b1;
                  lk_addr = pkt_i.ip;
                end else begin
                  err     = 1'b1;
                  err_off = pkt_i.offset;
                end
              end
              default: begin
                err     = 1'b1;  // packet in a state that takes none
                err_off = pkt_i.offset;
              end
            endcase
          end
        end
      endcase
    end

    // error(), request_lookup(), emit(): at most one of error and lookup; an error emits.
    if (err) begin
      inc_dec          = 1'b1;
      inc_walk         = 1'b1;
      st.mode          = xtu_walk_pkg::ModeUnsynced;
      st.tnt_count     = '0;
      st.tnt_bits      = '0;
      st.have_line     = 1'b0;
      st.entry_pending = 1'b0;
      em               = 1'b1;
      em_out           = '0;
      em_out.kind      = xtu_walk_pkg::OutGap;
      em_out.value     = err_off;
      em_out.flags     = xtu_walk_pkg::GapDecode;
    end
    if (lk) begin
      st.lookup_addr = lk_addr;
      st.mode        = xtu_walk_pkg::ModeLookupPending;
      need_lookup    = 1'b1;
    end
  end

  assign st_o           = st;
  assign consumed_o     = consumed;
  assign advanced_o     = advanced;
  assign emitted_o      = em;
  assign need_lookup_o  = need_lookup;
  assign need_packet_o  = need_packet;
  assign blocked_o      = blocked;
  assign out_o          = em_out;
  assign lookup_addr_o  = st.lookup_addr;
  assign inc_nodes_o    = inc_nodes;
  assign inc_dec_err_o  = inc_dec;
  assign inc_walk_err_o = inc_walk;
  assign inc_ovf_o      = inc_ovf;
  assign inc_ctx_sw_o   = inc_ctx;

endmodule
