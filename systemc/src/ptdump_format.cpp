// ptdump-format packet listing (see ptdump_format.hpp).
#include "xtu/model/ptdump_format.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace xtu::model {

namespace {

// ptdump prints each column with snprintf into a fixed buffer; longer text is cut there.
// These are the characters each column can hold.
constexpr size_t kOpcodeMax = 9, kPayloadMax = 24, kTntPayloadMax = 47, kTrackIdMax = 4,
                 kTrackPayloadMax = 16, kRawMax = 32;

std::string fmt(size_t max, const char* f, ...) __attribute__((format(printf, 2, 3)));
std::string fmt(size_t max, const char* f, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  std::string s(buf);
  if (s.size() > max) s.resize(max);
  return s;
}

std::string pad_right(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

uint64_t parse_u64(const std::string& option, const std::string& arg, uint64_t max) {
  if (arg.empty() || arg.rfind("--", 0) == 0) throw std::invalid_argument(option + ": missing argument");
  errno = 0;
  char* rest = nullptr;
  const unsigned long long v = std::strtoull(arg.c_str(), &rest, 0);
  if (errno || *rest) throw std::invalid_argument(option + ": bad argument: " + arg);
  if (v > max) throw std::invalid_argument(option + ": value too big: " + arg);
  return v;
}

// The IP payload as ptdump prints it: "<ipc>: <16 hex digits>", with '?' for the bytes the
// packet does not give (update forms) and sext-48 shown sign-extended.
std::string ip_payload(const Packet& p) {
  switch (p.ipc) {
    case kIpcSuppressed: return fmt(kPayloadMax, "%x: ????????????????", p.ipc);
    case kIpcUpdate16: return fmt(kPayloadMax, "%x: ????????????%04" PRIx64, p.ipc, p.ip);
    case kIpcUpdate32: return fmt(kPayloadMax, "%x: ????????%08" PRIx64, p.ipc, p.ip);
    case kIpcUpdate48: return fmt(kPayloadMax, "%x: ????%012" PRIx64, p.ipc, p.ip);
    case kIpcSext48: {
      const uint64_t ip = (p.ip & (uint64_t{1} << 47)) ? (p.ip | ~uint64_t{0xffffffffffff}) : (p.ip & 0xffffffffffff);
      return fmt(kPayloadMax, "%x: %016" PRIx64, p.ipc, ip);
    }
    default: return fmt(kPayloadMax, "%x: %016" PRIx64, p.ipc, p.ip);
  }
}

// TNT bits, oldest first: '!' taken, '.' not taken.
std::string tnt_payload(const Packet& p) {
  std::string s;
  for (unsigned b = p.tnt_bits; b > 0 && s.size() < kTntPayloadMax; --b)
    s += (p.tnt >> (b - 1)) & 1 ? '!' : '.';
  return s;
}

const char* exec_mode_name(const Packet& p) {
  if (p.csl) return p.csd ? "unknown" : "64-bit";
  return p.csd ? "32-bit" : "16-bit";
}

// PWRX wake reason: exactly one of the three bits is expected.
const char* pwrx_reason(const Packet& p) {
  const char* wr = nullptr;
  if (p.pwrx_interrupt) wr = "int";
  if (p.pwrx_store) {
    if (wr) return "bad";
    wr = " st";
  }
  if (p.pwrx_autonomous) {
    if (wr) return "bad";
    wr = " hw";
  }
  return wr ? wr : "bad";
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Options

PtdumpOptions parse_ptdump_options(const std::vector<std::string>& args) {
  PtdumpOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + ": missing argument");
      return args[++i];
    };
    if (a == "--no-sync") o.no_sync = true;
    else if (a == "--quiet") o.quiet = true;
    else if (a == "--no-pad") o.no_pad = true;
    else if (a == "--no-timing") o.no_timing = true;
    else if (a == "--no-cyc") o.no_cyc = true;
    else if (a == "--no-offset") o.show_offset = false;
    else if (a == "--raw") o.raw = true;
    else if (a == "--lastip") o.lastip = true;
    else if (a == "--exec-mode") o.exec_mode = true;
    else if (a == "--time") {
      if (o.tcal) throw std::invalid_argument("specify either --time or --tcal");
      o.time = true;
    } else if (a == "--tcal") {
      if (o.time) throw std::invalid_argument("specify either --time or --tcal");
      o.tcal = true;
    } else if (a == "--time-delta") o.time_delta = true;
    else if (a == "--no-tcal") o.no_tcal = true;
    else if (a == "--no-wall-clock") o.no_wall_clock = true;
    else if (a == "--keep-tcal-on-ovf") o.keep_tcal_on_ovf = true;
    else if (a == "--mtc-freq") o.time_config.mtc_freq = uint8_t(parse_u64(a, value(), UINT8_MAX));
    else if (a == "--nom-freq") o.time_config.nom_freq = uint8_t(parse_u64(a, value(), UINT8_MAX));
    else if (a == "--cpuid-0x15.eax") o.time_config.cpuid_15_eax = uint32_t(parse_u64(a, value(), UINT32_MAX));
    else if (a == "--cpuid-0x15.ebx") o.time_config.cpuid_15_ebx = uint32_t(parse_u64(a, value(), UINT32_MAX));
    else if (a == "--cpu") {
      const std::string v = value();
      if (v == "none") {
        o.have_cpu = false;
        continue;
      }
      // f/m[/s], decimal.
      unsigned f = 0, m = 0, s = 0;
      char tail = 0;
      const int n = std::sscanf(v.c_str(), "%u/%u/%u%c", &f, &m, &s, &tail);
      if (!(n == 2 || n == 3) || f > 0xffff || m > 0xff || s > 0xff)
        throw std::invalid_argument("cpu must be specified as f/m[/s]: " + v);
      o.have_cpu = true;
      o.cpu_family = f;
      o.cpu_model = m;
      o.cpu_stepping = n == 3 ? s : 0;
    } else {
      throw std::invalid_argument("unknown option: " + a);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------------
// Formatter

// One packet line being assembled (ptdump's ptdump_buffer).
struct PtdumpFormatter::Line {
  std::string offset, raw, opcode, payload, track_id, track_payload;
  bool skip = false, skip_time = false, skip_tcal = false;
};

PtdumpFormatter::PtdumpFormatter(const PtdumpOptions& opts) : opts_(opts) {
  if (opts_.have_cpu) cpu_unknown_ = !cpu_errata(opts_.cpu_family, opts_.cpu_model, errata_);
  opts_.time_config.skl168 = errata_.skl168;
  TimeKeeperOptions k;
  k.config = opts_.time_config;
  k.calibrate = !opts_.no_tcal;
  k.use_cyc = !opts_.no_cyc;
  k.keep_tcal_on_ovf = opts_.keep_tcal_on_ovf;
  keeper_ = TimeKeeper(k);
}

void PtdumpFormatter::begin(std::vector<std::string>& out) const {
  if (cpu_unknown_) out.push_back(diag(0, "failed to determine errata", "unknown cpu"));
}

std::string PtdumpFormatter::diag(uint64_t offset, const char* what, const char* errstr) {
  if (errstr) return fmt(SIZE_MAX, "[%" PRIx64 ": %s: %s]", offset, what, errstr);
  return fmt(SIZE_MAX, "[%" PRIx64 ": %s]", offset, what);
}

void PtdumpFormatter::decode_error(uint64_t offset, int code, std::vector<std::string>& out) const {
  out.push_back(diag(offset, "error decoding packet",
                     code == kDecodeUnknownOpcode ? "unknown opcode" : "unknown packet"));
}

void PtdumpFormatter::reset_tracking() {
  last_ip_.reset();
  keeper_.reset();
  last_tsc_ = 0;
  last_fcr_ = 0;
}

std::string PtdumpFormatter::render(const Line& l) const {
  std::string s;
  const char* sep = "";
  if (opts_.show_offset) {
    s += pad_right(l.offset, 17);
    sep = " ";
  }
  if (!l.raw.empty()) {
    s += sep + pad_right(l.raw, 33);
    sep = " ";
  }
  s += sep;
  s += l.payload.empty() ? l.opcode : pad_right(l.opcode, 10);
  if (!l.track_id.empty()) {
    s += " " + pad_right(l.payload, 25) + " " + pad_right(l.track_id, 5) + l.track_payload;
  } else if (!l.payload.empty()) {
    s += " " + l.payload;
  }
  return s;
}

void PtdumpFormatter::track_last_ip(Line& l, uint64_t offset, const Packet& pkt,
                                    std::vector<std::string>& out) {
  l.track_id = "ip";
  last_ip_.update(pkt.ipc, pkt.ip);  // decode_packet only yields valid ipc values
  uint64_t ip = 0;
  switch (last_ip_.query(&ip)) {
    case LastIp::kOk: l.track_payload = fmt(kTrackPayloadMax, "%016" PRIx64, ip); break;
    case LastIp::kSuppressed: l.track_payload = "<suppressed>"; break;
    case LastIp::kNoIp:
      l.track_payload = "<unavailable>";
      out.push_back(diag(offset, "error tracking last-ip", "no ip"));
      break;
  }
}

void PtdumpFormatter::print_time(Line& l, uint64_t offset, std::vector<std::string>& out) {
  l.track_id = "tsc";
  uint64_t tsc = 0;
  if (keeper_.tsc(&tsc) != TimeStatus::kOk && !opts_.no_wall_clock) {
    out.push_back(diag(offset, "error printing time", time_status_str(TimeStatus::kNoTime)));
    l.track_payload = "<unavailable>";
    return;
  }
  if (opts_.time_delta) {
    l.track_payload = last_tsc_ <= tsc ? fmt(kTrackPayloadMax, "+%" PRIx64, tsc - last_tsc_)
                                       : fmt(kTrackPayloadMax, "-%" PRIx64, last_tsc_ - tsc);
    last_tsc_ = tsc;
  } else {
    l.track_payload = fmt(kTrackPayloadMax, "%016" PRIx64, tsc);
  }
}

void PtdumpFormatter::print_tcal(Line& l, uint64_t offset, std::vector<std::string>& out) {
  l.track_id = "fcr";
  uint64_t fcr = 0;
  const TimeStatus st = keeper_.fcr(&fcr);
  if (st != TimeStatus::kOk) {
    l.track_payload = "<unavailable>";
    out.push_back(diag(offset, "error printing time", time_status_str(st)));
    return;
  }
  // The FCR is printed as a number with its fraction bits.
  const double d = double(fcr) / double(uint64_t{1} << kFcrShift);
  if (opts_.time_delta) {
    const double old = double(last_fcr_) / double(uint64_t{1} << kFcrShift);
    l.track_payload = fmt(kTrackPayloadMax, "%+.3f", d - old);
    last_fcr_ = fcr;
  } else {
    l.track_payload = fmt(kTrackPayloadMax, "%.3f", d);
  }
}

void PtdumpFormatter::track_time(Line& l, uint64_t offset, std::vector<std::string>& out) {
  if (opts_.tcal && !l.skip_tcal) print_tcal(l, offset, out);
  if (opts_.time && !l.skip_time) print_time(l, offset, out);
}

bool PtdumpFormatter::packet(uint64_t offset, const Packet& pkt, const uint8_t* raw, size_t raw_avail,
                             std::vector<std::string>& out) {
  Line l;
  l.offset = fmt(16, "%016" PRIx64, offset);
  if (opts_.raw) {
    if (pkt.size > raw_avail) {
      out.push_back(diag(offset, "bad packet size", "unknown packet"));
      return false;
    }
    for (size_t i = 0; i < pkt.size && l.raw.size() < kRawMax; ++i) l.raw += fmt(2, "%02x", raw[i]);
  }
  // Time bookkeeping (TimeKeeper), then its diagnostics in libipt's order, and the time columns
  // of a timing packet.
  TimeKeeper::Effect te;
  if (opts_.track_time()) te = keeper_.apply(pkt);
  auto time_columns = [&]() {
    if (!te.timing) return;
    if (te.calibration != TimeStatus::kOk)
      out.push_back(diag(offset, "error calibrating time", time_status_str(te.calibration)));
    if (te.fcr_query != TimeStatus::kOk) out.push_back(diag(offset, "calibration error", time_status_str(te.fcr_query)));
    if (te.update != TimeStatus::kOk) out.push_back(diag(offset, "error updating time", time_status_str(te.update)));
    if (te.cyc_uncalibrated) out.push_back(diag(offset, "error updating time: no calibration", nullptr));
    l.skip_time = !te.moves_time;
    l.skip_tcal = !te.calibrates;
    track_time(l, offset, out);
  };
  l.opcode = fmt(kOpcodeMax, "%s", pkt_name(pkt.type));

  switch (pkt.type) {
    case PktType::kInvalid:
    case PktType::kStop:
      break;
    case PktType::kPsb:
    case PktType::kPsbend:
      break;
    case PktType::kPad:
      l.skip = opts_.no_pad;
      break;
    case PktType::kOvf:
      break;
    case PktType::kFup:
    case PktType::kTip:
    case PktType::kTipPge:
    case PktType::kTipPgd:
      l.payload = ip_payload(pkt);
      if (opts_.lastip) track_last_ip(l, offset, pkt, out);
      break;
    case PktType::kPip:
      l.payload = fmt(kPayloadMax, "%" PRIx64 "%s", pkt.cr3, pkt.nr ? ", nr" : "");
      l.track_id = "cr3";
      l.track_payload = fmt(kTrackPayloadMax, "%016" PRIx64, pkt.cr3);
      break;
    case PktType::kVmcs:
      l.payload = fmt(kPayloadMax, "%" PRIx64, pkt.vmcs);
      l.track_id = "vmcs";
      l.track_payload = fmt(kTrackPayloadMax, "%016" PRIx64, pkt.vmcs);
      break;
    case PktType::kTnt8:
    case PktType::kTnt64:
      l.payload = tnt_payload(pkt);
      break;
    case PktType::kModeExec: {
      const char* csd = pkt.csd ? "cs.d" : "";
      const char* csl = pkt.csl ? "cs.l" : "";
      l.payload = fmt(kPayloadMax, "%s%s%s", csd, (*csd && *csl) ? ", " : "", csl);
      if (opts_.exec_mode) {
        l.track_id = "em";
        l.track_payload = exec_mode_name(pkt);
      }
      break;
    }
    case PktType::kModeTsx: {
      const char* intx = pkt.intx ? "intx" : "";
      const char* abrt = pkt.abrt ? "abrt" : "";
      l.payload = fmt(kPayloadMax, "%s%s%s", intx, (*intx && *abrt) ? ", " : "", abrt);
      break;
    }
    case PktType::kTsc:
      l.payload = fmt(kPayloadMax, "%" PRIx64, pkt.tsc);
      time_columns();
      l.skip = opts_.no_timing;
      break;
    case PktType::kCbr:
      l.payload = fmt(kPayloadMax, "%x", pkt.cbr);
      time_columns();  // a CBR does not move the time
      l.skip = opts_.no_timing;
      break;
    case PktType::kTma:
      l.payload = fmt(kPayloadMax, "%x, %x", pkt.tma_ctc, pkt.tma_fc);
      time_columns();  // a TMA does not calibrate
      l.skip = opts_.no_timing;
      break;
    case PktType::kMtc:
      l.payload = fmt(kPayloadMax, "%x", pkt.mtc_ctc);
      time_columns();
      l.skip = opts_.no_timing;
      break;
    case PktType::kCyc:
      l.payload = fmt(kPayloadMax, "%" PRIx64, pkt.cyc);
      time_columns();  // the CYC's own count calibrates at the next MTC/TSC
      l.skip = opts_.no_timing || opts_.no_cyc;
      break;
    case PktType::kMnt:
      l.payload = fmt(kPayloadMax, "%" PRIx64, pkt.mnt);
      break;
    case PktType::kExstop:
      l.payload = pkt.exstop_ip ? "ip" : "";
      break;
    case PktType::kMwait:
      l.payload = fmt(kPayloadMax, "%08x, %08x", pkt.mwait_hints, pkt.mwait_ext);
      break;
    case PktType::kPwre:
      l.payload = fmt(kPayloadMax, "c%u.%u%s", (pkt.pwre_state + 1u) & 0xf, (pkt.pwre_sub_state + 1u) & 0xf,
                      pkt.pwre_hw ? ", hw" : "");
      break;
    case PktType::kPwrx:
      l.payload = fmt(kPayloadMax, "%s: c%u, c%u", pwrx_reason(pkt), (pkt.pwrx_last + 1u) & 0xf,
                      (pkt.pwrx_deepest + 1u) & 0xf);
      break;
    case PktType::kPtw:
      l.payload = fmt(kPayloadMax, "%x: %" PRIx64 "%s", pkt.ptw_plc, pkt.ptw, pkt.ptw_ip ? ", ip" : "");
      break;
  }
  if (!l.skip && !opts_.quiet) out.push_back(render(l));
  return true;
}

// ------------------------------------------------------------------------------------------
// Driver

std::vector<std::string> ptdump_listing(const std::vector<uint8_t>& trace, const PtdumpOptions& opts) {
  std::vector<std::string> out;
  PtdumpFormatter f(opts);
  f.begin(out);
  const DecodeErrata errata = f.decode_errata();
  const uint8_t* data = trace.data();
  const size_t size = trace.size();

  size_t pos = 0, sync = 0;
  if (!opts.no_sync) {
    const int64_t s = psb_search_forward(data, size, 0);
    if (s < 0) return out;  // no PSB: nothing to list
    pos = sync = size_t(s);
  }
  for (;;) {
    // Decode until the end of the trace (done) or an error (resynchronise).
    for (;;) {
      if (pos == size) return out;
      if (pos > size) {
        // Only after an SKZ84 <invalid> packet whose skipped 8th byte is past the end: libipt's
        // decoder, now beyond the trace, reports itself out of sync (and finds no PSB after).
        out.push_back(PtdumpFormatter::diag(pos, "error decoding packet", "decoder out of sync"));
        break;
      }
      Packet pkt;
      const int n = decode_packet(data + pos, size - pos, pkt, errata);
      if (n == 0) return out;  // truncated by the end of the trace
      if (n < 0) {
        f.decode_error(pos, n, out);
        break;
      }
      const bool printed = f.packet(pos, pkt, data + pos, size - pos, out);
      pos += size_t(n);  // (ptdump's decoder has moved past the packet even if printing failed)
      if (!printed) break;
    }
    // Resynchronise: search from up to 15 bytes before the failing packet (a PSB it overlapped
    // is found), past the current sync point's PSB if the failure is right there.
    size_t start = pos == sync ? pos + kPsbSize : pos;
    start -= start < kPsbSize ? start : kPsbSize - 1;
    if (start > size) {  // libipt: a search start outside the trace is an internal error
      out.push_back(PtdumpFormatter::diag(0, "sync error", "internal error"));
      return out;
    }
    const int64_t s = psb_search_forward(data, size, start);
    if (s < 0) return out;
    pos = sync = size_t(s);
    f.reset_tracking();
  }
}

}  // namespace xtu::model
