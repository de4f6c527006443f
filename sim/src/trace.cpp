// VcdTrace: see trace.hpp.
#include "xtu/sim/trace.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace xtu::sim {

VcdTrace::VcdTrace(const std::string& path) : tf_(sc_core::sc_create_vcd_trace_file(path.c_str())), path_(path + ".vcd") {
  if (!tf_) throw std::runtime_error("VcdTrace: cannot create " + path_);
  // Explicit unit (also silences SystemC's note about the default): 1 ps resolves any clock.
  tf_->set_time_unit(1, sc_core::SC_PS);
}

VcdTrace::~VcdTrace() { sc_core::sc_close_vcd_trace_file(tf_); }

std::unique_ptr<VcdTrace> VcdTrace::from_env(const std::string& name, const char* env_var) {
  const char* dir = std::getenv(env_var);
  if (!dir || !*dir) return nullptr;
  std::filesystem::create_directories(dir);
  return std::make_unique<VcdTrace>((std::filesystem::path(dir) / name).string());
}

}  // namespace xtu::sim
