// The generated register header (driver/include/xtu/regs.hpp) against what rtl/regs/xtu_regs.yaml
// and rtl/regs/xtu_layouts.yaml say: offsets, resets, fields, counters, enums, layouts.
#include <xtu/regs.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace regs = xtu::regs;

namespace {

// The header is usable in constant expressions.
static_assert(regs::ctrl::kOffset == 0x010);
static_assert(regs::ctrl::kStart.set(0, 1) == 0x1);
static_assert(regs::node::kKind.get(regs::Node{regs::NodeKind::Invalid}.pack()) == 15);
static_assert(regs::Node::unpack(regs::Node{regs::NodeKind::Call, 3, 4, true, 0x1234, 7}.pack()).ret == 0x1234);
static_assert(regs::to_string(regs::NodeKind::GotoTb) == "GOTO_TB");

TEST(RegsHeader, Identification) {
  EXPECT_EQ(regs::kMapId, 0x58545531u);  // "XTU1"
  EXPECT_EQ(regs::id::kReset, regs::kMapId);
  EXPECT_EQ(regs::version::kReset, regs::kMapVersion);
  EXPECT_EQ(regs::version::kMajor.get(regs::version::kReset), regs::kMapVersionMajor);
  EXPECT_EQ(regs::version::kMinor.get(regs::version::kReset), regs::kMapVersionMinor);
  EXPECT_EQ(regs::version::kPatch.get(regs::version::kReset), regs::kMapVersionPatch);
  EXPECT_EQ(regs::kMapSize, 0x400u);
  EXPECT_EQ(regs::kDataWidth, 32u);
}

TEST(RegsHeader, Offsets) {
  EXPECT_EQ(regs::id::kOffset, 0x000u);
  EXPECT_EQ(regs::ctrl::kOffset, 0x010u);
  EXPECT_EQ(regs::status::kOffset, 0x014u);
  EXPECT_EQ(regs::irq_status::kOffset, 0x01cu);
  EXPECT_EQ(regs::out_watermark::kOffset, 0x020u);
  EXPECT_EQ(regs::evq_entries::kOffset, 0x068u);
  EXPECT_EQ(regs::code_size::kOffset, 0x0d8u);
  // 64-bit registers: the low word at the offset, the high word 4 bytes above.
  EXPECT_EQ(regs::trace_base::kLoOffset, 0x040u);
  EXPECT_EQ(regs::trace_base::kHiOffset, 0x044u);
  EXPECT_EQ(regs::trace_base::kReg.lo(), 0x040u);
  EXPECT_EQ(regs::trace_base::kReg.hi(), 0x044u);
  EXPECT_EQ(regs::out_tail::kReg.name, "OUT_TAIL");
  EXPECT_EQ(regs::ht_entries::kWidth, 32u);
  EXPECT_EQ(regs::ht_base::kWidth, 64u);
}

TEST(RegsHeader, ResetsAndAccess) {
  EXPECT_EQ(regs::out_watermark::kReset, 1u);
  EXPECT_EQ(regs::ctrl::kReset, 0u);
  EXPECT_EQ(regs::trace_base::kReset, 0u);
  EXPECT_EQ(regs::ctrl::kAccess, regs::Access::Rw);
  EXPECT_EQ(regs::status::kAccess, regs::Access::Ro);
  EXPECT_EQ(regs::irq_status::kAccess, regs::Access::W1c);
  EXPECT_EQ(regs::trace_tail::kAccess, regs::Access::Ro);
}

TEST(RegsHeader, RegisterTableIsSortedAlignedAndDisjoint) {
  ASSERT_FALSE(regs::kRegisters.empty());
  std::set<std::string_view> names;
  uint32_t next_free = 0;
  for (const auto& r : regs::kRegisters) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate name";
    EXPECT_TRUE(r.width == 32 || r.width == 64);
    EXPECT_EQ(r.offset % (r.width / 8), 0u) << "misaligned";
    EXPECT_GE(r.offset, next_free) << "overlaps the previous register";
    next_free = r.offset + r.width / 8;
    EXPECT_LE(next_free, regs::counters::kBase) << "runs into the counters";
    if (r.width == 32) {
      EXPECT_EQ(r.reset >> 32, 0u);
    }
  }
  EXPECT_EQ(regs::kRegisters.front().name, "ID");
  EXPECT_EQ(regs::kRegisters[4].name, "CTRL");
  EXPECT_EQ(regs::kRegisters[4].offset, regs::ctrl::kOffset);
}

TEST(RegsHeader, FieldsMatchTheYaml) {
  EXPECT_EQ(regs::ctrl::kStart.shift, 0u);
  EXPECT_EQ(regs::ctrl::kCtxFilter.shift, 5u);
  EXPECT_EQ(regs::ctrl::kCtxFilter.mask, 0x20u);
  EXPECT_EQ(regs::status::kErrBounds.shift, 8u);
  EXPECT_EQ(regs::status::kErrEvent.mask, 1u << 11);
  EXPECT_EQ(regs::params0::kCamEntries.width, 16u);
  EXPECT_EQ(regs::params0::kAxiBytes.mask, 0xff000000u);
  EXPECT_EQ(regs::irq_enable::kWatermark.shift, regs::irq_status::kWatermark.shift);
}

TEST(RegsHeader, FieldGetSetRoundTrip) {
  const regs::Field32 fields[] = {regs::params0::kCamEntries, regs::params0::kMaxNodes, regs::params0::kAxiBytes};
  uint32_t word = 0;
  word = regs::params0::kCamEntries.set(word, 64);
  word = regs::params0::kMaxNodes.set(word, 32);
  word = regs::params0::kAxiBytes.set(word, 8);
  EXPECT_EQ(word, 0x08200040u);
  EXPECT_EQ(regs::params0::kCamEntries.get(word), 64u);
  EXPECT_EQ(regs::params0::kMaxNodes.get(word), 32u);
  EXPECT_EQ(regs::params0::kAxiBytes.get(word), 8u);
  // set() touches only the field, and drops value bits beyond its width.
  for (const auto& f : fields) {
    const uint32_t all = ~0u;
    EXPECT_EQ(f.set(all, 0), all & ~f.mask);
    EXPECT_EQ(f.set(0, all), f.mask);
    EXPECT_EQ(f.mask, ((f.width == 32 ? 0u : (1u << f.width)) - 1u) << f.shift);
  }
  uint32_t ctrl = 0;
  ctrl = regs::ctrl::kTraceLast.set(ctrl, 1);
  ctrl = regs::ctrl::kTimeEn.set(ctrl, 1);
  EXPECT_EQ(ctrl, 0xcu);
  EXPECT_EQ(regs::ctrl::kTraceLast.get(ctrl), 1u);
  EXPECT_EQ(regs::ctrl::kStart.get(ctrl), 0u);
}

TEST(RegsHeader, CountersAreConsecutive8ByteSlots) {
  ASSERT_EQ(regs::kCounters.size(), regs::counters::kCount);
  EXPECT_EQ(regs::counters::kBase, 0x100u);
  EXPECT_EQ(regs::counters::kCount, 20u + 26u);
  std::set<std::string_view> names;
  for (uint32_t i = 0; i < regs::counters::kCount; ++i) {
    EXPECT_EQ(regs::kCounters[i].offset, regs::counters::kBase + 8 * i) << regs::kCounters[i].name;
    EXPECT_TRUE(names.insert(regs::kCounters[i].name).second) << regs::kCounters[i].name;
  }
  EXPECT_LE(regs::counters::kBase + 8 * regs::counters::kCount, regs::kMapSize);
  EXPECT_EQ(regs::kCounters[0].name, "CYCLES");
  EXPECT_EQ(regs::counters::kCyclesOffset, 0x100u);
  EXPECT_EQ(regs::counters::kContextSwitchesOffset, 0x100u + 8 * 19);
}

TEST(RegsHeader, PacketTypeCountersFollowTheList) {
  ASSERT_EQ(regs::kPacketTypes.size(), regs::counters::kPktCount);
  EXPECT_EQ(regs::counters::kPktFirst + regs::counters::kPktCount, regs::counters::kCount);
  EXPECT_EQ(regs::kPacketTypes.front(), "pad");
  EXPECT_EQ(regs::kPacketTypes.back(), "ptw");
  for (uint32_t i = 0; i < regs::counters::kPktCount; ++i) {
    // PKT_<type> with '.' -> '_', upper case.
    std::string expect = "PKT_";
    for (char c : regs::kPacketTypes[i]) expect += c == '.' ? '_' : static_cast<char>(std::toupper(c));
    EXPECT_EQ(regs::kCounters[regs::counters::kPktFirst + i].name, expect);
  }
  EXPECT_EQ(regs::counters::kPktTipPgeOffset, regs::counters::kBase + 8 * (regs::counters::kPktFirst + 5));
  EXPECT_EQ(regs::kPacketTypes[5], "tip.pge");
}

TEST(RegsHeader, EnumValues) {
  EXPECT_EQ(static_cast<int>(regs::EventType::Load), 1);
  EXPECT_EQ(static_cast<int>(regs::EventType::Flush), 5);
  EXPECT_EQ(static_cast<int>(regs::DescKind::Code), 2);
  EXPECT_EQ(static_cast<int>(regs::NodeKind::GotoPtr), 3);
  EXPECT_EQ(static_cast<int>(regs::NodeKind::Ret), 8);
  EXPECT_EQ(static_cast<int>(regs::NodeKind::Invalid), 15);
  EXPECT_EQ(static_cast<int>(regs::HtState::Empty), 0);
  EXPECT_EQ(static_cast<int>(regs::HtState::Deleted), 2);
  EXPECT_EQ(static_cast<int>(regs::RecordKind::End), 5);
  EXPECT_EQ(static_cast<int>(regs::GapReason::Nosync), 3);
  EXPECT_EQ(regs::to_string(regs::RecordKind::Context), "CONTEXT");
  EXPECT_EQ(regs::to_string(static_cast<regs::RecordKind>(99)), "");
}

TEST(RegsHeader, LayoutOffsetsAndSizes) {
  EXPECT_EQ(regs::event::kSize, 32u);
  EXPECT_EQ(regs::event::kKind.byte, 8u);
  EXPECT_EQ(regs::event::kA.byte, 16u);
  EXPECT_EQ(regs::event::kA.width, 64u);
  EXPECT_EQ(regs::desc::kSize, 32u);
  EXPECT_EQ(regs::desc::kIcount.byte, 18u);
  EXPECT_EQ(regs::desc::kIcount.width, 16u);
  EXPECT_EQ(regs::desc::kCodeSize.byte, 20u);
  EXPECT_EQ(regs::ht::kSize, 32u);
  EXPECT_EQ(regs::ht::kLink1.byte, 28u);
  EXPECT_EQ(regs::record::kSize, 16u);
  EXPECT_EQ(regs::record::kTsc.byte, 12u);
  EXPECT_EQ(regs::record::kTsc.width, 32u);
  EXPECT_EQ(regs::node::kSize, 8u);
}

TEST(RegsHeader, ByteLayoutStoreIsLittleEndianAndRoundTrips) {
  std::array<uint8_t, regs::event::kSize> buf;
  buf.fill(0xee);  // store() must clear the reserved bytes
  const regs::Event ev{0x0102030405060708ull, regs::EventType::Link, 1, 5, 0x1111222233334444ull, 0x5555666677778888ull};
  ev.store(buf.data());
  EXPECT_EQ(buf[0], 0x08);  // least significant byte first
  EXPECT_EQ(buf[7], 0x01);
  EXPECT_EQ(buf[8], 2);  // LINK
  EXPECT_EQ(buf[9], 1);
  EXPECT_EQ(buf[10], 5);  // nodes
  for (size_t i = 11; i < 16; ++i) EXPECT_EQ(buf[i], 0) << "reserved byte " << i;
  EXPECT_EQ(buf[16], 0x44);
  EXPECT_EQ(buf[31], 0x55);
  EXPECT_EQ(regs::Event::load(buf.data()), ev);
  EXPECT_EQ(regs::event::kB.load(buf.data()), 0x5555666677778888ull);
  EXPECT_EQ(regs::event::kKind.load(buf.data()), regs::EventType::Link);

  // Single-field store on an unaligned buffer leaves the neighbours alone.
  std::array<uint8_t, regs::record::kSize + 1> raw{};
  uint8_t* rec = raw.data() + 1;
  regs::record::kIcount.store(rec, 0xbeef);
  EXPECT_EQ(rec[10], 0xef);
  EXPECT_EQ(rec[11], 0xbe);
  EXPECT_EQ(rec[9], 0);
  EXPECT_EQ(rec[12], 0);
  regs::record::kKind.store(rec, regs::RecordKind::Gap);
  regs::record::kFlags.store(rec, static_cast<uint8_t>(regs::GapReason::Ovf));
  const regs::Record r = regs::Record::load(rec);
  EXPECT_EQ(r.kind, regs::RecordKind::Gap);
  EXPECT_EQ(r.flags, 1);
  EXPECT_EQ(r.icount, 0xbeef);

  const regs::Desc d{0xffff800000001000ull, 0x400000, regs::DescKind::Tb, 7, 42, 0x1234};
  const regs::Ht h{0xffff800000001000ull, 3, regs::HtState::Valid, 9, 0x9000, 0x40, 0};
  std::array<uint8_t, 32> db{}, hb{};
  d.store(db.data());
  h.store(hb.data());
  EXPECT_EQ(regs::Desc::load(db.data()), d);
  EXPECT_EQ(regs::Ht::load(hb.data()), h);
  EXPECT_EQ(db[16], 1);   // kind TB
  EXPECT_EQ(db[17], 7);   // n
  EXPECT_EQ(hb[12], 1);   // state VALID
  EXPECT_EQ(hb[13], 9);   // nodes
  EXPECT_EQ(hb[24], 0x40);  // link0
}

TEST(RegsHeader, NodePackUnpack) {
  const regs::Node n{regs::NodeKind::Cond, 0x1f, 0x15, true, 0xabcd, 0x1234};
  const uint64_t w = n.pack();
  EXPECT_EQ(w & 0xf, 1u);                  // kind, bits 3:0
  EXPECT_EQ((w >> 4) & 0x1f, 0x1fu);       // succ, bits 8:4
  EXPECT_EQ((w >> 9) & 0x1f, 0x15u);       // alt, bits 13:9
  EXPECT_EQ((w >> 14) & 1, 1u);            // slot, bit 14
  EXPECT_EQ((w >> 15) & 1, 0u);            // reserved
  EXPECT_EQ((w >> 16) & 0xffff, 0xabcdu);  // ret, bits 31:16
  EXPECT_EQ((w >> 32) & 0xffff, 0x1234u);  // insns, bits 47:32
  EXPECT_EQ(w >> 48, 0u);                  // reserved
  EXPECT_EQ(regs::Node::unpack(w), n);
  // Reserved bits are ignored; oversized values are cut to the field.
  EXPECT_EQ(regs::Node::unpack(w | 0xffff000000008000ull), n);
  EXPECT_EQ((regs::Node{regs::NodeKind::Ret, 0x3f}.pack()), 0x1f8u);

  std::array<uint8_t, 2 * regs::node::kSize> buf{};
  n.store(buf.data() + regs::node::kSize);
  EXPECT_EQ(buf[8], static_cast<uint8_t>(w));
  EXPECT_EQ(buf[13], 0x12);
  EXPECT_EQ(regs::Node::load(buf.data() + regs::node::kSize), n);
  for (unsigned i = 0; i < 16; ++i) {  // every kind survives
    const regs::Node k{static_cast<regs::NodeKind>(i)};
    EXPECT_EQ(static_cast<unsigned>(regs::Node::unpack(k.pack()).kind), i);
  }
}

}  // namespace
