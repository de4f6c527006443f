// Valid/ready channels between the unit's blocks, with the handshake every block follows: an item
// moves at a rising edge where `valid` and `ready` were both high (both are registered outputs
// of their blocks); a block raises `ready` only when it can take an item at the next edge
// whatever else happens at that edge.
//
//   Channel<T>   the signals (valid, ready, data) between two blocks
//   ChanOut<T>   the producer's ports;  ChanIn<T> the consumer's ports
#pragma once

#include <systemc>

#include <ostream>
#include <string>

namespace xtu::model {

template <typename T>
struct Channel {
  explicit Channel(const std::string& n)
      : valid((n + "_valid").c_str()), ready((n + "_ready").c_str()), data((n + "_data").c_str()) {}
  sc_core::sc_signal<bool> valid, ready;
  sc_core::sc_signal<T> data;
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, valid, n + "_valid");
    sc_core::sc_trace(tf, ready, n + "_ready");
    sc_core::sc_trace(tf, data, n + "_data");
  }
};

template <typename T>
struct ChanOut {
  explicit ChanOut(const std::string& n)
      : valid((n + "_valid_o").c_str()), ready((n + "_ready_i").c_str()), data((n + "_data_o").c_str()) {}
  sc_core::sc_out<bool> valid;
  sc_core::sc_in<bool> ready;
  sc_core::sc_out<T> data;
  void bind(Channel<T>& c) { valid(c.valid); ready(c.ready); data(c.data); }
  bool fired() const { return valid.read() && ready.read(); }  // an item moved at this edge
};

template <typename T>
struct ChanIn {
  explicit ChanIn(const std::string& n)
      : valid((n + "_valid_i").c_str()), ready((n + "_ready_o").c_str()), data((n + "_data_i").c_str()) {}
  sc_core::sc_in<bool> valid;
  sc_core::sc_out<bool> ready;
  sc_core::sc_in<T> data;
  void bind(Channel<T>& c) { valid(c.valid); ready(c.ready); data(c.data); }
  bool fired() const { return valid.read() && ready.read(); }
};

// Item types carried in sc_signals need ==, << and sc_trace: XTU_SIGNAL_TYPE(T) declares them for
// a plain struct whose members are listed by the user-provided `T::fields(F&&)` visitor.
#define XTU_SIGNAL_TYPE(T)                                                                          \
  inline bool operator==(const T& a, const T& b) { return a.tie() == b.tie(); }                    \
  inline std::ostream& operator<<(std::ostream& o, const T& v) { return v.print(o); }              \
  inline void sc_trace(sc_core::sc_trace_file* tf, const T& v, const std::string& n) { v.trace(tf, n); }

}  // namespace xtu::model
