// xtu demo [--workload NAME] [--out DIR]: the main job on a bundled workload. Captures a real
// QEMU run of the workload, decodes it with the golden model, checks that against QEMU's own
// ground truth, then runs the bundle through the cycle-accurate unit (SystemC model, driven by the
// driver) and checks the unit's guest trace against the golden model's, record for record.
#include <unistd.h>

#include <cinttypes>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "options.hpp"
#include "xtu/capture/capture.hpp"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/driver/systemc_backend.hpp"
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
  bool nochain = false, no_unit = false;
  driver::SystemCOptions so;
  desc.add_options()
      ("workload,w", po::value(&name)->default_value("bytecode"), "bundled workload (see workloads/README.md)")
      ("out,o", po::value(&out)->default_value("xtu-demo"), "directory for the bundle and results")
      ("nochain", po::bool_switch(&nochain), "trace a nochain run")
      ("cam-entries", po::value(&so.cam_entries)->default_value(64), "the unit's TB cache lines")
      ("no-unit", po::bool_switch(&no_unit), "stop after the golden model (skip the SystemC unit)");
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
  std::printf("golden check    golden == QEMU ground truth (guest.txt), %" PRIu64 " blocks\n", g.records);
  if (no_unit) return 0;

  // The unit: the bundle through the driver into the cycle-accurate SystemC model.
  driver::SystemCBackend dev(so);
  driver::RunResult u = driver::run_bundle(dev, bundle);
  std::string unit_path = bundle + "/unit.txt";
  FILE* uf = std::fopen(unit_path.c_str(), "w");
  if (!uf) throw std::runtime_error("cannot write " + unit_path);
  GuestTraceWriter uw(uf);
  driver::write_guest_trace(u.records, uw);
  uw.flush();
  std::fclose(uf);
  const double cyc = double(u.cycles ? u.cycles : 1);
  const uint64_t lookups = u.counter("CAM_LOOKUPS"), hits = u.counter("CAM_HITS");
  std::printf("unit (SystemC)  %" PRIu64 " cycles: %.3f PT bytes/cycle, %.3f guest blocks/cycle, %.3f host blocks/cycle;"
              " TB cache (%u lines) %.2f%% hits; simulated at %.0f cycles/s\n",
              u.cycles, double(u.pt_bytes) / cyc, double(u.counter("BLOCKS")) / cyc, double(u.counter("NODES")) / cyc,
              so.cam_entries, lookups ? 100.0 * double(hits) / double(lookups) : 0.0,
              u.seconds > 0 ? cyc / u.seconds : 0.0);
  for (const auto& v : u.violations) std::printf("memory violation: %s\n", v.c_str());
  if (!u.done || !u.violations.empty()) {
    std::printf("RESULT          FAILED: the unit did not finish cleanly (status 0x%x)\n", u.status);
    return 1;
  }
  TraceDiff ud = compare_guest_traces(read_guest_trace(golden_path), read_guest_trace(unit_path));
  if (!ud.equal) {
    std::printf("RESULT          MISMATCH unit vs golden: %s\n", ud.message.c_str());
    return 1;
  }
  std::printf("RESULT          unit == golden == QEMU ground truth, %" PRIu64 " guest blocks (%s)\n", g.records,
              unit_path.c_str());
  return 0;
}

}  // namespace xtu::cli
