#include "xtu/capture/replay.hpp"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>
#include "xtu/formats/hex.hpp"

namespace xtu::capture {
namespace {

std::string describe_id(const TbId& id) {
  return "pc " + hex(id.pc) + " cs_base " + hex(id.cs_base) + " flags " + hex(id.flags);
}

uint64_t link_key(size_t tb, unsigned slot) { return (uint64_t(tb) << 2) | slot; }

}  // namespace

const char* transition_name(Transition t) {
  switch (t) {
    case Transition::Linked: return "linked";
    case Transition::ToC: return "to_c";
    case Transition::LookupHit: return "lookup_hit";
    case Transition::LookupMiss: return "lookup_miss";
    case Transition::NoReturn: return "noreturn";
    case Transition::End: return "end";
  }
  return "?";
}

std::string to_string(const ExecLine& l) {
  if (l.kind == ExecLine::Kind::Trace) return "Trace " + hex(l.host) + " pc " + hex(l.pc);
  return "Linking TBs " + hex(l.host) + " index " + std::to_string(l.slot) + " -> " + hex(l.dst);
}

Replay::Replay(const hostcode::Prologue& prologue, std::vector<Translation> translations, bool chained)
    : prologue_(prologue), translations_(std::move(translations)), chained_(chained) {}

Translation& Replay::find_or_translate(const TbId& id, ReplaySink& sink, bool& flushed, size_t index) {
  flushed = false;
  auto it = table_.find(id);
  if (it != table_.end()) return translations_[it->second];
  if (next_translation_ >= translations_.size())
    throw std::runtime_error("execution " + std::to_string(index) + " needs a translation of " + describe_id(id) +
                             " but the traced run's log has no more translations");
  size_t k = next_translation_++;
  Translation& t = translations_[k];
  if (!(t.id == id))
    throw std::runtime_error("execution " + std::to_string(index) + " needs a translation of " + describe_id(id) +
                             " but the traced run's next translation (log line " + std::to_string(t.log_line) +
                             ") is " + describe_id(t.id) + ": the runs diverged");
  // Host addresses only grow until the buffer is full; a lower one means tb_flush emptied it.
  if (stats_.translations > 0 && t.host_addr < last_host_) {
    table_.clear();
    links_.clear();
    ++stats_.flushes;
    flushed = true;
    sink.flush();
  }
  last_host_ = t.host_addr;
  table_[id] = k;
  ++stats_.translations;
  sink.translate(t);
  return t;
}

void Replay::run(const std::vector<Executed>& executed, ReplaySink& sink) {
  if (executed.empty()) return;
  auto id_of = [](const Executed& l) { return TbId{l.pc, l.cs_base, l.flags}; };
  auto trace_line = [&](const Translation& t) {
    predicted_.push_back({ExecLine::Kind::Trace, t.host_addr, t.id.pc, 0, 0});
  };

  bool flushed = false;
  Translation* cur = &find_or_translate(id_of(executed[0]), sink, flushed, 0);
  trace_line(*cur);
  sink.enter_from_c(*cur);

  for (size_t i = 0; i < executed.size(); ++i) {
    ++stats_.executions;
    bool last = i + 1 == executed.size();
    std::optional<uint64_t> next_pc;
    if (!last) next_pc = executed[i + 1].pc;
    const hostcode::Path* path = cur->code_model->path_to(next_pc);
    if (!path)
      throw std::runtime_error("execution " + std::to_string(i) + ": no host path through TB " + hex(cur->host_addr) +
                               " (" + describe_id(cur->id) + ", log line " + std::to_string(cur->log_line) +
                               ") leads to " + (last ? std::string("the end of the run") : "pc " + hex(*next_pc)));
    stats_.unobservable_branches += path->unobservable;
    if (path->unobservable) stats_.unobservable_by_pc[cur->id.pc] += path->unobservable;
    stats_.host_insns += path->insns;
    if (last) {
      sink.run_tb(*cur, *path, path->exit.kind == hostcode::Exit::Kind::NoReturn ? Transition::NoReturn : Transition::End,
                  nullptr);
      break;
    }
    const TbId next_id = id_of(executed[i + 1]);
    size_t cur_index = size_t(cur - translations_.data());
    const hostcode::Exit& ex = path->exit;
    switch (ex.kind) {
      case hostcode::Exit::Kind::GotoTb: {
        if (!chained_)
          throw std::runtime_error("TB " + hex(cur->host_addr) + " of a nochain run exits through goto_tb");
        auto l = links_.find(link_key(cur_index, ex.slot));
        if (l != links_.end()) {
          Translation& dst = translations_[l->second];
          if (!(dst.id == next_id))
            throw std::runtime_error("execution " + std::to_string(i) + ": slot " + std::to_string(ex.slot) + " of TB " +
                                     hex(cur->host_addr) + " is linked to " + describe_id(dst.id) + " but the next block is " +
                                     describe_id(next_id));
          ++stats_.linked;
          sink.run_tb(*cur, *path, Transition::Linked, &dst);
          cur = &dst;
          continue;
        }
        ++stats_.to_c;
        sink.run_tb(*cur, *path, Transition::ToC, nullptr);
        Translation* src = cur;
        cur = &find_or_translate(next_id, sink, flushed, i + 1);
        if (!flushed) {
          size_t dst_index = size_t(cur - translations_.data());
          links_[link_key(size_t(src - translations_.data()), ex.slot)] = dst_index;
          predicted_.push_back({ExecLine::Kind::Link, src->host_addr, 0, ex.slot, cur->host_addr});
          ++stats_.links;
          sink.link(*src, ex.slot, ex.addr, *cur);
        }
        trace_line(*cur);
        sink.enter_from_c(*cur);
        break;
      }
      case hostcode::Exit::Kind::GotoPtr: {
        auto hit = table_.find(next_id);
        if (hit != table_.end()) {
          ++stats_.lookup_hit;
          Translation& dst = translations_[hit->second];
          sink.run_tb(*cur, *path, Transition::LookupHit, &dst);
          cur = &dst;
          trace_line(*cur);  // helper_lookup_tb_ptr logs the TB it found
          break;
        }
        ++stats_.lookup_miss;
        sink.run_tb(*cur, *path, Transition::LookupMiss, nullptr);
        cur = &find_or_translate(next_id, sink, flushed, i + 1);
        trace_line(*cur);
        sink.enter_from_c(*cur);
        break;
      }
      case hostcode::Exit::Kind::ExitTb:
      case hostcode::Exit::Kind::NoReturn: {
        bool noreturn = ex.kind == hostcode::Exit::Kind::NoReturn;
        if (noreturn) ++stats_.noreturn; else ++stats_.to_c;
        sink.run_tb(*cur, *path, noreturn ? Transition::NoReturn : Transition::ToC, nullptr);
        cur = &find_or_translate(next_id, sink, flushed, i + 1);
        trace_line(*cur);
        sink.enter_from_c(*cur);
        break;
      }
    }
  }
}

std::string compare_exec_logs(const std::vector<ExecLine>& predicted, const std::vector<ExecLine>& real) {
  size_t n = std::min(predicted.size(), real.size());
  for (size_t i = 0; i < n; ++i)
    if (!(predicted[i] == real[i]))
      return "exec log line " + std::to_string(i) + ": predicted '" + to_string(predicted[i]) + "', QEMU wrote '" +
             to_string(real[i]) + "'";
  if (predicted.size() != real.size())
    return "predicted " + std::to_string(predicted.size()) + " exec log lines, QEMU wrote " + std::to_string(real.size());
  return "";
}

}  // namespace xtu::capture
