#include "xtu/formats/bundle.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "xtu/formats/error.hpp"

namespace xtu {
namespace {
using nlohmann::json;

json to_json(const PtConfig& p) {
  return json{{"psb_period", p.psb_period}, {"tsc", p.tsc}, {"mtc", p.mtc}, {"mtc_freq", p.mtc_freq},
              {"cyc", p.cyc}, {"cyc_thresh", p.cyc_thresh}, {"tnt64", p.tnt64}, {"cbr", p.cbr},
              {"cpuid_15_eax", p.cpuid_15_eax}, {"cpuid_15_ebx", p.cpuid_15_ebx}, {"nom_freq", p.nom_freq},
              {"filter_base", p.filter_base}, {"filter_limit", p.filter_limit}};
}

template <typename T> void get_opt(const json& j, const char* key, T& out) {
  if (j.contains(key)) j.at(key).get_to(out);
}

void from_json_pt(const json& j, PtConfig& p) {
  get_opt(j, "psb_period", p.psb_period); get_opt(j, "tsc", p.tsc); get_opt(j, "mtc", p.mtc);
  get_opt(j, "mtc_freq", p.mtc_freq); get_opt(j, "cyc", p.cyc); get_opt(j, "cyc_thresh", p.cyc_thresh);
  get_opt(j, "tnt64", p.tnt64); get_opt(j, "cbr", p.cbr); get_opt(j, "cpuid_15_eax", p.cpuid_15_eax);
  get_opt(j, "cpuid_15_ebx", p.cpuid_15_ebx); get_opt(j, "nom_freq", p.nom_freq);
  get_opt(j, "filter_base", p.filter_base); get_opt(j, "filter_limit", p.filter_limit);
}
}  // namespace

void write_bundle_info(const std::string& dir, const BundleInfo& b) {
  json j{{"format", "xtu-bundle"}, {"version", b.version}, {"workload", b.workload}, {"argv", b.argv},
         {"cwd", b.cwd}, {"mode", b.mode}, {"tb_size_mib", b.tb_size_mib}, {"qemu_version", b.qemu_version},
         {"cr3", b.cr3}, {"vmcs", b.vmcs}, {"non_root", b.non_root}, {"pt", to_json(b.pt)},
         {"files", {{"trace", b.trace_file}, {"events", b.events_file}, {"guest", b.guest_file}}},
         {"others", b.others}, {"stats", json::parse(b.stats_json)}};
  std::string path = dir + "/bundle.json";
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw std::runtime_error(path + ": write failed");
}

BundleInfo read_bundle_info(const std::string& dir) {
  std::string path = dir + "/bundle.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (not a trace bundle?)");
  BundleInfo b;
  try {
    json j = json::parse(in);
    if (j.value("format", "") != "xtu-bundle") throw FormatError(path, 0, "not an xtu bundle manifest");
    j.at("version").get_to(b.version);
    if (b.version != 1) throw FormatError(path, 0, "unsupported bundle version " + std::to_string(b.version));
    get_opt(j, "workload", b.workload); get_opt(j, "argv", b.argv); get_opt(j, "cwd", b.cwd);
    get_opt(j, "mode", b.mode); get_opt(j, "tb_size_mib", b.tb_size_mib); get_opt(j, "qemu_version", b.qemu_version);
    get_opt(j, "cr3", b.cr3); get_opt(j, "vmcs", b.vmcs); get_opt(j, "non_root", b.non_root);
    if (j.contains("pt")) from_json_pt(j.at("pt"), b.pt);
    if (j.contains("files")) {
      const json& f = j.at("files");
      get_opt(f, "trace", b.trace_file); get_opt(f, "events", b.events_file); get_opt(f, "guest", b.guest_file);
    }
    get_opt(j, "others", b.others);
    if (j.contains("stats")) b.stats_json = j.at("stats").dump();
  } catch (const json::exception& e) {
    throw FormatError(path, 0, std::string("malformed manifest: ") + e.what());
  }
  return b;
}

}  // namespace xtu
