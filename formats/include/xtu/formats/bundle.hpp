// A trace bundle: the directory `xtu capture` writes and every other tool reads.
//
//   DIR/bundle.json      this manifest
//   DIR/trace.pt         raw Intel PT bytes
//   DIR/events.xtev      the DBT event stream of the traced QEMU process
//   DIR/guest.txt        ground truth: QEMU's own executed guest blocks (guest trace text v1)
//   DIR/qemu/            QEMU's own files: jit-<pid>.dump, perf-<pid>.map (and logs with --keep-logs)
//   DIR/other/           optional: a second traced process interleaved through PIP (its own
//                        events.xtev and qemu/), for context-filtering tests
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xtu {

// How the PT stream was configured (what IA32_RTIT_CTL and CPUID leaf 0x15 would say).
struct PtConfig {
  uint64_t psb_period = 4096;  // bytes between PSB+ (approximately, as hardware does)
  bool tsc = true;             // TSCEn: TSC in PSB+
  bool mtc = false;            // MTCEn: MTC packets, TMA in PSB+
  unsigned mtc_freq = 3;       // MTCFreq: MTC every 2^mtc_freq crystal clock ticks
  bool cyc = false;            // CYCEn: CYC packets before TNT/TIP-class packets
  unsigned cyc_thresh = 0;
  bool tnt64 = false;          // pack conditional branches into TNT-64 instead of TNT-8
  unsigned cbr = 25;           // core:bus ratio (core clock = cbr x 100 MHz)
  uint32_t cpuid_15_eax = 1;   // TSC : crystal ratio denominator
  uint32_t cpuid_15_ebx = 100; // TSC : crystal ratio numerator
  uint32_t nom_freq = 25;      // nominal frequency (CBR units) for libipt's time estimate
  uint64_t filter_base = 0;    // IP filter range ADDR0 = the DBT's code buffer
  uint64_t filter_limit = 0;   // exclusive
};

struct BundleInfo {
  int version = 1;
  std::string workload;                // name (argv[0] without directory)
  std::vector<std::string> argv;       // guest argv as given
  std::string cwd;
  std::string mode = "chained";        // "chained" or "nochain": how the traced run executed
  unsigned tb_size_mib = 0;            // QEMU -tb-size, 0 = QEMU's default
  std::string qemu_version;
  uint64_t cr3 = 0;                    // context of the traced DBT process (PIP)
  uint64_t vmcs = 0;                   // nonzero when the host runs in a VM (NR=1)
  bool non_root = false;
  PtConfig pt;
  std::string trace_file = "trace.pt";
  std::string events_file = "events.xtev";
  std::string guest_file = "guest.txt";
  std::vector<std::string> others;     // sub-bundle directories of other traced processes
  std::string stats_json = "{}";       // free-form capture statistics (JSON object text)
};

void write_bundle_info(const std::string& dir, const BundleInfo& info);
BundleInfo read_bundle_info(const std::string& dir);  // throws FormatError on malformed JSON/fields

}  // namespace xtu
