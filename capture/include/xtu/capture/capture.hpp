// `xtu capture`: a real QEMU run of a guest program turned into a trace bundle (bundle.hpp).
//
//   chained (default): run 1 (primary, the traced run) with -d in_asm,out_asm,exec gives the
//     host code of every translation, in order, and QEMU's own Trace/Linking lines; run 2 with
//     -d exec,nochain gives every TB execution (the ground truth). Replaying QEMU's chaining
//     rule over run 2's sequence with run 1's code must reproduce run 1's Trace and Linking
//     lines exactly, or the capture fails.
//   nochain: a single run with -d in_asm,out_asm,exec,nochain gives both.
// Both runs also write QEMU's -jitdump and -perfmap files; those of the traced run are kept in
// the bundle and cross-checked against the log (same translations, addresses, bytes, ranges).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xtu/capture/synth.hpp"
#include "xtu/formats/bundle.hpp"

namespace xtu::capture {

struct CaptureOptions {
  std::string out_dir;
  std::vector<std::string> argv;       // guest program and arguments
  bool nochain = false;
  unsigned tb_size_mib = 0;
  std::string qemu = "qemu-aarch64";
  std::vector<std::string> qemu_options;  // extra QEMU options given to every run (e.g. -cpu)
  bool aslr = false;                   // keep host ASLR (default: off, reproducible addresses)
  bool keep_logs = false;
  ComposeOptions compose;              // PT configuration, PAD, OVF windows, switch period
  unsigned ovf_count = 0;              // OVF windows to inject (positions from `seed`)
  uint64_t ovf_blocks = 200;           // blocks lost per OVF window
  uint64_t seed = 1;
  // A second traced process interleaved through PIP (context filtering): its argv, or empty.
  std::vector<std::string> other_argv;
  uint64_t cr3 = 0x1f3c000;            // modelled CR3 of the traced process
  uint64_t other_cr3 = 0x2a81000;      // modelled CR3 of the other process
  bool vm = false;                     // the host runs in a VM: PIP.NR=1 and a VMCS packet
  uint64_t vmcs = 0x12345000;
  uint64_t other_vmcs = 0;             // other process's VMCS (0: same VM as the traced process)
  bool quiet = false;
};

struct CaptureReport {
  BundleInfo info;
  ReplayStats replay;
  PtStats pt;
  uint64_t guest_blocks = 0;           // ground truth records that are blocks
  uint64_t pt_bytes = 0;
  uint64_t lost_blocks = 0;
  uint64_t context_switches = 0;
  double seconds_total = 0, seconds_qemu = 0;
};

CaptureReport run_capture(const CaptureOptions& options);

}  // namespace xtu::capture
