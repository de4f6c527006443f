// A synchronous FIFO block between two channels: registered outputs, DEPTH entries, full
// throughput (one item in and one out per cycle) for DEPTH >= 2.
#pragma once

#include <systemc>

#include <vector>

#include "xtu/model/channel.hpp"

namespace xtu::model {

template <typename T>
class Fifo : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  ChanIn<T> in;
  ChanOut<T> out;

  Fifo(sc_core::sc_module_name n, unsigned depth)
      : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), in("in"), out("out"), depth_(depth), buf_(depth) {
    SC_HAS_PROCESS(Fifo);
    SC_METHOD(seq);
    sensitive << clk_i.pos();
    dont_initialize();
  }
  unsigned count() const { return count_; }
  unsigned depth() const { return depth_; }

private:
  void seq() {
    if (!rst_ni.read()) {
      head_ = count_ = 0;
      in.ready.write(true);
      out.valid.write(false);
      return;
    }
    bool push = in.fired(), pop = out.fired();
    if (pop) {
      head_ = (head_ + 1) % depth_;
      --count_;
    }
    if (push) {
      buf_[(head_ + count_) % depth_] = in.data.read();
      ++count_;
    }
    in.ready.write(count_ < depth_);
    out.valid.write(count_ > 0);
    if (count_ > 0) out.data.write(buf_[head_]);
  }

  unsigned depth_;
  std::vector<T> buf_;
  unsigned head_ = 0, count_ = 0;
};

}  // namespace xtu::model
