// xtu_walk_core: the walker's flow core: up to WALK_WIDTH WalkerCore steps per cycle.
//
// The state of xtu::model::WalkerCore (the current line with its nodes, the walk state, the
// output event not yet taken) in registers, and one cycle of the step loop of the SystemC walker
// block (systemc/src/walker.cpp, Walker::seq()) around a chain of WalkWidth xtu_walk_step
// instances. Event sequencing, the CAM and the packet buffer are outside: the enclosing walker
// offers up to WalkWidth packets and the lookup answers and event effects; this module reports
// what the cycle did. Per cycle, in the order of Walker::seq():
//
//   1. the answer of the pending lookup (ans_valid_i: the line found, or not found; applied
//      only while a lookup is pending: WalkerCore::answer_lookup()), then a LINK/UNLINK's
//      link update (upd_valid_i: if the current line is upd_host_i, the links selected by
//      upd_we_i take upd_link0_i / upd_link1_i: WalkerCore::update_links() with the other
//      link kept), then a dropped line (drop_valid_i: drop_all_i (FLUSH) or the current line
//      is drop_host_i (INVALIDATE): WalkerCore::drop_line()). The walker never gives an
//      answer and an event in the same cycle; if both come they apply in this order;
//   2. the output register takes the core's pending output event if it is free (the record in
//      it leaves at the clock edge where out_valid_o and out_ready_i are high);
//   3. with step_en_i (the walker's "no lookup or event pending, no event due"; while a lookup
//      is pending a step only says need_lookup again, so lookup_req_o would repeat it): steps
//      w = 0 .. WalkWidth-1. Step w is offered candidate packet u, u = packets consumed by the
//      steps before it, if pkt_valid_i[u] (candidate u is in the buffer and every event up to
//      its offset is applied), else no packet. After each step the output register takes the
//      core's output if it is free. The chain ends after a step that needs a lookup, is
//      blocked by an output not taken, needs a packet, or did nothing;
//   4. the state after the last step is registered.
//
// Outputs of the cycle (combinational): pkt_used_o (candidates consumed: drop them),
// lookup_req_o with lookup_addr_o (the cycle ended at a new lookup: read the CAM, answer at a
// later cycle), need_packet_o (the last step needed a packet), stall_out_o / stall_pkt_o (the
// first step was blocked by the output / needed a packet without progress: the stall
// counters), has_output_o (an output event is still held in the core after the cycle), and
// the counter increments. Registered: out_valid_o / out_o, mode_o, have_line_o, line_o.
//
// clear_i is WalkerCore::reset() (CTRL.START, SOFT_RESET): the state, the line and the output
// register return to their reset values at the edge; nothing else happens in that cycle. One
// clock, synchronous active-low reset (docs/architecture.md).
module xtu_walk_core #(
  parameter int unsigned MaxNodes  = 32,  // MAX_NODES: nodes per line (at most 2^NodeW)
  parameter int unsigned WalkWidth = 3,   // WALK_WIDTH: steps per cycle
  localparam int unsigned UsedW    = $clog2(WalkWidth + 1),
  localparam int unsigned IncW     = $clog2(WalkWidth + 2)
) (
  input  logic                                     clk_i,
  input  logic                                     rst_ni,
  input  logic                                     clear_i,
  input  xtu_walk_pkg::walk_cfg_t                  cfg_i,

  // The answer of the pending lookup.
  input  logic                                     ans_valid_i,
  input  logic                                     ans_found_i,
  input  xtu_walk_pkg::walk_line_t                 ans_line_i,
  // node k at [k*NodeBits +: NodeBits]
  input  logic [MaxNodes*xtu_walk_pkg::NodeBits-1:0] ans_nodes_i,

  // Event effects on the current line.
  input  logic                                     upd_valid_i,
  input  logic [xtu_walk_pkg::AddrW-1:0]           upd_host_i,
  input  logic [1:0]                               upd_we_i,    // bit s: link s takes upd_link<s>_i
  input  logic [xtu_walk_pkg::AddrW-1:0]           upd_link0_i,
  input  logic [xtu_walk_pkg::AddrW-1:0]           upd_link1_i,
  input  logic                                     drop_valid_i,
  input  logic                                     drop_all_i,
  input  logic [xtu_walk_pkg::AddrW-1:0]           drop_host_i,

  // The steps: candidate packets in trace order.
  input  logic                                     step_en_i,
  input  logic [WalkWidth-1:0]                     pkt_valid_i,
  // packet k at [k*PktBits +: PktBits]
  input  logic [WalkWidth*xtu_walk_pkg::PktBits-1:0] pkt_i,
  output logic [UsedW-1:0]                         pkt_used_o,
  output logic                                     lookup_req_o,
  output logic [xtu_walk_pkg::AddrW-1:0]           lookup_addr_o,
  output logic                                     need_packet_o,
  output logic                                     stall_out_o,
  output logic                                     stall_pkt_o,
  output logic                                     has_output_o,

  // The output register (one walker output per cycle).
  output logic                                     out_valid_o,
  output xtu_walk_pkg::walk_out_t                  out_o,
  input  logic                                     out_ready_i,

  // Counter increments of the cycle (WalkerCore::nodes(), decode_errors(), walk_errors(),
  // overflows(), context_switches()).
  output logic [IncW-1:0]                          inc_nodes_o,
  output logic [IncW-1:0]                          inc_dec_err_o,
  output logic [IncW-1:0]                          inc_walk_err_o,
  output logic [IncW-1:0]                          inc_ovf_o,
  output logic [IncW-1:0]                          inc_ctx_sw_o,

  // The walk state (registered).
  output xtu_walk_pkg::mode_e                      mode_o,
  output logic                                     have_line_o,
  output xtu_walk_pkg::walk_line_t                 line_o
);

  localparam int unsigned AddrW = xtu_walk_pkg::AddrW;
  localparam int unsigned NB    = xtu_walk_pkg::NodeBits;
  localparam int unsigned PB    = xtu_walk_pkg::PktBits;

  // Registers.
  xtu_walk_pkg::walk_state_t               st_d, st_q;        // the walk state
  xtu_walk_pkg::walk_line_t                line_d, line_q;    // the current line
  logic [MaxNodes*NB-1:0]                  nodes_d, nodes_q;  // and its nodes
  logic                                    ho_d, ho_q;        // the core holds an output event
  xtu_walk_pkg::walk_out_t                 pend_d, pend_q;    // (WalkerCore::has_output())
  logic                                    out_valid_d, out_valid_q;  // the output register
  xtu_walk_pkg::walk_out_t                 out_d, out_q;

  // 1. and 2.: answer, events, output register; what the first step sees.
  xtu_walk_pkg::walk_state_t st_a;
  logic                      ho_a;
  xtu_walk_pkg::walk_out_t   pend_a;
  logic                      ov_a;     // output register full
  xtu_walk_pkg::walk_out_t   or_a;
  logic                      ans_err;  // no entry point at the looked-up address
  always_comb begin
    st_a    = st_q;
    ho_a    = ho_q;
    pend_a  = pend_q;
    line_d  = line_q;
    nodes_d = nodes_q;
    ans_err = 1'b0;
    if (ans_valid_i && st_q.mode == xtu_walk_pkg::ModeLookupPending) begin
      if (!ans_found_i) begin
        // No entry point there: WalkerCore::error(), a GAP at the last packet's offset. (No
        // output event is held while a lookup is pending: no step that emits starts one.)
        ans_err            = 1'b1;
        st_a.mode          = xtu_walk_pkg::ModeUnsynced;
        st_a.tnt_count     = '0;
        st_a.tnt_bits      = '0;
        st_a.have_line     = 1'b0;
        st_a.entry_pending = 1'b0;
        ho_a               = 1'b1;
        pend_a             = '0;
        pend_a.kind        = xtu_walk_pkg::OutGap;
        pend_a.value       = st_q.last_offset;
        pend_a.flags       = xtu_walk_pkg::GapDecode;
      end else begin
        line_d             = ans_line_i;
        nodes_d            = ans_nodes_i;
        st_a.have_line     = 1'b1;
        st_a.node          = '0;
        st_a.mode          = xtu_walk_pkg::ModeNode;
        st_a.entry_pending = ans_line_i.tb;  // reported once the next packet is known
      end
    end
    if (upd_valid_i && st_a.have_line && line_d.host == upd_host_i) begin
      if (upd_we_i[0]) line_d.link0 = upd_link0_i;
      if (upd_we_i[1]) line_d.link1 = upd_link1_i;
    end
    if (drop_valid_i && (drop_all_i || (st_a.have_line && line_d.host == drop_host_i))) begin
      // A flush or invalidation inside a line can only happen while tracing is off; in any
      // other state the position is lost.
      if (st_a.have_line) begin
        case (st_a.mode)
          xtu_walk_pkg::ModeOut, xtu_walk_pkg::ModeUnsynced, xtu_walk_pkg::ModePsbPlus,
          xtu_walk_pkg::ModeOvfWait, xtu_walk_pkg::ModeCallPge, xtu_walk_pkg::ModePtrPge: ;
          default: st_a.mode = xtu_walk_pkg::ModeOut;
        endcase
      end
      st_a.have_line = 1'b0;
    end
    ov_a = out_valid_q && !out_ready_i;  // the record held leaves at this edge if taken
    or_a = out_q;
    if (ho_a && !ov_a) begin
      or_a = pend_a;
      ov_a = 1'b1;
      ho_a = 1'b0;
    end
  end

  // 3. The chain: stage w is step w and the loop body after it; each stage hands the next the
  // state, the output event held and the output register, the packets consumed so far, whether
  // the loop goes on, the counter increments so far and the last step's lookup / need_packet.
  // (No struct member is accessed inside the generate blocks: Yosys 0.23 cannot.)
  for (genvar w = 0; w < WalkWidth; w++) begin : g_step
    xtu_walk_pkg::walk_state_t st_in, st_out;
    logic                      ho_in, ho_out;      // the core holds an output event
    xtu_walk_pkg::walk_out_t   pend_in, pend_out;
    logic                      ov_in, ov_out;      // output register full
    xtu_walk_pkg::walk_out_t   or_in, or_out;      // output register
    logic [UsedW-1:0]          used_in, used_out;  // candidates consumed
    logic                      act_in, act_out;    // this step runs / the next one does
    logic [IncW-1:0]           nodes_in, nodes_out, dec_in, dec_out, walk_in, walk_out;
    logic [IncW-1:0]           ovf_in, ovf_out, ctx_in, ctx_out;
    logic                      lk_in, lk_out, np_in, np_out;  // the last step that ran

    if (w == 0) begin : g_first
      assign st_in    = st_a;
      assign ho_in    = ho_a;
      assign pend_in  = pend_a;
      assign ov_in    = ov_a;
      assign or_in    = or_a;
      assign used_in  = '0;
      assign act_in   = step_en_i;
      assign nodes_in = '0;
      assign dec_in   = IncW'(ans_err);
      assign walk_in  = IncW'(ans_err);
      assign ovf_in   = '0;
      assign ctx_in   = '0;
      assign lk_in    = 1'b0;
      assign np_in    = 1'b0;
    end else begin : g_next
      assign st_in    = g_step[w-1].st_out;
      assign ho_in    = g_step[w-1].ho_out;
      assign pend_in  = g_step[w-1].pend_out;
      assign ov_in    = g_step[w-1].ov_out;
      assign or_in    = g_step[w-1].or_out;
      assign used_in  = g_step[w-1].used_out;
      assign act_in   = g_step[w-1].act_out;
      assign nodes_in = g_step[w-1].nodes_out;
      assign dec_in   = g_step[w-1].dec_out;
      assign walk_in  = g_step[w-1].walk_out;
      assign ovf_in   = g_step[w-1].ovf_out;
      assign ctx_in   = g_step[w-1].ctx_out;
      assign lk_in    = g_step[w-1].lk_out;
      assign np_in    = g_step[w-1].np_out;
    end

    // The candidate this step is offered: the first one not consumed yet.
    logic                    pv;
    xtu_walk_pkg::walk_pkt_t pk;
    always_comb begin
      pv = 1'b0;
      pk = pkt_i[0 +: PB];
      for (int unsigned k = 0; k <= w; k++) begin
        if (used_in == UsedW'(k)) begin
          pv = pkt_valid_i[k];
          pk = pkt_i[k*PB +: PB];
        end
      end
    end

    xtu_walk_pkg::walk_state_t s_st;
    logic                      s_consumed, s_advanced, s_emitted, s_need_lookup, s_need_packet;
    logic                      s_blocked, s_nodes, s_dec, s_walk, s_ovf, s_ctx;
    xtu_walk_pkg::walk_out_t   s_out;
    logic [AddrW-1:0]          s_lookup_addr;
    xtu_walk_step #(
      .MaxNodes (MaxNodes)
    ) u_step (
      .cfg_i          (cfg_i),
      .st_i           (st_in),
      .has_out_i      (ho_in),
      .line_i         (line_d),
      .nodes_i        (nodes_d),
      .pkt_valid_i    (pv),
      .pkt_i          (pk),
      .st_o           (s_st),
      .consumed_o     (s_consumed),
      .advanced_o     (s_advanced),
      .emitted_o      (s_emitted),
      .need_lookup_o  (s_need_lookup),
      .need_packet_o  (s_need_packet),
      .blocked_o      (s_blocked),
      .out_o          (s_out),
      .lookup_addr_o  (s_lookup_addr),
      .inc_nodes_o    (s_nodes),
      .inc_dec_err_o  (s_dec),
      .inc_walk_err_o (s_walk),
      .inc_ovf_o      (s_ovf),
      .inc_ctx_sw_o   (s_ctx)
    );
    logic unused_lookup_addr;  // = the lookup address in s_st
    assign unused_lookup_addr = ^s_lookup_addr;

    // The loop body of Walker::seq() after core_.step().
    always_comb begin
      st_out    = st_in;
      ho_out    = ho_in;
      pend_out  = pend_in;
      ov_out    = ov_in;
      or_out    = or_in;
      used_out  = used_in;
      act_out   = 1'b0;
      nodes_out = nodes_in;
      dec_out   = dec_in;
      walk_out  = walk_in;
      ovf_out   = ovf_in;
      ctx_out   = ctx_in;
      lk_out    = lk_in;
      np_out    = np_in;
      if (act_in) begin
        st_out = s_st;
        if (s_emitted) begin  // (a step that emits found no event held: it was not blocked)
          ho_out   = 1'b1;
          pend_out = s_out;
        end
        if (s_consumed) used_out = used_in + UsedW'(1);
        if (ho_out && !ov_in) begin  // the output register takes it: one output per cycle
          or_out = pend_out;
          ov_out = 1'b1;
          ho_out = 1'b0;
        end
        act_out   = !(s_need_lookup || s_blocked || s_need_packet ||
                      !(s_consumed || s_advanced || s_emitted));
        nodes_out = nodes_in + IncW'(s_nodes);
        dec_out   = dec_in + IncW'(s_dec);
        walk_out  = walk_in + IncW'(s_walk);
        ovf_out   = ovf_in + IncW'(s_ovf);
        ctx_out   = ctx_in + IncW'(s_ctx);
        lk_out    = s_need_lookup;
        np_out    = s_need_packet;
      end
    end
  end

  logic unused_act;  // the loop ends after the last step anyway
  assign unused_act = g_step[WalkWidth-1].act_out;

  assign st_d        = g_step[WalkWidth-1].st_out;
  assign ho_d        = g_step[WalkWidth-1].ho_out;
  assign pend_d      = g_step[WalkWidth-1].pend_out;
  assign out_valid_d = g_step[WalkWidth-1].ov_out;
  assign out_d       = g_step[WalkWidth-1].or_out;

  // WalkerCore's state after reset().
  xtu_walk_pkg::walk_state_t st_reset;
  always_comb begin
    st_reset                 = '0;
    st_reset.mode            = xtu_walk_pkg::ModeUnsynced;
    st_reset.mode_before_psb = xtu_walk_pkg::ModeOut;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      st_q        <= st_reset;
      line_q      <= '0;
      nodes_q     <= '0;
      ho_q        <= 1'b0;
      pend_q      <= '0;
      out_valid_q <= 1'b0;
      out_q       <= '0;
    end else begin
      st_q        <= st_d;
      line_q      <= line_d;
      nodes_q     <= nodes_d;
      ho_q        <= ho_d;
      pend_q      <= pend_d;
      out_valid_q <= out_valid_d;
      out_q       <= out_d;
    end
  end

  assign pkt_used_o     = g_step[WalkWidth-1].used_out;
  assign lookup_req_o   = g_step[WalkWidth-1].lk_out;
  assign lookup_addr_o  = st_d.lookup_addr;
  assign need_packet_o  = g_step[WalkWidth-1].np_out;
  assign stall_out_o    = step_en_i && g_step[0].s_blocked;
  assign stall_pkt_o    = step_en_i && g_step[0].s_need_packet && !g_step[0].s_advanced &&
                          !g_step[0].s_consumed;
  assign has_output_o   = ho_d;
  assign out_valid_o    = out_valid_q;
  assign out_o          = out_q;
  assign inc_nodes_o    = g_step[WalkWidth-1].nodes_out;
  assign inc_dec_err_o  = g_step[WalkWidth-1].dec_out;
  assign inc_walk_err_o = g_step[WalkWidth-1].walk_out;
  assign inc_ovf_o      = g_step[WalkWidth-1].ovf_out;
  assign inc_ctx_sw_o   = g_step[WalkWidth-1].ctx_out;
  assign mode_o         = st_q.mode;
  assign have_line_o    = st_q.have_line;
  assign line_o         = line_q;

endmodule
