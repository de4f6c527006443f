// Intel PT errata of the CPUs libipt 2.0.5 knows (pt_cpu_errata), and which of them change
// what the unit decodes.
//
// Every erratum libipt tracks is listed so that a CPU maps to the same set; only two change the
// packet listing (ptdump) and therefore this model's packet and time logic:
//   SKZ84  (packet decoding) a TMA with reserved bits set becomes an 8-byte <invalid> packet
//          instead of a decode error (DecodeErrata::skz84).
//   SKL168 (time calibration) the first MTC after a PSB is not used for calibration if MTCs or a
//          CYC wrap look lost around the PSB (TimeConfig::skl168, pt_time.hpp).
// The others (BDM70, BDM64, SKD007, SKD022, SKD010, SKL014, APL12, APL11) are workarounds in
// libipt's query/instruction flow decoders: they leave the packet stream as decoded here
// unchanged (SKD007's CYC/OVF fix-up, too, is not in libipt 2.0.5's packet decoder; the corpus
// test skd007 shows the CYC packets listed as they are).
#pragma once

#include <cstdint>

namespace xtu::model {

struct CpuErrata {
  bool bdm70 = false, bdm64 = false, skd007 = false, skd022 = false, skd010 = false;
  bool skl014 = false, apl12 = false, apl11 = false, skl168 = false, skz84 = false;
};

// The errata of an Intel CPU given as family/model. Returns false for a CPU libipt 2.0.5 does
// not know (then no erratum applies; ptdump prints "[0: failed to determine errata: unknown
// cpu]" before the listing).
bool cpu_errata(unsigned family, unsigned model, CpuErrata& out);

}  // namespace xtu::model
