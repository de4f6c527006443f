// xtu run [--backend systemc|tlm] DIR [--stats] [-o FILE]: the unit on a trace bundle (systemc:
// the cycle-accurate model on its pins; tlm: the same model through its TLM-2.0 wrapper).
#include <cinttypes>
#include <memory>

#include "options.hpp"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/driver/systemc_backend.hpp"
#include "xtu/driver/tlm_backend.hpp"
#include "xtu/regs.hpp"

namespace xtu::cli {

int cmd_run(const Args& args) {
  po::options_description desc("run options");
  std::string dir, out_path, backend, vcd;
  driver::RunOptions ro;
  driver::SystemCOptions so;
  desc.add_options()
      ("bundle", po::value(&dir)->required(), "trace bundle directory")
      ("backend,b", po::value(&backend)->default_value("systemc"),
       "systemc (the cycle-accurate model, pin level) or tlm (the same model behind its TLM-2.0 sockets)")
      ("output,o", po::value(&out_path), "write the guest trace here instead of stdout")
      ("stats", "print cycles, throughput, cache hit rate, stalls and packets on stderr")
      ("contexts", po::bool_switch(&ro.ctx_records), "CONTEXT records (comments in the text)")
      ("time", po::bool_switch(&ro.time), "TIME_EN: time in the records (the text stays pcs)")
      ("cam-entries", po::value(&so.cam_entries)->default_value(64), "TB cache lines")
      ("walk-width", po::value(&so.walk_width)->default_value(3), "WALK_WIDTH: walker steps per cycle (1-15)")
      ("dec-width", po::value(&so.dec_width)->default_value(2), "DEC_WIDTH: packets decoded per cycle (1-4)")
      ("mem-latency", po::value(&so.mem_read_latency)->default_value(20),
       "memory read latency, cycles (tlm: the delay the memory target annotates)")
      ("vcd", po::value(&vcd), "write a VCD waveform");
  po::positional_options_description pos;
  pos.add("bundle", 1);
  po::variables_map vm;
  if (!parse(args, "xtu run [--backend systemc|tlm] DIR [options]", desc, vm, &pos)) return 0;
  std::unique_ptr<driver::Device> dev;
  if (backend == "systemc") {
    so.vcd = vcd;
    dev = std::make_unique<driver::SystemCBackend>(so);
  } else if (backend == "tlm") {
    driver::TlmOptions to;
    to.cam_entries = so.cam_entries;
    to.walk_width = so.walk_width;
    to.dec_width = so.dec_width;
    to.mem_read_latency = so.mem_read_latency;
    to.vcd = vcd;
    dev = std::make_unique<driver::TlmBackend>(to);
  } else {
    std::fprintf(stderr, "xtu run: unknown backend '%s' (available: systemc, tlm)\n", backend.c_str());
    return 2;
  }
  driver::RunResult r = driver::run_bundle(*dev, dir, ro);

  FILE* out = stdout;
  if (!out_path.empty() && !(out = std::fopen(out_path.c_str(), "w"))) {
    std::fprintf(stderr, "xtu run: cannot write %s\n", out_path.c_str());
    return 1;
  }
  GuestTraceWriter w(out);
  driver::write_guest_trace(r.records, w);
  w.flush();
  if (out != stdout) std::fclose(out);

  if (vm.count("stats")) {
    double cyc = double(r.cycles ? r.cycles : 1);
    uint64_t blocks = r.counter("BLOCKS"), lookups = r.counter("CAM_LOOKUPS"), hits = r.counter("CAM_HITS");
    std::fprintf(stderr, "xtu run (%s): %" PRIu64 " cycles, %" PRIu64 " PT bytes (%.3f bytes/cycle), %" PRIu64
                         " guest blocks (%.3f blocks/cycle), %" PRIu64 " nodes (%.3f nodes/cycle)\n",
                 backend.c_str(), r.cycles, r.pt_bytes, double(r.pt_bytes) / cyc, blocks, double(blocks) / cyc,
                 r.counter("NODES"), double(r.counter("NODES")) / cyc);
    std::fprintf(stderr, "  TB cache: %" PRIu64 " lookups, %.2f%% hits, %" PRIu64 " refills, %" PRIu64
                         " hash probes; %" PRIu64 " events, %" PRIu64 " descriptors\n",
                 lookups, lookups ? 100.0 * double(hits) / double(lookups) : 0.0, r.counter("CAM_REFILLS"),
                 r.counter("HT_PROBES"), r.counter("EVENTS"), r.descriptors);
    std::fprintf(stderr, "  stalls (cycles): trace %" PRIu64 ", refill %" PRIu64 ", event %" PRIu64 ", output %" PRIu64
                         "; gaps %" PRIu64 ", overflows %" PRIu64 ", decode errors %" PRIu64 "\n",
                 r.counter("STALL_TRACE"), r.counter("STALL_REFILL"), r.counter("STALL_EVENT"),
                 r.counter("STALL_OUTPUT"), r.counter("GAPS"), r.counter("OVERFLOWS"), r.counter("DECODE_ERRORS"));
    std::fprintf(stderr, "  packets:");
    for (const auto& [name, v] : r.counters)
      if (name.rfind("PKT_", 0) == 0 && v) std::fprintf(stderr, " %s %" PRIu64, name.c_str() + 4, v);
    std::fprintf(stderr, "\n  simulation: %.2f s, %.0f cycles/s\n", r.seconds, r.seconds > 0 ? cyc / r.seconds : 0.0);
  }
  if (!r.violations.empty()) {
    for (const std::string& v : r.violations) std::fprintf(stderr, "xtu run: memory violation: %s\n", v.c_str());
    return 1;
  }
  if (!r.done) {
    std::fprintf(stderr, "xtu run: the unit did not finish (STATUS 0x%x)\n", r.status);
    return 1;
  }
  return 0;
}

}  // namespace xtu::cli
