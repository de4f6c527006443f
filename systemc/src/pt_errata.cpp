// CPU → errata table (see pt_errata.hpp); the same models and errata as libipt 2.0.5.
#include "xtu/model/pt_errata.hpp"

namespace xtu::model {

bool cpu_errata(unsigned family, unsigned model, CpuErrata& out) {
  out = CpuErrata{};
  if (family != 6) return false;
  switch (model) {
    case 61: case 71: case 79: case 86:  // Broadwell
      out.bdm70 = out.bdm64 = true;
      return true;
    case 78: case 94: case 142: case 158: case 165: case 166:  // Skylake, Kaby/Coffee/Comet Lake
      out.bdm70 = out.skd007 = out.skd022 = out.skd010 = out.skl014 = out.skl168 = true;
      return true;
    case 85: case 106: case 108: case 143:  // Skylake/Ice Lake/Sapphire Rapids server
      out.bdm70 = out.skd022 = out.skl014 = out.skz84 = true;
      return true;
    case 102: case 125: case 126: case 140: case 141: case 167: case 168:  // Cannon/Ice/Tiger/Rocket Lake
      out.bdm70 = out.skd022 = out.skl014 = true;
      return true;
    case 151: case 154: case 191:  // Alder Lake
      out.bdm70 = out.skd022 = out.skl014 = out.apl11 = true;
      return true;
    case 92: case 95:  // Apollo Lake, Denverton
      out.apl12 = out.apl11 = true;
      return true;
    case 122: case 134: case 150: case 156:  // Gemini Lake, Tremont Atoms
      out.apl11 = true;
      return true;
    default:
      return false;
  }
}

}  // namespace xtu::model
