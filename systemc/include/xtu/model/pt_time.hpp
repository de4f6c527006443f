// Time tracking from Intel PT timing packets: the unit's timing block.
//
// The time kept is an estimate of the TSC at each timing packet, the way libipt 2.0.5 keeps it
// (pt_time / pt_time_cal), so that records carry the time the golden model reports and
// `xtu packets --time/--tcal` reproduces ptdump's columns.
//
// The sources, from coarse to fine:
//   TSC  the full time-stamp counter: the time is exactly this value.
//   TMA  follows a TSC (in PSB+): the low 16 bits of the crystal clock counter (CTC) and the
//        fast counter (FC, in TSC ticks) elapsed since the last CTC edge, both at the TSC.
//   MTC  every 2^mtc_freq crystal ticks: CTC bits [mtc_freq+7 : mtc_freq].
//   CYC  core cycles since the previous CYC-eligible packet.
//   CBR  the core:bus ratio (core clock = CBR × bus clock).
// Units: one crystal (CTC) tick is cpuid[0x15].ebx / cpuid[0x15].eax TSC ticks. Core cycles
// become TSC ticks through the "fast counter ratio" FCR (TSC ticks per cycle, fixed point with
// kFcrShift fraction bits), which has to be calibrated (TimeCalibration).
//
// TimeTracker (the estimate):
//   * A TSC sets time = base = TSC and forgets the CTC/FC state.
//   * A TMA moves base back by its FC, to the CTC edge before the TSC, and remembers its CTC
//     bits. If MTC's CTC bits all fit in TMA's 16 (mtc_freq + 8 ≤ 16) the TMA counts as an MTC;
//     otherwise the next MTC's high bits are used to complete the TMA's CTC (assuming no MTC
//     was lost in between; a borrow when the MTC's low bits are below the TMA's).
//   * An MTC's CTC minus the previous MTC's (or TMA's) CTC, corrected for one wrap of the
//     mtc_freq+8 bit counter, converted to TSC ticks, advances base; time = base and the
//     CYC-accumulated FC restarts at 0. MTCs between a TSC and its TMA are ignored, and so is
//     the first MTC when no TMA gave a reference (there is nothing to measure it against).
//   * A CYC adds cyc × FCR to FC; time = base + FC. Without an FCR it is counted as lost and
//     the time does not move. If the CYC is the first of an MTC period but the previous CYC was
//     in an earlier period, its count also covers those earlier MTC periods: their length
//     (converted to cycles with the FCR) is taken off first (never below 0).
//   * A CBR is remembered (it feeds the calibration).
// TimeCalibration (the FCR):
//   * With the nominal frequency ratio P1 known (MSR_PLATFORM_INFO), a CBR gives
//     FCR = P1 / CBR. A CBR outside PSB+ is a frequency change: all calibration restarts.
//   * Between two MTCs with CYCs in between: FCR = (their CTC distance in TSC ticks) / (the
//     cycles counted). With no CYC in between, the next MTC measures the combined period.
//   * Between two TSCs, the second in PSB+ (a TSC outside PSB+ may follow a loss of time and
//     only restarts the count): FCR = TSC distance / cycles, unless MTCs calibrate.
//   * SKL168 (CYC and MTC can be dropped just before a PSB): the first MTC after a PSB does not
//     calibrate if more than one MTC period passed since the last MTC, or (MTC frequency < 10,
//     FCR known) if the cycles look one CYC wrap (4096 cycles) short.
//   * An OVF loses the counts in flight (ptdump restarts the calibration entirely).
#pragma once

#include <cstdint>

#include "xtu/model/pt_packet.hpp"

namespace xtu::model {

// Fixed-point fraction bits of the fast counter ratio (libipt's pt_tcal_fcr_shr).
inline constexpr unsigned kFcrShift = 8;

// What the decoder has to be told about the tracing configuration.
struct TimeConfig {
  uint8_t mtc_freq = 0;         // IA32_RTIT_CTL.MTCFreq: MTC every 2^mtc_freq crystal ticks
  uint8_t nom_freq = 0;         // MSR_PLATFORM_INFO[15:8], the nominal (P1) ratio; 0: unknown
  uint32_t cpuid_15_eax = 0;    // CPUID.15H:EAX, TSC/crystal ratio denominator (0: unknown)
  uint32_t cpuid_15_ebx = 0;    // CPUID.15H:EBX, TSC/crystal ratio numerator (0: unknown)
  bool skl168 = false;          // apply the SKL168 erratum workaround
};

// Results of time updates (as libipt's error codes, for ptdump's diagnostics).
enum class TimeStatus : uint8_t {
  kOk,
  kNoTime,      // "no timing information": no TSC yet / no calibration yet
  kBadPacket,   // "unknown packet": a value that cannot be (CBR 0, CTC going back twice)
  kBadContext,  // "unexpected packet context": TMA without TSC, or a second TMA
  kBadConfig,   // "bad configuration": the CTC→TSC ratio is unknown (cpuid 0x15 is 0)
  kInternal,    // "internal error": a state libipt also rejects (overflowing calibration)
};

// libipt's message for a status (pt_errstr).
const char* time_status_str(TimeStatus s);

class TimeTracker {
public:
  void reset() { *this = TimeTracker{}; }

  TimeStatus update_tsc(uint64_t tsc);
  TimeStatus update_cbr(uint8_t ratio);
  TimeStatus update_tma(uint16_t ctc, uint16_t fc, const TimeConfig& cfg);
  TimeStatus update_mtc(uint8_t ctc, const TimeConfig& cfg);
  // fcr: the calibration at this CYC (0: none; the CYC is lost).
  TimeStatus update_cyc(uint64_t cyc, const TimeConfig& cfg, uint64_t fcr);

  // The estimated TSC; kNoTime if there was no TSC yet (*tsc is then the time relative to the
  // start, ptdump's --no-wall-clock).
  TimeStatus query_tsc(uint64_t* tsc) const;
  bool have_cbr() const { return have_cbr_; }
  uint8_t cbr() const { return cbr_; }
  uint32_t lost_mtc() const { return lost_mtc_; }
  uint32_t lost_cyc() const { return lost_cyc_; }

private:
  TimeStatus adjust_cyc(uint64_t* cyc, const TimeConfig& cfg, uint64_t fcr) const;

  uint64_t tsc_ = 0;    // the current estimate
  uint64_t base_ = 0;   // the estimate at the last TSC/MTC (the CTC edge), before CYCs
  uint64_t fc_ = 0;     // TSC ticks added by CYCs (and TMA's FC) since base
  uint32_t ctc_ = 0;    // CTC of the last MTC/TMA (mtc_freq+8 bits)
  uint32_t ctc_cyc_ = 0;  // CTC of the MTC period the last CYC belongs to
  uint32_t lost_mtc_ = 0, lost_cyc_ = 0;
  uint8_t cbr_ = 0;
  bool have_tsc_ = false, have_cbr_ = false, have_tma_ = false, have_mtc_ = false;
};

class TimeCalibration {
public:
  void reset() { *this = TimeCalibration{}; }

  // The current FCR; kNoTime until one was computed.
  TimeStatus fcr(uint64_t* fcr) const;
  bool have_fcr() const { return min_fcr_ <= max_fcr_; }

  void update_psb(const TimeConfig& cfg);
  // in_header: the packet is inside PSB+ (between PSB and PSBEND).
  TimeStatus update_tsc(uint64_t tsc, bool in_header);
  TimeStatus update_cbr(uint8_t ratio, bool in_header, const TimeConfig& cfg);
  TimeStatus update_mtc(uint8_t ctc, const TimeConfig& cfg);
  void update_cyc(uint64_t cyc);
  // Keeps the FCR but drops the counts in flight (libipt's pt_tcal_update_ovf).
  void update_ovf();

private:
  void set_fcr(uint64_t fcr);

  uint64_t fcr_ = 0;
  uint64_t min_fcr_ = UINT64_MAX, max_fcr_ = 0;
  uint64_t tsc_ = 0;      // the last TSC (0: none to calibrate against)
  uint64_t cyc_tsc_ = 0;  // cycles since that TSC
  uint64_t cyc_mtc_ = 0;  // cycles since the last MTC
  uint32_t ctc_ = 0;      // CTC of the last MTC
  uint32_t lost_mtc_ = 0;
  bool have_mtc_ = false;
  bool check_skl168_ = false;
};

// How packets drive the time tracker and the calibration, as libipt's decoders drive them: the
// one place that knows it (the ptdump listing and the unit's walker both use it).
//   PSB      starts a header (a TSC in it calibrates differently) and a calibration period
//   OVF      resets the calibration (unless keep_tcal_on_ovf)
//   TSC      calibrates, sets the time           CBR  calibrates, does not move the time
//   TMA      moves the time, does not calibrate  MTC  calibrates, moves the time
//   CYC      moves the time by cycles x FCR (0 if uncalibrated: the CYC is lost), does not
//            calibrate itself (its count does, at the next MTC/TSC)
struct TimeKeeperOptions {
  TimeConfig config;
  bool calibrate = true;          // false: --no-tcal (CYCs cannot be used)
  bool use_cyc = true;            // false: --no-cyc
  bool keep_tcal_on_ovf = false;
};

class TimeKeeper {
public:
  struct Effect {
    bool timing = false;            // TSC, CBR, TMA, MTC or a used CYC
    bool moves_time = false;        // the packet may change the time (not CBR)
    bool calibrates = false;        // the packet may change the calibration (not TMA, CYC)
    TimeStatus calibration = TimeStatus::kOk;  // from the calibration update
    TimeStatus update = TimeStatus::kOk;       // from the time update
    TimeStatus fcr_query = TimeStatus::kOk;    // CYC: reading the calibration
    bool cyc_uncalibrated = false;  // CYC used while no calibration exists (the CYC is lost)
  };

  explicit TimeKeeper(const TimeKeeperOptions& o = {}) : opts_(o) {}
  void reset() { *this = TimeKeeper(opts_); }
  Effect apply(const Packet& p);
  TimeStatus tsc(uint64_t* out) const { return time_.query_tsc(out); }
  TimeStatus fcr(uint64_t* out) const { return tcal_.fcr(out); }
  const TimeKeeperOptions& options() const { return opts_; }

private:
  TimeKeeperOptions opts_;
  TimeTracker time_;
  TimeCalibration tcal_;
  bool in_header_ = false;
};

}  // namespace xtu::model
