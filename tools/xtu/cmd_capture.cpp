// xtu capture --out DIR [options] -- PROGRAM [ARGS...]
#include <algorithm>
#include <cinttypes>
#include <sstream>

#include "options.hpp"
#include "xtu/capture/capture.hpp"

namespace xtu::cli {

namespace {
std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string t; in >> t;) w.push_back(t);
  return w;
}
}  // namespace

int cmd_capture(const Args& all) {
  auto dashdash = std::find(all.begin(), all.end(), "--");
  Args opts(all.begin(), dashdash);
  capture::CaptureOptions c;
  if (dashdash != all.end()) c.argv.assign(dashdash + 1, all.end());

  po::options_description desc("capture options");
  std::string other;
  unsigned cyc_thresh = 0;
  desc.add_options()
      ("out,o", po::value(&c.out_dir)->required(), "bundle directory to write")
      ("nochain", po::bool_switch(&c.nochain), "trace a -d nochain run (every TB entered through a TIP)")
      ("tb-size", po::value(&c.tb_size_mib), "QEMU code buffer size in MiB (-tb-size; 1 forces flushes)")
      ("qemu", po::value(&c.qemu)->default_value("qemu-aarch64"), "QEMU user-mode binary")
      ("qemu-option", po::value<std::vector<std::string>>(&c.qemu_options)->composing(),
       "extra QEMU option for every run (repeatable), e.g. --qemu-option=-cpu --qemu-option=max")
      ("aslr", po::bool_switch(&c.aslr), "keep host ASLR (default: disabled, so host addresses are reproducible)")
      ("keep-logs", po::bool_switch(&c.keep_logs), "keep QEMU's -d logs in DIR/qemu")
      ("psb-period", po::value(&c.compose.pt.psb_period)->default_value(4096), "bytes between PSB+")
      ("no-tsc", "no TSC packets")
      ("mtc", po::value<unsigned>(), "MTC packets every 2^N crystal ticks (TMA in PSB+)")
      ("cyc", po::value(&cyc_thresh)->implicit_value(0), "CYC packets (optional threshold exponent)")
      ("tnt64", po::bool_switch(&c.compose.pt.tnt64), "pack branches into TNT-64 instead of TNT-8")
      ("pad-every", po::value(&c.compose.pad_every)->default_value(0), "insert PAD bytes after every N packets")
      ("ovf", po::value(&c.ovf_count)->default_value(0), "inject N internal-buffer overflows (OVF and the loss)")
      ("ovf-blocks", po::value(&c.ovf_blocks)->default_value(200), "guest blocks lost per overflow")
      ("seed", po::value(&c.seed)->default_value(1), "seed for overflow positions and PAD")
      ("other", po::value(&other), "a second traced process, interleaved through PIP: \"PROGRAM ARGS...\"")
      ("switch-every", po::value(&c.compose.switch_every)->default_value(0),
       "with --other: switch process about every N guest blocks (default 5000)")
      ("vm", po::bool_switch(&c.vm), "the host runs in a VM: PIP.NR=1 and VMCS packets")
      ("other-vm", "with --vm: the other process runs in another VM (another VMCS)")
      ("quiet,q", po::bool_switch(&c.quiet), "no progress messages");
  po::variables_map vm;
  if (!parse(opts, "xtu capture --out DIR [options] -- PROGRAM [ARGS...]", desc, vm)) return 0;
  if (c.argv.empty()) {
    std::fprintf(stderr, "xtu capture: give the guest program after '--' (xtu capture --help)\n");
    return 2;
  }
  if (vm.count("no-tsc")) c.compose.pt.tsc = false;
  if (vm.count("mtc")) { c.compose.pt.mtc = true; c.compose.pt.mtc_freq = vm["mtc"].as<unsigned>(); }
  if (vm.count("cyc")) { c.compose.pt.cyc = true; c.compose.pt.cyc_thresh = cyc_thresh; }
  if (!other.empty()) c.other_argv = split_words(other);
  if (vm.count("other-vm")) c.other_vmcs = 0x23456000;
  if (c.compose.pt.psb_period < 64) {
    std::fprintf(stderr, "xtu capture: --psb-period must be at least 64 bytes\n");
    return 2;
  }

  capture::CaptureReport r = capture::run_capture(c);
  if (!c.quiet) {
    std::fprintf(stderr,
                 "xtu capture: %s: %" PRIu64 " guest blocks, %" PRIu64 " PT bytes (%.2f bits/block), %" PRIu64
                 " translations, %" PRIu64 " links, %" PRIu64 " flushes, %.2f s (QEMU %.2f s)\n",
                 c.out_dir.c_str(), r.replay.executions, r.pt_bytes,
                 r.replay.executions ? 8.0 * double(r.pt_bytes) / double(r.replay.executions) : 0.0,
                 r.replay.translations, r.replay.links, r.replay.flushes, r.seconds_total, r.seconds_qemu);
  }
  return 0;
}

}  // namespace xtu::cli
