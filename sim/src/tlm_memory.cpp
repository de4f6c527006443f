// TlmMemory: see tlm_memory.hpp.
#include "xtu/sim/tlm_memory.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace xtu::sim {

namespace {

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

}  // namespace

TlmMemory::TlmMemory(const sc_core::sc_module_name& name, const TlmMemoryTiming& timing)
    : sc_module(name), socket("socket"), timing_(timing) {
  socket.register_b_transport(this, &TlmMemory::b_transport);
  socket.register_transport_dbg(this, &TlmMemory::transport_dbg);
}

void TlmMemory::allow(uint64_t base, uint64_t size, const std::string& name, bool read, bool write) {
  windows_.push_back(Window{base, size, name, read, write});
}

void TlmMemory::inject_error(uint64_t base, uint64_t size, tlm::tlm_response_status status, bool read, bool write) {
  injected_.push_back(Injected{base, size, status, read, write});
}

std::string TlmMemory::describe(const Violation& v) {
  std::ostringstream os;
  os << "TLM " << (v.write ? "write" : "read") << " of " << v.bytes << " byte(s) at " << hex(v.addr) << " (cycle "
     << v.cycle << ") refused: " << v.why;
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Transport

tlm::tlm_response_status TlmMemory::serve(tlm::tlm_generic_payload& t) {
  const tlm::tlm_command cmd = t.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  const bool wr = cmd == tlm::TLM_WRITE_COMMAND;
  const uint64_t addr = t.get_address();
  const uint64_t n = t.get_data_length();
  unsigned char* data = t.get_data_ptr();
  unsigned char* be = t.get_byte_enable_ptr();
  const unsigned be_len = t.get_byte_enable_length();
  if (n == 0 || !data || t.get_streaming_width() < n) {
    ++stats_.refused;
    return n == 0 || !data ? tlm::TLM_GENERIC_ERROR_RESPONSE : tlm::TLM_BURST_ERROR_RESPONSE;
  }
  if (be && be_len == 0) {
    ++stats_.refused;
    return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  }

  for (const Injected& e : injected_)
    if ((wr ? e.write : e.read) && addr < e.base + e.size && e.base < addr + n) {
      ++stats_.injected;
      return e.status;
    }

  if (WindowCheck c = check_windows(windows_, addr, n, wr); !c.ok) {
    Violation v;
    v.kind = c.kind;
    v.write = wr;
    v.addr = c.addr;
    v.bytes = n;
    v.cycle = static_cast<uint64_t>(sc_core::sc_time_stamp() / period_);
    v.name = std::move(c.name);
    v.why = std::move(c.why) + " (transaction at " + hex(addr) + ")";
    violations_.push_back(v);
    ++stats_.refused;
    if (fail_on_violation_) SC_REPORT_ERROR(kMsgType, describe(v).c_str());
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  }

  auto enabled = [&](uint64_t i) { return !be || be[i % be_len] == TLM_BYTE_ENABLED; };
  if (wr) {
    ++stats_.writes;
    if (!be) {
      write(addr, data, n);
      stats_.write_bytes += n;
    } else {
      for (uint64_t i = 0; i < n; ++i)
        if (enabled(i)) {
          store_.set_byte(addr + i, data[i]);
          ++stats_.write_bytes;
        }
    }
  } else {
    ++stats_.reads;
    stats_.read_bytes += n;
    if (!be) {
      read(addr, data, n);
    } else {
      for (uint64_t i = 0; i < n; ++i)
        if (enabled(i)) data[i] = store_.byte_at(addr + i);
    }
  }
  return tlm::TLM_OK_RESPONSE;
}

void TlmMemory::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  TlmAccess a;
  if (logging_) {
    a.command = t.get_command();
    a.addr = t.get_address();
    a.length = t.get_data_length();
    a.streaming_width = t.get_streaming_width();
    if (t.get_byte_enable_ptr())
      a.byte_enables.assign(t.get_byte_enable_ptr(), t.get_byte_enable_ptr() + t.get_byte_enable_length());
    a.time = sc_core::sc_time_stamp();
    a.delay_in = delay;
  }
  const tlm::tlm_response_status s = serve(t);
  t.set_response_status(s);
  t.set_dmi_allowed(false);
  if (t.get_command() == tlm::TLM_READ_COMMAND) delay += timing_.read_latency;
  else if (t.get_command() == tlm::TLM_WRITE_COMMAND) delay += timing_.write_latency;
  if (logging_) {
    a.response = s;
    log_.push_back(std::move(a));
  }
}

unsigned TlmMemory::transport_dbg(tlm::tlm_generic_payload& t) {
  const unsigned n = t.get_data_length();
  if (t.get_command() == tlm::TLM_READ_COMMAND) read(t.get_address(), t.get_data_ptr(), n);
  else if (t.get_command() == tlm::TLM_WRITE_COMMAND) write(t.get_address(), t.get_data_ptr(), n);
  else return 0;
  return n;
}

}  // namespace xtu::sim
