// Co-simulation of an RTL block beside its SystemC model: the pieces every block's co-simulation
// test reuses (tests/rtl/test_rtl_reg_top.cpp is the first user and the example to copy).
//
// VerilatedBlock<V>: a Verilated model (verilator --cc, class V, built into xtu_rtl_models by
// rtl/CMakeLists.txt) as a SystemC module on the SystemC clock, so that it sits in a test bench
// exactly where the SystemC model of the block would, pin for pin:
//
//   - at each rising edge of clk_i: every input is copied into the model with the value it had
//     before the edge (what a SystemC SC_METHOD on clk.pos() reads), the model's clock goes
//     low then high (eval() each time: its always_ff blocks take the edge), and every output is
//     written to its sc_out (visible one delta later, as a SystemC model's registered outputs);
//   - at each falling edge: the model's clock goes low (eval());
//   - when an input changes between edges (and `combinational` is on, the default): the inputs
//     are copied and the model evaluated again, and the outputs republished, so that
//     combinational paths from inputs to outputs behave as a SystemC combinational method would.
//     A block whose outputs come from flops only (the register block) does not need it.
//
// A derived class declares the SystemC ports with the model's pin names (sc_in<bool> for 1 bit,
// sc_in<uint32_t> up to 32 bits, sc_in<uint64_t> up to 64 bits, as in systemc/include/xtu/model/
// axi.hpp) and pairs each with its Verilated pin in its constructor: clock(), input(), output();
// wide pins (VlWide<N>) take an sc_vector of 64-bit ports, 64 bits per element. Verilator's
// context and model belong to the block; final() runs when it is destroyed.
//
// Why --cc and not Verilator's --sc: the Verilated models stay plain C++ (the other RTL tests
// step them without SystemC), one library of models serves both kinds of test, the SystemC
// ports keep the types the SystemC model uses (--sc would turn a 2944-bit vector into sc_bv and
// needs Verilator's SystemC build setup), and the moment each input is sampled is written here,
// in one place, instead of depending on how --sc schedules its own processes.
//
// Comparator: named pairs (model value, RTL value) compared at each sample; the test bench
// samples them once per cycle (at the falling edge: both sides have settled after the rising
// edge) and fails on the first mismatch with every differing pin and the cycle.
#pragma once

// Verilator's headers first: the models are --cc (plain C++), and verilated.h must not see
// SystemC (it would switch to its --sc time source). Include this header before any SystemC one.
#if defined(SYSTEMC_VERSION) && !defined(VERILATOR_VERILATED_H_)
#error "include cosim.hpp before any SystemC header"
#endif
#include <verilated.h>

// sc_spawn (the combinational process is made once the pins are known). <systemc> includes the
// dynamic-process API on every inclusion where this is defined, also after an earlier one.
#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES
#endif
#include <systemc>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace xtu::cosim {

template <class V>
class VerilatedBlock : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i;
  bool combinational = true;  // re-evaluate when an input changes between edges (see above)

  explicit VerilatedBlock(const sc_core::sc_module_name& name)
      : sc_module(name), clk_i("clk_i"), ctx_(std::make_unique<VerilatedContext>()) {
    ctx_->randReset(0);  // every variable without a reset starts at 0, as SystemC signals do
    rtl_ = std::make_unique<V>(ctx_.get(), "rtl");
  }
  ~VerilatedBlock() override { rtl_->final(); }
  VerilatedBlock(const VerilatedBlock&) = delete;
  VerilatedBlock& operator=(const VerilatedBlock&) = delete;

  V& rtl() { return *rtl_; }
  const V& rtl() const { return *rtl_; }
  uint64_t edges() const { return edges_; }

protected:
  // The model's clock pin (required).
  void clock(CData& pin) { clk_pin_ = &pin; }

  // An input pin: the port's value is copied into `pin` before every evaluation.
  template <class T, class P>
  void input(sc_core::sc_in<T>& port, P& pin) {
    copy_in_.push_back([&port, &pin] { pin = static_cast<P>(port.read()); });
    sensitivity_.push_back(&port);
  }
  // A wide input pin: element i of `ports` is bits 64 i + 63 : 64 i of `pin`.
  template <std::size_t N>
  void input(sc_core::sc_vector<sc_core::sc_in<uint64_t>>& ports, VlWide<N>& pin) {
    if (2 * ports.size() != N) throw std::logic_error("VerilatedBlock: wide input of the wrong size");
    copy_in_.push_back([&ports, &pin] {
      for (std::size_t i = 0; i < ports.size(); ++i) {
        uint64_t v = ports[i].read();
        pin[2 * i] = static_cast<EData>(v);
        pin[2 * i + 1] = static_cast<EData>(v >> 32);
      }
    });
    for (auto& p : ports) sensitivity_.push_back(&p);
  }
  // An output pin: written to the port after every evaluation.
  template <class T, class P>
  void output(sc_core::sc_out<T>& port, const P& pin) {
    copy_out_.push_back([&port, &pin] { port.write(static_cast<T>(pin)); });
  }
  // A wide output pin: element i of `ports` gets bits 64 i + 63 : 64 i of `pin` (the last
  // element the bits left, zero-extended).
  template <std::size_t N>
  void output(sc_core::sc_vector<sc_core::sc_out<uint64_t>>& ports, const VlWide<N>& pin) {
    if (ports.size() != (N + 1) / 2) throw std::logic_error("VerilatedBlock: wide output of the wrong size");
    copy_out_.push_back([&ports, &pin] {
      for (std::size_t i = 0; i < ports.size(); ++i) {
        uint64_t v = pin[2 * i];
        if (2 * i + 1 < N) v |= uint64_t(pin[2 * i + 1]) << 32;
        ports[i].write(v);
      }
    });
  }
  // The same for a pin of up to 64 bits (one element): a block whose pin is wide or not
  // depending on a parameter is wired the same way at every parameter value.
  template <class P, std::enable_if_t<std::is_integral_v<P>, int> = 0>
  void output(sc_core::sc_vector<sc_core::sc_out<uint64_t>>& ports, const P& pin) {
    if (ports.size() != 1) throw std::logic_error("VerilatedBlock: wide output of the wrong size");
    copy_out_.push_back([&ports, &pin] { ports[0].write(static_cast<uint64_t>(pin)); });
  }

private:
  // One process writes the outputs (SystemC allows one writer per signal): it runs at each clock
  // edge and, when combinational, at each change of an input, and looks at which it was.
  void before_end_of_elaboration() override {
    if (clk_pin_ == nullptr) throw std::logic_error(std::string(name()) + ": VerilatedBlock without clock()");
    sc_core::sc_spawn_options opts;
    opts.spawn_method();
    opts.dont_initialize();
    opts.set_sensitivity(&clk_i);
    if (combinational)
      for (auto* p : sensitivity_) opts.set_sensitivity(p);
    sc_core::sc_spawn([this] { step(); }, "step", &opts);
  }
  void step() {
    if (clk_i.posedge())
      rising();
    else if (clk_i.negedge())
      falling();
    else
      inputs_changed();
  }

  void eval() {
    ctx_->time(sc_core::sc_time_stamp().value());
    rtl_->eval();
  }
  void apply_inputs() {
    for (auto& f : copy_in_) f();
  }
  void publish_outputs() {
    for (auto& f : copy_out_) f();
  }
  void rising() {
    apply_inputs();
    *clk_pin_ = 0;
    eval();
    *clk_pin_ = 1;
    eval();
    ++edges_;
    publish_outputs();
  }
  void falling() {
    *clk_pin_ = 0;
    eval();
  }
  void inputs_changed() {
    apply_inputs();
    eval();
    publish_outputs();
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<V> rtl_;
  CData* clk_pin_ = nullptr;
  std::vector<std::function<void()>> copy_in_, copy_out_;
  std::vector<sc_core::sc_port_base*> sensitivity_;
  uint64_t edges_ = 0;
};

// Named pairs of values, the SystemC model's and the RTL's, compared at each sample.
class Comparator {
public:
  using Get = std::function<uint64_t()>;

  void add(std::string name, Get model, Get rtl) { pairs_.push_back({std::move(name), std::move(model), std::move(rtl)}); }
  template <class T>
  void add(const std::string& name, const sc_core::sc_signal_in_if<T>& model, const sc_core::sc_signal_in_if<T>& rtl) {
    add(name, [&model] { return static_cast<uint64_t>(model.read()); },
        [&rtl] { return static_cast<uint64_t>(rtl.read()); });
  }

  // Compares every pair; returns true if all are equal. The first sample with a difference is
  // kept (cycle, every differing pair); later ones are only counted.
  bool compare(uint64_t cycle) {
    ++samples_;
    bool ok = true;
    std::string diffs;
    for (const auto& p : pairs_) {
      uint64_t m = p.model(), r = p.rtl();
      if (m != r) {
        ok = false;
        char buf[160];
        std::snprintf(buf, sizeof buf, "\n  %-20s model 0x%016llx  rtl 0x%016llx", p.name.c_str(),
                      static_cast<unsigned long long>(m), static_cast<unsigned long long>(r));
        diffs += buf;
      }
    }
    if (!ok && mismatches_++ == 0) first_ = "cycle " + std::to_string(cycle) + ":" + diffs;
    return ok;
  }

  std::size_t pairs() const { return pairs_.size(); }
  uint64_t samples() const { return samples_; }
  uint64_t mismatches() const { return mismatches_; }  // samples with a difference
  const std::string& first_mismatch() const { return first_; }

private:
  struct Pair {
    std::string name;
    Get model, rtl;
  };
  std::vector<Pair> pairs_;
  uint64_t samples_ = 0, mismatches_ = 0;
  std::string first_;
};

}  // namespace xtu::cosim
