// VCD tracing of the test bench's buses, on request.
//
//   auto vcd = xtu::sim::VcdTrace::from_env("my_test");   // nullptr unless $XTU_VCD is set
//   if (vcd) { vcd->trace(axi_signals, "axi"); vcd->trace(axil_signals, "axil"); }
//
// XTU_VCD names a directory (created if needed); the file is <dir>/<name>.vcd. A VcdTrace must
// be created, and every signal traced, before the first sc_start(); the file is complete once
// the VcdTrace is destroyed (or the simulation ends).
#pragma once

#include <systemc>

#include <memory>
#include <string>

#include "xtu/model/axi.hpp"

namespace xtu::sim {

class VcdTrace {
public:
  // Opens <path>.vcd (path without the extension; SystemC adds it).
  explicit VcdTrace(const std::string& path);
  ~VcdTrace();
  VcdTrace(const VcdTrace&) = delete;
  VcdTrace& operator=(const VcdTrace&) = delete;

  // A trace in $XTU_VCD (or the variable `env_var`), or nullptr when it is unset or empty.
  static std::unique_ptr<VcdTrace> from_env(const std::string& name, const char* env_var = "XTU_VCD");

  void trace(const model::AxiSignals& s, const std::string& prefix) { s.trace(tf_, prefix); }
  void trace(const model::AxiLiteSignals& s, const std::string& prefix) { s.trace(tf_, prefix); }
  template <class T>
  void trace(const T& object, const std::string& name) {
    sc_core::sc_trace(tf_, object, name);
  }

  sc_core::sc_trace_file* file() const { return tf_; }
  const std::string& path() const { return path_; }  // with ".vcd"

private:
  sc_core::sc_trace_file* tf_;
  std::string path_;
};

}  // namespace xtu::sim
