// xtu demo [--workload NAME] [--out DIR]: the main job on a bundled workload. Captures a real
// QEMU run of the workload, decodes it with the golden model and checks the result against
// QEMU's own ground truth.
#include <unistd.h>

#include <cinttypes>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "options.hpp"
#include "xtu/capture/capture.hpp"
#include "xtu/golden/golden.hpp"

namespace fs = std::filesystem;

namespace xtu::cli {

std::string workload_dir() {
  if (const char* e = std::getenv("XTU_WORKLOAD_DIR")) return e;
  return XTU_WORKLOAD_DIR_DEFAULT;
}

int cmd_demo(const Args& args) {
  po::options_description desc("demo options");
  std::string name, out;
  bool nochain = false;
  desc.add_options()
      ("workload,w", po::value(&name)->default_value("bytecode"), "bundled workload (see workloads/README.md)")
      ("out,o", po::value(&out)->default_value("xtu-demo"), "directory for the bundle and results")
      ("nochain", po::bool_switch(&nochain), "trace a nochain run");
  po::variables_map vm;
  if (!parse(args, "xtu demo [options]", desc, vm)) return 0;

  std::string wdir = workload_dir();
  std::ifstream jf(wdir + "/workloads.json");
  if (!jf) throw std::runtime_error(wdir + "/workloads.json not found: build the project first");
  nlohmann::json list = nlohmann::json::parse(jf);
  const nlohmann::json* w = nullptr;
  for (const auto& item : list)
    if (item.at("name") == name) w = &item;
  if (!w) throw std::runtime_error("no workload named '" + name + "' in " + wdir + "/workloads.json");

  fs::create_directories(out);
  std::string bundle = fs::absolute(fs::path(out) / name).string();
  capture::CaptureOptions c;
  c.out_dir = bundle;
  c.nochain = nochain;
  c.argv.push_back(wdir + "/" + name);
  for (const auto& a : w->at("args")) c.argv.push_back(a.get<std::string>());
  if (w->contains("tb_size_mib") && !w->at("tb_size_mib").is_null()) c.tb_size_mib = w->at("tb_size_mib").get<unsigned>();
  // The guest runs in the demo directory (fileio writes its scratch file into its cwd).
  fs::path here = fs::current_path();
  fs::current_path(out);
  capture::CaptureReport r;
  try {
    r = capture::run_capture(c);
  } catch (...) {
    fs::current_path(here);
    throw;
  }
  fs::current_path(here);

  std::string golden_path = bundle + "/golden.txt";
  FILE* f = std::fopen(golden_path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + golden_path);
  GuestTraceWriter gw(f);
  golden::Stats g = golden::run(bundle, gw, golden::Options{});
  gw.flush();
  std::fclose(f);
  TraceDiff d = compare_guest_traces(read_guest_trace(bundle + "/guest.txt"), read_guest_trace(golden_path));

  std::printf("workload        %s (%s)\n", name.c_str(), c.nochain ? "nochain" : "chained");
  std::printf("bundle          %s\n", bundle.c_str());
  std::printf("guest blocks    %" PRIu64 " executed, %" PRIu64 " translations, %" PRIu64 " links, %" PRIu64 " flushes\n",
              r.replay.executions, r.replay.translations, r.replay.links, r.replay.flushes);
  std::printf("PT              %" PRIu64 " bytes, %.2f bits per guest block\n", r.pt_bytes,
              r.replay.executions ? 8.0 * double(r.pt_bytes) / double(r.replay.executions) : 0.0);
  std::printf("capture         %.2f s (QEMU runs %.2f s); replay reproduced QEMU's Trace/Linking log exactly\n",
              r.seconds_total, r.seconds_qemu);
  std::printf("golden (libipt) %" PRIu64 " blocks, %" PRIu64 " gaps, %.2f MB/s, %.0f blocks/s\n", g.records, g.gaps,
              g.seconds > 0 ? double(g.pt_bytes) / 1e6 / g.seconds : 0.0, g.seconds > 0 ? double(g.records) / g.seconds : 0.0);
  if (!d.equal) {
    std::printf("RESULT          MISMATCH golden vs QEMU ground truth: %s\n", d.message.c_str());
    return 1;
  }
  std::printf("RESULT          golden == QEMU ground truth (guest.txt), %" PRIu64 " blocks\n", g.records);
  return 0;
}

}  // namespace xtu::cli
