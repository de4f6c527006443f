// xtu golden DIR [--insn] [-o FILE] [--stats]
#include <cinttypes>

#include "options.hpp"
#include "xtu/golden/golden.hpp"

namespace xtu::cli {

int cmd_golden(const Args& args) {
  po::options_description desc("golden options");
  std::string dir, out_path;
  golden::Options g;
  desc.add_options()
      ("bundle", po::value(&dir)->required(), "trace bundle directory")
      ("insn", po::bool_switch(&g.insn), "one line per guest instruction instead of per guest block")
      ("contexts", po::bool_switch(&g.contexts), "write a comment line at every context switch (PIP)")
      ("output,o", po::value(&out_path), "write the guest trace here instead of stdout")
      ("stats", "print decoding statistics and throughput on stderr");
  po::positional_options_description pos;
  pos.add("bundle", 1);
  po::variables_map vm;
  if (!parse(args, "xtu golden DIR [options]", desc, vm, &pos)) return 0;
  FILE* out = stdout;
  if (!out_path.empty() && !(out = std::fopen(out_path.c_str(), "w"))) {
    std::fprintf(stderr, "xtu golden: cannot write %s\n", out_path.c_str());
    return 1;
  }
  GuestTraceWriter w(out);
  golden::Stats s = golden::run(dir, w, g);
  w.flush();
  if (out != stdout && std::fclose(out) != 0) {
    std::fprintf(stderr, "xtu golden: write to %s failed\n", out_path.c_str());
    return 1;
  }
  if (vm.count("stats")) {
    double mb = double(s.pt_bytes) / 1e6;
    std::fprintf(stderr,
                 "xtu golden: %" PRIu64 " PT bytes, %" PRIu64 " host insns, %" PRIu64 " %s, %" PRIu64 " gaps (%" PRIu64
                 " overflows, %" PRIu64 " decode errors), %" PRIu64 " events, %.3f s: %.2f MB/s, %.0f records/s\n",
                 s.pt_bytes, s.host_insns, s.records, g.insn ? "guest insns" : "guest blocks", s.gaps, s.overflows,
                 s.decode_errors, s.events_applied, s.seconds, s.seconds > 0 ? mb / s.seconds : 0.0,
                 s.seconds > 0 ? double(s.records) / s.seconds : 0.0);
  }
  return 0;
}

}  // namespace xtu::cli
