// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package machine

import (
	"fmt"

	"github.com/carbonrun/carbonrun/internal/hardware"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/cpu"
)

// cpuTDP picks the CPU power at full load for the utilisation x TDP
// estimate: --cpu-tdp, else the catalog row of the CPU model scaled by the
// cores this host has, else the documented default per core.
func cpuTDP(opts Options) (units.Watts, sampler.Method, string, report.DataSource) {
	if opts.CPUTDP > 0 {
		detail := "from --cpu-tdp"
		return opts.CPUTDP, sampler.MethodTDPEstimate, detail,
			report.DataSource{What: "CPU TDP", Value: fmt.Sprintf("%.0f W", opts.CPUTDP), Source: "--cpu-tdp"}
	}
	model, cores, _ := cpu.ModelName(opts.ProcfsRoot)
	if row, ok := hardware.MatchCPU(model); ok && row.TDP > 0 {
		return catalogTDP(row, cores)
	}
	perCore, how := hardware.DefaultWattsPerCore()
	cores = max(cores, 1)
	tdp := perCore * units.Watts(cores)
	name := model
	if name == "" {
		name = "no model name in cpuinfo"
	}
	detail := fmt.Sprintf("default %.2f W/core x %d cores; CPU model %q is not in the catalog",
		perCore, cores, name)
	return tdp, sampler.MethodTDPDefault, detail,
		report.DataSource{What: "CPU power per core (default)", Value: fmt.Sprintf("%.1f W", perCore), Source: how}
}

// catalogTDP scales a catalog TDP, which is per package, by the physical
// cores this host has: two sockets double it, and a VM with a slice of a
// large part gets its slice.
func catalogTDP(row hardware.CPU, cores int) (units.Watts, sampler.Method, string, report.DataSource) {
	tdp := row.TDP
	detail := fmt.Sprintf("%s from the catalog", row.Name)
	if row.Cores > 0 && cores > 0 && cores != row.Cores {
		tdp = row.TDP * units.Watts(cores) / units.Watts(row.Cores)
		detail = fmt.Sprintf("%.0f W %s (%d cores) scaled to the %d cores seen",
			row.TDP, row.Name, row.Cores, cores)
	}
	return tdp, sampler.MethodTDPEstimate, detail,
		report.DataSource{What: "CPU TDP", Value: fmt.Sprintf("%.0f W (%s)", row.TDP, row.Name), Source: row.Source}
}
