// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// TDPOptions configures a TDPSource.
type TDPOptions struct {
	// ProcfsRoot is the procfs mount point, /proc when empty. Only Linux
	// reads it.
	ProcfsRoot string
	// TDP is the power of the whole machine's CPUs at full utilisation.
	TDP units.Watts
	// Method is sampler.MethodTDPEstimate when TDP comes from the hardware
	// catalog or --cpu-tdp, and sampler.MethodTDPDefault when it is the
	// default power per core times the core count.
	Method sampler.Method
	// Detail names the origin of TDP, such as "from catalog: codecarbon
	// cpu_power.csv" or "default 10.4 W/core x 8 cores".
	Detail string
	// Times reads the machine's cumulative CPU times. When nil,
	// MachineCPUTime(ProcfsRoot) does. Tests inject a fake.
	Times TimesFunc
}

// TDPSource estimates CPU power as the machine's CPU utilisation over the
// last interval times a TDP. It has one component of kind sampler.KindCPU,
// named "cpu". Utilisation is the difference of cumulative CPU times between
// two reads, so Read never sleeps to measure it. A TDPSource is not safe for
// concurrent use.
type TDPSource struct {
	tdp       units.Watts
	times     TimesFunc
	component sampler.Component

	started   bool
	last      time.Time
	lastBusy  time.Duration
	lastTotal time.Duration
	reading   sampler.Reading
}

var _ sampler.Source = (*TDPSource)(nil)

// NewTDPSource returns a TDPSource after reading the CPU times that its first
// interval starts from.
func NewTDPSource(opts TDPOptions) (*TDPSource, error) {
	if !(opts.TDP > 0) {
		return nil, fmt.Errorf("cpu tdp %v W is invalid: pass a positive power in watts", opts.TDP)
	}
	if opts.Method != sampler.MethodTDPEstimate && opts.Method != sampler.MethodTDPDefault {
		return nil, fmt.Errorf("cpu tdp method %q is invalid: use %q or %q",
			opts.Method, sampler.MethodTDPEstimate, sampler.MethodTDPDefault)
	}

	times := opts.Times
	if times == nil {
		root := procfsOrDefault(opts.ProcfsRoot)
		times = func() (time.Duration, time.Duration, error) { return MachineCPUTime(root) }
	}
	busy, total, err := times()
	if err != nil {
		return nil, fmt.Errorf("opening cpu tdp source: %w", err)
	}

	s := &TDPSource{
		tdp:   opts.TDP,
		times: times,
		component: sampler.Component{
			Kind:   sampler.KindCPU,
			Name:   "cpu",
			Method: opts.Method,
			Detail: tdpDetail(opts.TDP, opts.Detail),
		},
		lastBusy:  busy,
		lastTotal: total,
	}
	return s, nil
}

// tdpDetail always names the wattage, so a report shows the figure that
// every estimate was scaled by.
func tdpDetail(tdp units.Watts, source string) string {
	detail := "CPU utilisation x " + strconv.FormatFloat(float64(tdp), 'g', 4, 64) + " W TDP"
	if source != "" {
		detail += " (" + source + ")"
	}
	return detail
}

// Components returns the single "cpu" component.
func (s *TDPSource) Components() []sampler.Component {
	return []sampler.Component{s.component}
}

// Read brings the estimate up to now. The first call starts the clock, and later
// calls add the mean power of the interval times its length. When the CPU
// times cannot be read, dst keeps the previous reading and the next
// successful read covers the whole gap.
func (s *TDPSource) Read(now time.Time, dst []sampler.Reading) error {
	if len(dst) < 1 {
		return errors.New("reading cpu tdp source: reading buffer is empty, want 1 slot")
	}

	busy, total, err := s.times()
	if err != nil {
		dst[0] = s.reading
		return fmt.Errorf("reading cpu times for tdp estimate: %w", err)
	}

	s.advance(now, busy, total)
	dst[0] = s.reading
	return nil
}

func (s *TDPSource) advance(now time.Time, busy, total time.Duration) {
	if !s.started {
		s.started, s.last = true, now
		s.update(busy, total)
		return
	}

	elapsed := now.Sub(s.last)
	if elapsed < 0 {
		return
	}
	if total == s.lastTotal {
		// No clock tick since the last read, so the utilisation is not
		// known yet. Keeping the old baseline lets the next read cover
		// this span too.
		return
	}
	if total < s.lastTotal {
		// The aggregate counters dropped, as they do when a CPU goes
		// offline. Bridge the interval with the previous power and start
		// over from the new counters.
		s.reading.Energy += s.reading.Power.Over(elapsed)
		s.last, s.lastBusy, s.lastTotal = now, busy, total
		return
	}

	s.update(busy, total)
	s.reading.Energy += s.reading.Power.Over(elapsed)
	s.last = now
}

// update sets the power from the utilisation since the stored counters and
// stores the new counters.
func (s *TDPSource) update(busy, total time.Duration) {
	if total > s.lastTotal {
		utilisation := float64(busy-s.lastBusy) / float64(total-s.lastTotal)
		s.reading.Power = s.tdp * units.Watts(clampFraction(utilisation))
	}
	s.lastBusy, s.lastTotal = busy, total
}

// Close returns nil because the source holds no open files.
func (s *TDPSource) Close() error { return nil }
