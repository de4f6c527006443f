// xtu_pt_pkg: Intel PT packet decoding, the definitions the pkt_decoder RTL shares.
//
// Sizes of the decode window and of every payload field, the packet types (values equal to
// xtu::model::PktType, systemc/include/xtu/model/pt_packet.hpp), the decode status, the IP
// compression codes (SDM table 32-5) and the last-IP status. Use the names fully qualified
// (xtu_pt_pkg::NAME): Yosys 0.23 does not take `import xtu_pt_pkg::*`.
package xtu_pt_pkg;

  // Sizes shared by the pkt_decoder's modules: each module uses only some of them.
  // verilator lint_off UNUSEDPARAM

  // The decode window: a PSB (16 bytes) is the longest packet; decode_packet() never looks
  // further (a CYC is known to be malformed at its 10th byte, MNT is 11 bytes, MWAIT 10).
  localparam int unsigned WinBytes = 16;
  localparam int unsigned WinW     = 8 * WinBytes;
  localparam int unsigned AvailW   = 5;  // avail 0..WinBytes (larger values mean WinBytes)
  localparam int unsigned SizeW    = 5;  // packet size 1..WinBytes

  // Payload field widths.
  localparam int unsigned IpcW        = 3;   // FUP/TIP*: IPBytes
  localparam int unsigned IpW         = 64;  // FUP/TIP*: raw payload (up to 8 bytes); last IP
  localparam int unsigned TntMaxBits  = 47;  // TNT-64: up to 47 branches (TNT-8: 6)
  localparam int unsigned TntCntW     = 6;   // number of TNT bits, 1..47
  localparam int unsigned PaW         = 52;  // PIP CR3, VMCS base: physical address bits 51..0
  localparam int unsigned TscW        = 56;  // TSC: 7 bytes
  localparam int unsigned CtcW        = 16;  // TMA: CTC bits 15..0
  localparam int unsigned FcW         = 9;   // TMA: fast counter
  localparam int unsigned CycW        = 61;  // CYC: 5 bits + 8 extension bytes of 7 bits
  localparam int unsigned MntW        = 64;  // MNT: 8 bytes
  localparam int unsigned MwaitW      = 32;  // MWAIT: EAX hints, ECX extensions
  localparam int unsigned CstateW     = 4;   // PWRE/PWRX: C-state fields
  localparam int unsigned PtwPlcW     = 2;   // PTW: payload size code
  localparam int unsigned PtwW        = 64;  // PTW: 4 or 8 bytes
  // verilator lint_on UNUSEDPARAM

  // The packet types: the values of xtu::model::PktType (the test checks every one).
  // PktInvalid is the 8-byte packet the SKZ84 workaround reports for a TMA with reserved bits
  // set (and the type output when no packet was decoded).
  typedef enum logic [4:0] {
    PktInvalid  = 5'd0,
    PktPad      = 5'd1,
    PktPsb      = 5'd2,
    PktPsbend   = 5'd3,
    PktFup      = 5'd4,
    PktTip      = 5'd5,
    PktTipPge   = 5'd6,
    PktTipPgd   = 5'd7,
    PktTnt8     = 5'd8,
    PktTnt64    = 5'd9,
    PktModeExec = 5'd10,
    PktModeTsx  = 5'd11,
    PktPip      = 5'd12,
    PktVmcs     = 5'd13,
    PktCbr      = 5'd14,
    PktTsc      = 5'd15,
    PktTma      = 5'd16,
    PktMtc      = 5'd17,
    PktCyc      = 5'd18,
    PktStop     = 5'd19,
    PktOvf      = 5'd20,
    PktMnt      = 5'd21,
    PktExstop   = 5'd22,
    PktMwait    = 5'd23,
    PktPwre     = 5'd24,
    PktPwrx     = 5'd25,
    PktPtw      = 5'd26
  } pkt_type_e;

  // What decode_packet() returns: a size (> 0), 0 (too short to tell: need more bytes), or
  // one of its two errors.
  typedef enum logic [1:0] {
    DecPacket        = 2'd0,  // a packet of size_o bytes
    DecNeedMore      = 2'd1,  // avail is too short to tell
    DecUnknownOpcode = 2'd2,  // no packet starts with these opcode bytes
    DecBadPacket     = 2'd3   // a known opcode with a malformed payload
  } dec_status_e;

  // IP compression (IPBytes of FUP/TIP/TIP.PGE/TIP.PGD); 5 and 7 are reserved.
  localparam logic [IpcW-1:0] IpcSuppressed = 3'd0;  // no payload
  localparam logic [IpcW-1:0] IpcUpdate16   = 3'd1;  // replace IP[15:0]
  localparam logic [IpcW-1:0] IpcUpdate32   = 3'd2;  // replace IP[31:0]
  localparam logic [IpcW-1:0] IpcSext48     = 3'd3;  // IP = payload sign-extended from bit 47
  localparam logic [IpcW-1:0] IpcUpdate48   = 3'd4;  // replace IP[47:0]
  localparam logic [IpcW-1:0] IpcFull       = 3'd6;  // IP = payload

  // The last IP's state (xtu::model::LastIp::Status).
  typedef enum logic [1:0] {
    LastIpOk         = 2'd0,  // an IP is known
    LastIpNoIp       = 2'd1,  // no IP since the reset
    LastIpSuppressed = 2'd2   // the last IP packet suppressed it
  } last_ip_status_e;

  // True for the reserved IPBytes values (5, 7).
  function automatic logic ipc_reserved(logic [IpcW-1:0] ipc);
    ipc_reserved = (ipc == 3'd5) || (ipc == 3'd7);
  endfunction

  // Payload bytes an ipc carries: 0, 2, 4, 6 or 8 (0 for the reserved values too).
  function automatic logic [3:0] ipc_payload_bytes(logic [IpcW-1:0] ipc);
    case (ipc)
      IpcUpdate16:              ipc_payload_bytes = 4'd2;
      IpcUpdate32:              ipc_payload_bytes = 4'd4;
      IpcSext48, IpcUpdate48:   ipc_payload_bytes = 4'd6;
      IpcFull:                  ipc_payload_bytes = 4'd8;
      IpcSuppressed:            ipc_payload_bytes = 4'd0;
      default:                  ipc_payload_bytes = 4'd0;  // reserved
    endcase
  endfunction

  // The bits of the payload an ipc carries (0 for suppressed and reserved): a mask over IpW.
  function automatic logic [IpW-1:0] ipc_payload_mask(logic [IpcW-1:0] ipc);
    case (ipc)
      IpcUpdate16:              ipc_payload_mask = {{(IpW-16){1'b0}}, {16{1'b1}}};
      IpcUpdate32:              ipc_payload_mask = {{(IpW-32){1'b0}}, {32{1'b1}}};
      IpcSext48, IpcUpdate48:   ipc_payload_mask = {{(IpW-48){1'b0}}, {48{1'b1}}};
      IpcFull:                  ipc_payload_mask = {IpW{1'b1}};
      IpcSuppressed:            ipc_payload_mask = '0;
      default:                  ipc_payload_mask = '0;  // reserved
    endcase
  endfunction

endpackage
