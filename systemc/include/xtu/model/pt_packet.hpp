// Intel PT packet decoding: the combinational core of the unit's pkt_decoder block.
//
// decode_packet() looks at the bytes at the head of the decoder's byte window and tells which
// packet starts there, how long it is and what its payload is. It is written the way the
// hardware computes it: a pure function of at most kMaxPacketWindow bytes (never of bytes
// past `avail`), no state, no allocation. The decoder block around it (byte window, last IP,
// PSB search when out of sync) and the software driver (ptdump_format.hpp) keep the state.
//
// The packet set and every accept/reject decision follow libipt 2.0.5's packet decoder (what
// its ptdump prints for the corpus in shared/libipt-corpus), including the order of its checks:
// a packet is "too short to tell" (0) exactly where libipt would report the end of the trace,
// so a streaming caller that waits for more bytes and a caller that sees the whole trace agree.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xtu::model {

// Every packet of the SDM that libipt 2.0.5 decodes, plus kInvalid: the packet the SKZ84
// erratum workaround reports for a TMA with reserved bits set (libipt's ppt_invalid).
enum class PktType : uint8_t {
  kInvalid,
  kPad,
  kPsb,
  kPsbend,
  kFup,
  kTip,
  kTipPge,
  kTipPgd,
  kTnt8,
  kTnt64,
  kModeExec,
  kModeTsx,
  kPip,
  kVmcs,
  kCbr,
  kTsc,
  kTma,
  kMtc,
  kCyc,
  kStop,
  kOvf,
  kMnt,
  kExstop,
  kMwait,
  kPwre,
  kPwrx,
  kPtw,
};

// ptdump's name of a packet type ("tip.pge", "mode.exec", "<invalid>", ...).
const char* pkt_name(PktType t);

// IP compression (the IPBytes field of FUP/TIP/TIP.PGE/TIP.PGD), SDM table 32-5.
enum IpCompression : uint8_t {
  kIpcSuppressed = 0,  // no payload: the IP is suppressed (out of context / filtered)
  kIpcUpdate16 = 1,    // 2 bytes: replace bits 15..0 of the last IP
  kIpcUpdate32 = 2,    // 4 bytes: replace bits 31..0
  kIpcSext48 = 3,      // 6 bytes: the IP is the payload sign-extended from bit 47
  kIpcUpdate48 = 4,    // 6 bytes: replace bits 47..0
  kIpcFull = 6,        // 8 bytes: the full IP
};

// Payload bytes an IP packet carries for `ipc`, or -1 for the reserved values 5 and 7.
int ip_payload_size(uint8_t ipc);

// A decoded packet. Only the fields of `type` are meaningful; decode_packet() zeroes the rest.
struct Packet {
  PktType type = PktType::kInvalid;
  uint8_t size = 0;  // bytes the packet occupies in the stream

  // FUP, TIP, TIP.PGE, TIP.PGD: the IPBytes field and the raw payload (ip_payload_size(ipc)
  // bytes, little-endian, not yet combined with the last IP: see LastIp).
  uint8_t ipc = 0;
  uint64_t ip = 0;

  // TNT-8, TNT-64: the number of branch bits (1..6 resp. 1..47) and the bits themselves, the
  // stop bit removed. The oldest branch is the most significant bit: bit tnt_bits-1 first,
  // bit 0 last. A set bit is "taken" (ptdump '!'), a clear one "not taken" ('.').
  uint8_t tnt_bits = 0;
  uint64_t tnt = 0;

  // MODE.Exec: CS.L and CS.D. MODE.TSX: InTX and TXAbort.
  bool csl = false, csd = false;
  bool intx = false, abrt = false;

  uint64_t cr3 = 0;        // PIP: CR3 (bits 51..5, the low 5 bits zero)
  bool nr = false;         // PIP: non-root (in a VM)
  uint64_t vmcs = 0;       // VMCS: the VMCS base address (bits 51..12)
  uint8_t cbr = 0;         // CBR: core:bus ratio
  uint64_t tsc = 0;        // TSC: the 56-bit time-stamp counter value
  uint16_t tma_ctc = 0;    // TMA: CTC bits 15..0 at the last TSC
  uint16_t tma_fc = 0;     // TMA: fast counter (9 bits) since the last TSC's CTC edge
  uint8_t mtc_ctc = 0;     // MTC: 8 CTC bits (CTC[N+7:N], N = the MTC frequency)
  uint64_t cyc = 0;        // CYC: cycle count since the last CYC-eligible packet
  uint64_t mnt = 0;        // MNT: 8 bytes of maintenance payload
  bool exstop_ip = false;  // EXSTOP: an FUP with the IP follows
  uint32_t mwait_hints = 0, mwait_ext = 0;  // MWAIT: EAX hints, ECX extensions
  uint8_t pwre_state = 0, pwre_sub_state = 0;  // PWRE: target C-state and sub-state
  bool pwre_hw = false;                         // PWRE: hardware-initiated
  uint8_t pwrx_last = 0, pwrx_deepest = 0;      // PWRX: last and deepest core C-state
  bool pwrx_interrupt = false, pwrx_store = false, pwrx_autonomous = false;  // PWRX wake reason
  uint8_t ptw_plc = 0;     // PTW: payload size code (0: 4 bytes, 1: 8 bytes)
  uint64_t ptw = 0;        // PTW: the PTWRITE operand
  bool ptw_ip = false;     // PTW: an FUP with the IP follows
};

// Errata workarounds that change packet decoding (see pt_errata.hpp for the CPU table).
struct DecodeErrata {
  // SKZ84 (VMX TSC scaling/offsetting corrupts packets): a TMA whose reserved bits are set is
  // reported as an 8-byte kInvalid packet instead of a bad packet.
  bool skz84 = false;
};

// decode_packet() results besides a size (> 0) and 0 ("too short to tell").
enum DecodeError : int {
  kDecodeUnknownOpcode = -1,  // no packet starts with these opcode bytes (ptdump: "unknown opcode")
  kDecodeBadPacket = -2,      // a known opcode with a malformed payload (ptdump: "unknown packet")
};

// The most bytes decode_packet() looks at: a PSB (16 bytes) is the longest packet; a CYC is
// known to be too long (bad) at its 10th byte; MNT is 11 bytes, MWAIT 10, everything else ≤ 8.
inline constexpr size_t kMaxPacketWindow = 16;

// Decodes the packet starting at p[0], looking at no more than min(avail, kMaxPacketWindow)
// bytes. Returns:
//   > 0  the packet's size; `out` holds it. The size never exceeds avail, with one exception:
//        the SKZ84 kInvalid packet is 8 bytes once its 7 TMA bytes are seen (libipt skips the
//        8th byte unseen; if the trace ends before it, ptdump's decoder finds itself past the
//        end and reports "decoder out of sync", see ptdump_listing()).
//   0    avail is too short to tell: supply more bytes, or at the end of the trace the packet
//        is truncated (ptdump then ends the listing silently).
//   kDecodeUnknownOpcode / kDecodeBadPacket.
// A null p is allowed when avail is 0.
int decode_packet(const uint8_t* p, size_t avail, Packet& out, const DecodeErrata& errata = {});

// IP reconstruction: combines the compressed IP of FUP/TIP/TIP.PGE/TIP.PGD packets with the
// last IP, as libipt does (pt_last_ip): update-16/32/48 replace the low bits of the last IP,
// sext-48 sign-extends bit 47, full replaces it, suppressed (ipc 0) marks the IP suppressed
// without changing the last IP, which a later update form builds on again. The decoder block
// resets it at every PSB (the SDM: compression restarts at PSB) and on resynchronisation.
class LastIp {
public:
  enum Status { kOk, kNoIp, kSuppressed };
  void reset() { ip_ = 0; have_ip_ = false; suppressed_ = false; }
  // Applies a packet's ipc and raw payload. Returns false for a reserved ipc (5, 7): nothing
  // changes then.
  bool update(uint8_t ipc, uint64_t raw_ip);
  // kOk: *ip is the reconstructed IP. kNoIp: no IP since the reset. kSuppressed: the last
  // packet suppressed it. *ip is 0 unless kOk.
  Status query(uint64_t* ip) const;
  uint64_t raw() const { return ip_; }

private:
  uint64_t ip_ = 0;
  bool have_ip_ = false;
  bool suppressed_ = false;
};

// PSB detection.
inline constexpr size_t kPsbSize = 16;
// True if the kPsbSize bytes at p (avail of them readable) are a PSB: 02 82 repeated 8 times.
bool is_psb(const uint8_t* p, size_t avail);

// Synchronisation search, with libipt's semantics (pt_sync_forward on an 8-byte aligned
// buffer): the trace is scanned in 8-byte words at offsets that are multiples of 8; a word
// made only of the PSB pattern (82 02 82 02 ... or 02 82 02 82 ...) marks a run of 02 82
// pairs, and the candidate is the PSB that ends where that run ends. A candidate that is a
// complete PSB at offset ≥ from is the answer; otherwise the scan goes on at the next word.
// Returns the PSB's offset, or -1 if there is none (the end of the trace).
// (In a run of more than 8 pairs this picks the last 16 bytes of the run, not the first.)
int64_t psb_search_forward(const uint8_t* data, size_t size, size_t from);

}  // namespace xtu::model
