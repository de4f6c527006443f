#include "xtu/sim/memory_store.hpp"

#include <algorithm>
#include <cstring>

namespace xtu::sim {

uint8_t SparseMemory::byte_at(uint64_t addr) const {
  const auto it = pages_.find(addr / kPageSize);
  return it == pages_.end() ? 0 : (*it->second)[addr % kPageSize];
}

void SparseMemory::set_byte(uint64_t addr, uint8_t v) {
  auto& page = pages_[addr / kPageSize];
  if (!page) page = std::make_unique<Page>(Page{});
  (*page)[addr % kPageSize] = v;
}

void SparseMemory::write(uint64_t addr, const void* src, size_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  while (n > 0) {
    const size_t off = addr % kPageSize;
    const size_t chunk = std::min<size_t>(n, kPageSize - off);
    auto& page = pages_[addr / kPageSize];
    if (!page) page = std::make_unique<Page>(Page{});
    std::memcpy(page->data() + off, p, chunk);
    addr += chunk, p += chunk, n -= chunk;
  }
}

void SparseMemory::read(uint64_t addr, void* dst, size_t n) const {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const size_t off = addr % kPageSize;
    const size_t chunk = std::min<size_t>(n, kPageSize - off);
    const auto it = pages_.find(addr / kPageSize);
    if (it == pages_.end()) std::memset(p, 0, chunk);
    else std::memcpy(p, it->second->data() + off, chunk);
    addr += chunk, p += chunk, n -= chunk;
  }
}

uint64_t SparseMemory::read64(uint64_t addr) const {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{byte_at(addr + i)} << (8 * i);
  return v;
}

void SparseMemory::write64(uint64_t addr, uint64_t value) {
  for (int i = 0; i < 8; ++i) set_byte(addr + i, static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t SparseMemory::read32(uint64_t addr) const { return static_cast<uint32_t>(read64(addr)); }

void SparseMemory::write32(uint64_t addr, uint32_t value) {
  for (int i = 0; i < 4; ++i) set_byte(addr + i, static_cast<uint8_t>(value >> (8 * i)));
}

const char* to_string(ViolationKind k) {
  switch (k) {
    case ViolationKind::Outside: return "outside";
    case ViolationKind::ReadOnly: return "read-only";
    case ViolationKind::WriteOnly: return "write-only";
    case ViolationKind::Cross4K: return "4k-crossing";
    case ViolationKind::Unsupported: return "unsupported";
    case ViolationKind::Protocol: return "protocol";
  }
  return "?";
}

WindowCheck check_windows(const std::vector<Window>& windows, uint64_t addr, uint64_t n, bool write) {
  // Window by window: from byte b, jump past the furthest permitted window that holds it.
  for (uint64_t b = addr; b - addr < n;) {
    const Window* other = nullptr;  // a window holding b without the needed permission
    uint64_t next = b;
    for (const Window& w : windows) {
      if (b - w.base >= w.size) continue;  // (unsigned: also rejects b < base)
      if (write ? w.write : w.read) next = std::max(next, w.base + w.size);
      else other = &w;
    }
    if (next > b) {
      b = next;
      continue;
    }
    WindowCheck c;
    c.ok = false;
    c.addr = b;
    if (other) {
      c.kind = write ? ViolationKind::ReadOnly : ViolationKind::WriteOnly;
      c.name = other->name;
      c.why = (write ? "write to read-only window '" : "read of write-only window '") + other->name + "'";
    } else {
      c.kind = ViolationKind::Outside;
      c.why = "outside every window";
    }
    return c;
  }
  return WindowCheck{};
}

}  // namespace xtu::sim
