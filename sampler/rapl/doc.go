// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package rapl reads CPU package and DRAM energy from the Linux powercap
// RAPL zones under <sysfs>/class/powercap, as described in
// https://docs.kernel.org/power/powercap/powercap.html. On AMD hosts without
// usable powercap zones it reads the socket counters of the amd_energy hwmon
// driver instead.
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
// # AMD energy counters in hwmon
//
// Some AMD EPYC hosts expose RAPL energy through the amd_energy hwmon driver
// rather than through powercap: a device under <sysfs>/class/hwmon whose name
// attribute is amd_energy, with cumulative counters energyN_input in
// microjoules, as the hwmon interface defines them
// (https://docs.kernel.org/hwmon/sysfs-interface.html). Each counter's
// energyN_label names what it measures. The policy, by label:
//
//   - EsocketN: summed, one sampler.KindCPU component named package-N.
//   - EcoreNNN: never summed, because each core's energy is part of its
//     socket's. Listed in Ignored as hwmonM/EcoreNNN.
//   - any other label: listed in Ignored, with one warning per counter.
//
// The amd_energy counters are read only when powercap has no usable package
// or psys zone: no powercap tree, no RAPL zone, no package or psys zone, or
// none whose energy_uj can be opened and read. A powercap energy_uj that is
// denied by permission is not replaced, so Open fails with that warning.
// When powercap zones are used, the amd_energy socket counters are listed
// in Ignored, because they measure the same packages.
//
// The driver extends the hardware counter to 64 bits, and hwmon defines no
// range attribute for energy, so a counter that goes down (a driver reload
// or an overflow) cannot be corrected. That interval counts 0 J, the first
// such interval of each counter records a warning, and the cumulative
// energy never decreases. A powercap zone without max_energy_range_uj is
// handled the same way.
//
// # Permissions
//
// Since Linux 5.10 energy_uj is readable by root only (mode 0400). Open then
// fails with sampler.ErrUnavailable and records one warning that names the
// file and the remedy: a udev rule or a tmpfiles.d/sysfs.conf entry that
// makes energy_uj readable, or the CAP_DAC_READ_SEARCH capability. The
// amd_energy driver creates energyN_input and energyN_label with mode 0440,
// owner and group root, and an unreadable one fails Open the same way.
package rapl
