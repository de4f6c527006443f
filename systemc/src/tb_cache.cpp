#include "xtu/model/tb_cache.hpp"

#include <cstring>

#include "xtu/regs.hpp"

namespace xtu::model {

namespace L = xtu::regs;

TbCache::TbCache(sc_core::sc_module_name n, const UnitConfig& cfg, UnitCounters& counters, unsigned entries,
                 unsigned max_nodes, unsigned max_probe)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), req("req"), resp("resp"),
      mem_rd("mem"), mem_wr("mem"), error_o("error_o"), cfg_(cfg), cnt_(counters), max_nodes_(max_nodes),
      max_probe_(max_probe), lines_(entries), valid_(entries), plru_(entries) {
  SC_HAS_PROCESS(TbCache);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

uint64_t TbCache::hash_index(uint64_t key, uint32_t entries) {
  unsigned bits = 0;
  while ((1u << bits) < entries) ++bits;
  if (bits == 0) return 0;
  return (key * 0x9E3779B97F4A7C15ull) >> (64 - bits);
}

int TbCache::cam_lookup(uint64_t addr) const {
  auto it = cam_.find(addr);
  return it == cam_.end() ? -1 : int(it->second);
}

// Tree pseudo-LRU over a power-of-two number of lines: plru_[1..n-1] are the tree's nodes
// (plru_[k] = 1: the next victim is in the right subtree of node k).
void TbCache::touch(unsigned line) {
  unsigned n = unsigned(lines_.size()), k = 1, lo = 0, span = n;
  while (span > 1) {
    span /= 2;
    bool right = line >= lo + span;
    plru_[k] = right ? 0 : 1;  // point away from the line just used
    k = 2 * k + (right ? 1 : 0);
    if (right) lo += span;
  }
}

unsigned TbCache::victim() {
  for (unsigned i = 0; i < lines_.size(); ++i)
    if (!valid_[i]) return i;
  unsigned n = unsigned(lines_.size()), k = 1, lo = 0, span = n;
  while (span > 1) {
    span /= 2;
    bool right = plru_[k] != 0;
    k = 2 * k + (right ? 1 : 0);
    if (right) lo += span;
  }
  return lo;
}

void TbCache::drop_key(uint64_t key) {
  auto it = cam_.find(key);
  if (it == cam_.end()) return;
  valid_[it->second] = false;
  cam_.erase(it);
}

void TbCache::reset_state() {
  for (unsigned i = 0; i < lines_.size(); ++i) valid_[i] = false;
  cam_.clear();
  std::fill(plru_.begin(), plru_.end(), 0);
  epoch_ = 1;
  st_ = State::Idle;
  resp_valid_ = rreq_valid_ = wreq_valid_ = wbeat_valid_ = false;
  error_ = 0;
  buf_.clear();
}

bool TbCache::in_window(uint64_t addr, uint64_t bytes, uint64_t base, uint64_t size) const {
  return addr >= base && bytes <= size && addr - base <= size - bytes;
}

void TbCache::fail(uint32_t bits) {
  error_ |= bits;
  st_ = State::Error;
}

void TbCache::start_probe(const CacheReq& r) {
  cur_ = r;
  probes_ = 0;
  free_idx_ = -1;
  probe_idx_ = hash_index(r.addr, cfg_.ht_entries);
  st_ = State::Probe;
}

void TbCache::next_probe() {
  if (++probes_ >= max_probe_ || probes_ >= cfg_.ht_entries) {
    // No free entry and no match within HT_MAX_PROBE entries.
    if (cur_.op == CacheReq::Op::Load && free_idx_ < 0) return fail(kErrTableFull);
    if (cur_.op == CacheReq::Op::Load) {
      entry_addr_ = cfg_.ht_base + uint64_t(free_idx_) * L::ht::kSize;
      st_ = State::WriteEntry;
      return;
    }
    resp_reg_ = CacheResp{false, 0};
    st_ = State::Respond;
    return;
  }
  probe_idx_ = (probe_idx_ + 1) & (cfg_.ht_entries - 1);
  st_ = State::Probe;
}

void TbCache::on_entry(const uint8_t* e) {
  ++cnt_[kCtrHtProbes];
  uint64_t key = L::ht::kKey.load(e);
  uint32_t epoch = L::ht::kEpoch.load(e);
  auto state = L::ht::kState.load(e);
  bool live = epoch == epoch_ && state != L::HtState::Empty;  // stale entries count as empty
  bool valid = live && state == L::HtState::Valid;
  bool match = valid && key == cur_.addr;
  uint64_t here = cfg_.ht_base + probe_idx_ * L::ht::kSize;
  if (match) {
    entry_addr_ = here;
    found_desc_ = L::ht::kDesc.load(e);
    found_nodes_ = L::ht::kNodes.load(e);
    found_link_[0] = L::ht::kLink0.load(e);
    found_link_[1] = L::ht::kLink1.load(e);
    switch (cur_.op) {
      case CacheReq::Op::Lookup: {
        // Header and nodes in one burst when the node count is known (it is, from the LOAD) and
        // the descriptor does not cross a 4 KiB boundary; else the header first.
        uint64_t bytes = L::desc::kSize + 8ull * found_nodes_;
        bool one = found_nodes_ >= 1 && found_nodes_ <= max_nodes_ && (found_desc_ & 4095) + bytes <= 4096;
        if (!one) bytes = L::desc::kSize;
        if (!in_window(found_desc_, bytes, cfg_.desc_base, cfg_.desc_size)) return fail(kErrBounds);
        rreq_reg_ = MemRead{found_desc_, uint16_t(bytes / 8)};
        rreq_valid_ = true;
        beats_expected_ = unsigned(L::desc::kSize / 8);
        buf_.clear();
        st_ = State::HeaderWait;
        return;
      }
      case CacheReq::Op::Load:
        st_ = State::WriteEntry;  // the same key again: a new descriptor replaces the old one
        return;
      default:
        st_ = State::WriteEntry;  // LINK / UNLINK / INVALIDATE write part of this entry
        return;
    }
  }
  if (!live) {
    // An empty (or stale) entry ends the probe sequence.
    if (cur_.op == CacheReq::Op::Load) {
      entry_addr_ = free_idx_ >= 0 ? cfg_.ht_base + uint64_t(free_idx_) * L::ht::kSize : here;
      st_ = State::WriteEntry;
      return;
    }
    resp_reg_ = CacheResp{false, 0};
    st_ = State::Respond;
    return;
  }
  if (state == L::HtState::Deleted && free_idx_ < 0) free_idx_ = int64_t(probe_idx_);
  next_probe();
}

void TbCache::fill_line() {
  L::Desc h = L::Desc::load(hdr_);
  unsigned n = h.n;
  unsigned line = victim();
  if (valid_[line]) cam_.erase(lines_[line].host);
  WalkLine& l = lines_[line];
  l.tb = h.kind == L::DescKind::Tb;
  l.host = h.host;
  l.pc = h.pc;
  l.icount = h.icount;
  l.n = uint8_t(n);
  l.nodes.resize(n);
  for (unsigned k = 0; k < n; ++k) {
    uint64_t w;
    std::memcpy(&w, buf_.data() + 8 * k, 8);
    L::Node nd = L::Node::unpack(w);
    l.nodes[k] = WalkNode{uint8_t(nd.kind), uint8_t(nd.succ), uint8_t(nd.alt), uint8_t(nd.slot), uint16_t(nd.ret)};
  }
  for (int s = 0; s < 2; ++s) l.link[s] = found_link_[s] ? cfg_.code_base + found_link_[s] : 0;
  valid_[line] = true;
  cam_[l.host] = line;
  touch(line);
  ++cnt_[kCtrCamRefills];
  resp_reg_ = CacheResp{true, uint16_t(line)};
  st_ = State::Respond;
}

void TbCache::seq() {
  if (!rst_ni.read()) {
    reset_state();
    req.ready.write(false);
    resp.valid.write(false);
    mem_rd.req.valid.write(false);
    mem_rd.beat.ready.write(true);
    mem_wr.req.valid.write(false);
    mem_wr.beat.valid.write(false);
    mem_wr.ack.ready.write(true);
    error_o.write(0);
    return;
  }
  if (start_i.read()) reset_state();

  // Transfers at this edge.
  if (resp.fired()) resp_valid_ = false;
  if (mem_rd.req.fired()) rreq_valid_ = false;
  if (mem_wr.req.fired()) wreq_valid_ = false;
  if (mem_wr.beat.fired()) wbeat_valid_ = false;
  bool got_req = req.fired();
  CacheReq r = req.data.read();

  if (mem_rd.beat.fired()) {
    MemBeat b = mem_rd.beat.data.read();
    if (b.resp) fail(kErrAxi);
    uint8_t bytes[8];
    std::memcpy(bytes, &b.data, 8);
    buf_.insert(buf_.end(), bytes, bytes + 8);
  }
  if (mem_wr.ack.fired() && mem_wr.ack.data.read().resp) fail(kErrAxi);

  switch (st_) {
    case State::Idle:
      if (!got_req) break;
      if (r.op == CacheReq::Op::Flush) {
        ++epoch_;  // every table entry is stale from now on
        for (unsigned i = 0; i < lines_.size(); ++i) valid_[i] = false;
        cam_.clear();
        resp_reg_ = CacheResp{false, 0};
        st_ = State::Respond;
        break;
      }
      if (cfg_.ht_entries == 0 || (cfg_.ht_entries & (cfg_.ht_entries - 1)) || cfg_.ht_base % L::ht::kSize) {
        fail(kErrBounds);
        break;
      }
      if (r.op == CacheReq::Op::Load && !in_window(r.desc, L::desc::kSize, cfg_.desc_base, cfg_.desc_size)) {
        fail(kErrEvent);
        break;
      }
      if (r.op == CacheReq::Op::Link && (r.target <= cfg_.code_base || r.target - cfg_.code_base >= cfg_.code_size)) {
        fail(kErrEvent);
        break;
      }
      if (r.op == CacheReq::Op::Load || r.op == CacheReq::Op::Invalidate) drop_key(r.addr);
      start_probe(r);
      break;
    case State::Probe:
      if (rreq_valid_) break;
      rreq_reg_ = MemRead{cfg_.ht_base + probe_idx_ * L::ht::kSize, uint16_t(L::ht::kSize / 8)};
      rreq_valid_ = true;
      beats_expected_ = unsigned(L::ht::kSize / 8);
      buf_.clear();
      st_ = State::ProbeWait;
      break;
    case State::ProbeWait:
      if (buf_.size() >= beats_expected_ * 8) on_entry(buf_.data());
      break;
    case State::HeaderWait:
      if (buf_.size() >= beats_expected_ * 8) {
        std::memcpy(hdr_, buf_.data(), sizeof hdr_);
        L::Desc h = L::Desc::load(hdr_);
        bool ok = h.host == cur_.addr && h.n >= 1 && h.n <= max_nodes_ &&
                  (h.kind == L::DescKind::Tb || h.kind == L::DescKind::Code) &&
                  (found_nodes_ == 0 || found_nodes_ == h.n);
        uint64_t nodes_at = found_desc_ + L::desc::kSize;
        if (ok && !in_window(nodes_at, 8ull * h.n, cfg_.desc_base, cfg_.desc_size)) {
          fail(kErrBounds);
          break;
        }
        if (!ok) {
          // A descriptor that does not describe this entry point: a line with one INVALID node
          // (the walker reports a decode error when it gets there).
          std::memset(hdr_, 0, sizeof hdr_);
          L::desc::kHost.store(hdr_, cur_.addr);
          L::desc::kN.store(hdr_, 1);
          L::desc::kKind.store(hdr_, L::DescKind::Code);
          buf_.assign(8, 0);
          L::Node bad{};
          bad.kind = L::NodeKind::Invalid;
          uint64_t w = bad.pack();
          std::memcpy(buf_.data(), &w, 8);
          fill_line();
          break;
        }
        if (rreq_reg_.beats * 8ull == L::desc::kSize + 8ull * h.n) {
          // The nodes came with the header: wait for the rest of the burst.
          buf_.erase(buf_.begin(), buf_.begin() + L::desc::kSize);
          beats_expected_ = h.n;
          st_ = State::NodesWait;
          break;
        }
        // Nodes, in bursts that do not cross a 4 KiB boundary.
        buf_.clear();
        beats_expected_ = h.n;
        uint64_t room = (4096 - (nodes_at & 4095)) / 8;
        rreq_reg_ = MemRead{nodes_at, uint16_t(std::min<uint64_t>(h.n, room))};
        rreq_valid_ = true;
        st_ = State::NodesWait;
      }
      break;
    case State::NodesWait: {
      unsigned got = unsigned(buf_.size() / 8);
      if (got >= beats_expected_) {
        fill_line();
      } else if (!rreq_valid_) {
        // All beats of the last burst received and more nodes to read: the next burst.
        L::Desc h = L::Desc::load(hdr_);
        uint64_t at = found_desc_ + L::desc::kSize + 8ull * got;
        uint64_t requested_end = rreq_reg_.addr + 8ull * rreq_reg_.beats;
        if (at == requested_end) {
          uint64_t room = (4096 - (at & 4095)) / 8;
          rreq_reg_ = MemRead{at, uint16_t(std::min<uint64_t>(h.n - got, room))};
          rreq_valid_ = true;
        }
      }
      break;
    }
    case State::WriteEntry: {
      // Build the write: a whole entry (LOAD) or the beat holding the field (LINK, UNLINK,
      // INVALIDATE).
      wbeats_.clear();
      uint64_t waddr = entry_addr_;
      if (cur_.op == CacheReq::Op::Load) {
        uint8_t e[32] = {};
        L::ht::kKey.store(e, cur_.addr);
        L::ht::kEpoch.store(e, epoch_);
        L::ht::kState.store(e, L::HtState::Valid);
        L::ht::kDesc.store(e, cur_.desc);
        L::ht::kNodes.store(e, cur_.nodes);
        for (int k = 0; k < 4; ++k) {
          uint64_t w;
          std::memcpy(&w, e + 8 * k, 8);
          wbeats_.push_back(MemWBeat{w, 0xff, k == 3});
        }
      } else if (cur_.op == CacheReq::Op::Invalidate) {
        uint8_t e[8] = {};
        e[L::ht::kState.byte - 8] = uint8_t(L::HtState::Deleted);
        uint64_t w;
        std::memcpy(&w, e, 8);
        waddr = entry_addr_ + 8;
        wbeats_.push_back(MemWBeat{w, uint8_t(1u << (L::ht::kState.byte - 8)), true});
      } else {
        unsigned slot = cur_.slot & 1;
        uint32_t v = cur_.op == CacheReq::Op::Link ? uint32_t(cur_.target - cfg_.code_base) : 0;
        uint32_t byte = slot ? L::ht::kLink1.byte : L::ht::kLink0.byte;
        waddr = entry_addr_ + (byte & ~7u);
        uint64_t w = uint64_t(v) << (8 * (byte & 7));
        wbeats_.push_back(MemWBeat{w, uint8_t(0x0f << (byte & 7)), true});
        // The cached copy follows (write-through).
        int line = cam_lookup(cur_.addr);
        if (line >= 0) lines_[unsigned(line)].link[slot] = v ? cur_.target : 0;
      }
      wreq_reg_ = MemWrite{waddr, uint16_t(wbeats_.size())};
      wreq_valid_ = true;
      wnext_ = 0;
      st_ = State::WriteWait;
      break;
    }
    case State::WriteWait:
      if (!wbeat_valid_ && wnext_ < wbeats_.size()) {
        wbeat_reg_ = wbeats_[wnext_++];
        wbeat_valid_ = true;
      }
      if (mem_wr.ack.fired()) {
        resp_reg_ = CacheResp{cur_.op == CacheReq::Op::Load || cur_.op == CacheReq::Op::Lookup, 0};
        st_ = State::Respond;
      }
      break;
    case State::Respond:
      if (!resp_valid_) {
        resp_valid_ = true;
        st_ = State::Idle;
      }
      break;
    case State::Error:
      break;
  }

  req.ready.write(st_ == State::Idle && !resp_valid_ && error_ == 0);
  resp.valid.write(resp_valid_);
  if (resp_valid_) resp.data.write(resp_reg_);
  mem_rd.req.valid.write(rreq_valid_);
  if (rreq_valid_) mem_rd.req.data.write(rreq_reg_);
  mem_rd.beat.ready.write(true);
  mem_wr.req.valid.write(wreq_valid_);
  if (wreq_valid_) mem_wr.req.data.write(wreq_reg_);
  mem_wr.beat.valid.write(wbeat_valid_);
  if (wbeat_valid_) mem_wr.beat.data.write(wbeat_reg_);
  mem_wr.ack.ready.write(true);
  error_o.write(error_);
}

}  // namespace xtu::model
