// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package rapl reads CPU package and DRAM energy from the Linux powercap
// RAPL zones under <sysfs>/class/powercap, as described in
// https://docs.kernel.org/power/powercap/powercap.html.
//
// Each zone exposes energy_uj, a counter in microjoules that wraps at
// max_energy_range_uj. The Source keeps every counted energy_uj file open,
// reads it once per Read, corrects one wraparound per interval and converts
// the difference to joules with units.Microjoules.
//
// # Which zones are summed
//
// Top-level zones are intel-rapl:N or amd-rapl:N; their subzones are
// intel-rapl:N:M. The intel-rapl-mmio zones are skipped because on Intel
// client parts they report the same package energy through MMIO. The policy,
// by zone name:
//
//   - package-N: summed, one sampler.KindCPU component per package.
//   - package-N-die-M: summed per die. On multi-die AMD parts, the die zones
//     of one package can all report the same socket counter. Die zones of the
//     same package whose energy_uj readings are identical at Open are
//     therefore counted once, as package-N, and the others are listed in
//     Ignored.
//   - dram: summed as a sampler.KindDRAM component. The package zone does not
//     include DRAM energy, so adding both does not count anything twice.
//   - core, uncore: never summed, because they are parts of the package
//     energy. They are listed in Ignored.
//   - psys: the platform energy, which covers the package zones and more of
//     the board. When any package zone exists, psys is listed in Ignored and
//     not summed. When psys is the only CPU zone, it alone is the CPU figure,
//     and dram zones are listed in Ignored because psys is treated as the
//     whole-platform figure.
//   - any other name: listed in Ignored, with one warning per zone.
//
// # Permissions
//
// Since Linux 5.10 energy_uj is readable by root only (mode 0400). Open then
// fails with sampler.ErrUnavailable and records one warning that names the
// file and the remedy: a udev rule or a tmpfiles.d/sysfs.conf entry that
// makes energy_uj readable, or the CAP_DAC_READ_SEARCH capability.
package rapl
