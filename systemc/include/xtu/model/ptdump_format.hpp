// The packet listing in libipt's ptdump format (`xtu packets`), and a software driver that
// produces it from a raw trace the way ptdump 2.0.5 does.
//
// PtdumpFormatter turns decoded packets (with their offsets and raw bytes) and decode errors
// into ptdump's lines; it keeps ptdump's tracking state (last IP, time, calibration) and does
// not care where the packets come from: ptdump_listing() below, or the SystemC decoder block.
//
// Line layout (ptdump's print_buffer): the offset as 16 hex digits in a 17-wide column, the raw
// bytes (--raw) in a 33-wide column, the packet name (10 wide when a payload follows), the
// payload (25 wide when a tracking column follows), the tracking column's name (5 wide: ip, tsc,
// fcr, cr3, vmcs, em) and its value. Diagnostics are lines of their own, printed before the
// packet's line: "[<hex offset>: <what>: <libipt error string>]".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xtu/model/pt_errata.hpp"
#include "xtu/model/pt_packet.hpp"
#include "xtu/model/pt_time.hpp"

namespace xtu::model {

// ptdump's options (those that change the listing).
struct PtdumpOptions {
  bool show_offset = true;     // cleared by --no-offset
  bool raw = false;            // --raw: the packet's bytes
  bool lastip = false;         // --lastip: the reconstructed IP on IP packets
  bool exec_mode = false;      // --exec-mode: the execution mode on mode.exec
  bool time = false;           // --time: the estimated TSC on timing packets
  bool tcal = false;           // --tcal: the calibration (FCR) on timing packets
  bool time_delta = false;     // --time-delta: time/FCR as the difference to the previous one
  bool no_tcal = false;        // --no-tcal: no calibration (CYCs cannot be used)
  bool no_wall_clock = false;  // --no-wall-clock: relative time before the first TSC
  bool no_cyc = false;         // --no-cyc: hide CYCs and ignore them for time
  bool no_timing = false;      // --no-timing: hide timing packets
  bool no_pad = false;         // --no-pad: hide PAD
  bool no_sync = false;        // --no-sync: start decoding at offset 0, not at the first PSB
  bool quiet = false;          // --quiet: only diagnostics
  bool keep_tcal_on_ovf = false;  // --keep-tcal-on-ovf: an OVF keeps the calibration
  TimeConfig time_config;      // --mtc-freq, --nom-freq, --cpuid-0x15.eax, --cpuid-0x15.ebx
  bool have_cpu = false;       // --cpu F/M[/S]: decode with that CPU's errata
  unsigned cpu_family = 0, cpu_model = 0, cpu_stepping = 0;

  bool track_time() const { return time || tcal; }
};

// Parses ptdump options ("--time", "--cpu", "6/78", "--nom-freq", "4", ...). Throws
// std::invalid_argument for an unknown option or a bad value (numbers as strtoull base 0).
PtdumpOptions parse_ptdump_options(const std::vector<std::string>& args);

class PtdumpFormatter {
public:
  explicit PtdumpFormatter(const PtdumpOptions& opts);

  // The errata the options select (all clear without --cpu or for an unknown CPU).
  const CpuErrata& errata() const { return errata_; }
  DecodeErrata decode_errata() const { DecodeErrata d; d.skz84 = errata_.skz84; return d; }

  // Lines ptdump prints before the listing: "[0: failed to determine errata: unknown cpu]" for
  // a --cpu libipt does not know.
  void begin(std::vector<std::string>& out) const;

  // A decoded packet at `offset`; raw[0..raw_avail) are the trace bytes from there (used for
  // --raw). Appends the diagnostics and the packet's line. Returns false if ptdump would give
  // up at this packet and resynchronise (only: --raw for a packet running past the trace end).
  bool packet(uint64_t offset, const Packet& pkt, const uint8_t* raw, size_t raw_avail,
              std::vector<std::string>& out);

  // A packet that could not be decoded (kDecodeUnknownOpcode / kDecodeBadPacket): ptdump's
  // "[<offset>: error decoding packet: unknown opcode]". The driver resynchronises next.
  void decode_error(uint64_t offset, int code, std::vector<std::string>& out) const;

  // A diagnostic line in ptdump's format; errstr may be null.
  static std::string diag(uint64_t offset, const char* what, const char* errstr);

  // After a resynchronisation ptdump forgets its tracking state.
  void reset_tracking();

private:
  struct Line;
  void track_last_ip(Line& line, uint64_t offset, const Packet& pkt, std::vector<std::string>& out);
  void track_time(Line& line, uint64_t offset, std::vector<std::string>& out);
  void print_time(Line& line, uint64_t offset, std::vector<std::string>& out);
  void print_tcal(Line& line, uint64_t offset, std::vector<std::string>& out);
  std::string render(const Line& line) const;

  PtdumpOptions opts_;
  CpuErrata errata_;
  bool cpu_unknown_ = false;
  // ptdump's tracking state.
  LastIp last_ip_;
  TimeKeeper keeper_;
  uint64_t last_tsc_ = 0;  // the previous printed time (--time-delta)
  uint64_t last_fcr_ = 0;  // the previous printed FCR (--time-delta)
};

// The whole listing of a trace, as ptdump prints it: sync at the first PSB (or offset 0 with
// --no-sync), decode packet by packet; on a decode error print it and resynchronise at the
// next PSB (searching from up to 15 bytes before the failing packet, so a PSB the bad packet
// overlapped is found), forgetting the tracking state; a packet cut by the end of the trace
// ends the listing silently.
std::vector<std::string> ptdump_listing(const std::vector<uint8_t>& trace, const PtdumpOptions& opts);

}  // namespace xtu::model
