// AxilRegFile: a tiny AXI4-Lite slave register file for the BFM's tests (tests only).
//
// `regs` 32-bit registers at 0, 4, 8, ...; anything else answers SLVERR (writes ignored, reads
// return 0xBADADD00). AW and W are taken independently (in any order), each into a one-entry
// holding register; the write happens once both are there and B goes out the next edge. A read
// answers at the edge after AR. With stall_probability, each READY is dropped and each response
// delayed at random. `mute` never raises any READY (for timeouts).
//
// A protocol checker records in `errors` every VALID that dropped, or payload that changed,
// before its handshake, and WSTRB bits beyond the 4 lanes.
#pragma once

#include <systemc>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "xtu/model/axi.hpp"

namespace xtu::test {

class AxilRegFile : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  xtu::model::AxiLiteSlavePorts s;

  std::vector<uint32_t> regs;
  double stall_probability = 0.0;
  bool mute = false;
  std::vector<std::string> errors;
  struct Access {
    bool write;
    uint32_t addr, data, strb;
    uint64_t cycle;  // edge at which the register was written / read
  };
  std::vector<Access> log;
  uint64_t aw_cycle = 0, w_cycle = 0;  // edges of the last AW and W handshakes

  static constexpr uint32_t kBadData = 0xBADADD00;

  SC_HAS_PROCESS(AxilRegFile);
  AxilRegFile(const sc_core::sc_module_name& name, size_t nregs, uint64_t seed = 1)
      : sc_module(name), clk_i("clk_i"), rst_ni("rst_ni"), s("s"), regs(nregs, 0), rng_(seed) {
    SC_METHOD(on_clock);
    sensitive << clk_i.pos();
    dont_initialize();
  }

  uint64_t cycle() const { return cycle_; }

private:
  bool stall() { return stall_probability > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < stall_probability; }

  // VALID must stay high, with the same payload, until its handshake.
  struct Held {
    bool valid = false, taken = false;
    uint64_t payload = 0;
  };
  void check_hold(Held& h, const char* ch, bool valid, bool ready, uint64_t payload) {
    if (h.valid && !h.taken && (!valid || payload != h.payload))
      errors.push_back(std::string(ch) + " VALID or payload changed before the handshake at edge " +
                       std::to_string(cycle_ - 1));
    h.valid = valid;
    h.taken = valid && ready;
    h.payload = payload;
  }

  void on_clock() {
    const uint64_t now = cycle_++;
    if (!rst_ni.read()) {
      s.awready.write(false);
      s.wready.write(false);
      s.arready.write(false);
      s.bvalid.write(false);
      s.rvalid.write(false);
      have_aw_ = have_w_ = false;
      return;
    }
    check_hold(aw_, "AW", s.awvalid.read(), s.awready.read(), s.awaddr.read());
    check_hold(w_, "W", s.wvalid.read(), s.wready.read(), (uint64_t{s.wstrb.read()} << 32) | s.wdata.read());
    check_hold(ar_, "AR", s.arvalid.read(), s.arready.read(), s.araddr.read());

    if (s.awvalid.read() && s.awready.read()) {
      have_aw_ = true;
      aw_addr_ = s.awaddr.read();
      aw_cycle = now;
    }
    if (s.wvalid.read() && s.wready.read()) {
      have_w_ = true;
      w_data_ = s.wdata.read();
      w_strb_ = s.wstrb.read();
      if (w_strb_ & ~0xFu) errors.push_back("WSTRB beyond 4 lanes");
      w_cycle = now;
    }
    if (s.bvalid.read() && s.bready.read()) s.bvalid.write(false);
    if (s.rvalid.read() && s.rready.read()) s.rvalid.write(false);
    const bool b_busy = s.bvalid.read() && !(s.bready.read());
    const bool r_busy = s.rvalid.read() && !(s.rready.read());

    // A complete write (AW and W held) is performed, B raised (unless one is still pending).
    if (have_aw_ && have_w_ && !b_busy && !stall()) {
      uint32_t resp = xtu::model::kAxiRespOkay;
      const size_t i = aw_addr_ / 4;
      if (aw_addr_ % 4 == 0 && i < regs.size()) {
        uint32_t mask = 0;
        for (int b = 0; b < 4; ++b)
          if ((w_strb_ >> b) & 1) mask |= 0xFFu << (8 * b);
        regs[i] = (regs[i] & ~mask) | (w_data_ & mask);
      } else {
        resp = xtu::model::kAxiRespSlverr;
      }
      log.push_back({true, aw_addr_, w_data_, w_strb_, now});
      s.bresp.write(resp);
      s.bvalid.write(true);
      have_aw_ = have_w_ = false;
    }
    // A read is answered the edge after its AR.
    if (s.arvalid.read() && s.arready.read()) {
      const uint32_t a = s.araddr.read();
      const size_t i = a / 4;
      const bool ok = a % 4 == 0 && i < regs.size();
      log.push_back({false, a, ok ? regs[i] : kBadData, 0, now});
      s.rdata.write(ok ? regs[i] : kBadData);
      s.rresp.write(ok ? xtu::model::kAxiRespOkay : xtu::model::kAxiRespSlverr);
      s.rvalid.write(true);
    }
    // READY for the next edge: room in the holding register (AR: no read response pending).
    const bool ar_taken = s.arvalid.read() && s.arready.read();
    s.awready.write(!mute && !have_aw_ && !stall());
    s.wready.write(!mute && !have_w_ && !stall());
    s.arready.write(!mute && !r_busy && !ar_taken && !stall());
  }

  Held aw_, w_, ar_;
  bool have_aw_ = false, have_w_ = false;
  uint32_t aw_addr_ = 0, w_data_ = 0, w_strb_ = 0;
  uint64_t cycle_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace xtu::test
