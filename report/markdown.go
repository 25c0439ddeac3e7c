// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Markdown renders the report for people: a summary, a table of components
// with their methods, a compute statement ready for a paper and a Hugging
// Face model-card block.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Energy and emissions report: %s\n\n", r.JobID)
	if !r.Complete {
		b.WriteString("> Checkpoint: the run was still going when this was written.\n\n")
	}
	r.writeSummary(&b)
	r.writeComponents(&b)

	b.WriteString("## Compute statement\n\n")
	b.WriteString(r.Statement())
	b.WriteString("\n\n## Hugging Face model card\n\n")
	b.WriteString("Paste into the YAML header of the model card:\n\n```yaml\n")
	b.WriteString(r.ModelCardYAML())
	b.WriteString("```\n")

	if len(r.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	if len(r.DataSources) > 0 {
		b.WriteString("\n## Data sources\n\n| What | Value | Source | Year |\n|---|---|---|---|\n")
		for _, d := range r.DataSources {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(d.What), cell(d.Value), cell(d.Source), year(d.Year))
		}
	}
	return b.Bytes()
}

func (r *Report) writeSummary(b *bytes.Buffer) {
	b.WriteString("| | |\n|---|---|\n")
	if len(r.Command) > 0 {
		fmt.Fprintf(b, "| Command | %s |\n", cell(codeSpan(ShellQuote(r.Command))))
	}
	fmt.Fprintf(b, "| Status | %s |\n", r.Status)
	if r.ExitCode != nil {
		fmt.Fprintf(b, "| Exit code | %d |\n", *r.ExitCode)
	}
	if r.ChildSignal != "" {
		fmt.Fprintf(b, "| Killed by | %s |\n", r.ChildSignal)
	}
	fmt.Fprintf(b, "| Start | %s |\n", r.StartTime.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(b, "| Duration | %s |\n", formatSeconds(r.DurationSeconds))
	fmt.Fprintf(b, "| Tracking mode | %s |\n", r.TrackingMode)
	fmt.Fprintf(b, "| IT energy | %s kWh (measured %s, estimated %s) |\n",
		kwh(r.ITEnergyKWh), kwh(r.MeasuredEnergyKWh), kwh(r.EstimatedEnergyKWh))
	fmt.Fprintf(b, "| PUE | %.2f (%s) |\n", r.PUE, cell(r.PUESource))
	fmt.Fprintf(b, "| Facility energy | %s kWh |\n", kwh(r.FacilityEnergyKWh))
	fmt.Fprintf(b, "| Grid intensity | %.1f gCO2e/kWh, %s (%s) |\n",
		r.CarbonIntensityGPerKWh, cell(r.regionLabel()), cell(r.IntensityCitation()))
	fmt.Fprintf(b, "| Emissions | %s kg CO2e |\n", kg(r.EmissionsKg))
	if r.GPUScope != "" {
		scope := r.GPUScope
		if r.GPUNote != "" {
			scope += " (" + r.GPUNote + ")"
		}
		fmt.Fprintf(b, "| GPU scope | %s |\n", cell(scope))
	}
	b.WriteString("\n")
}

func (r *Report) writeComponents(b *bytes.Buffer) {
	b.WriteString("## Components\n\n")
	if len(r.Components) == 0 {
		b.WriteString("No component was measured or estimated.\n\n")
		return
	}
	b.WriteString("| Kind | Name | Method | Energy (kWh) | Mean power (W) | Max power (W) | Detail |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---|\n")
	for _, c := range r.Components {
		name := c.Name
		if c.Host != "" {
			name = c.Host + ": " + name
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.1f | %.1f | %s |\n", c.Kind, cell(name), c.Method,
			kwh(c.EnergyKWh), c.MeanPowerWatts, c.MaxPowerWatts, cell(c.Detail))
	}
	b.WriteString("\n")
}

// Statement returns a compute statement for a paper: the energy, how it was
// obtained, the PUE and grid intensity with their sources, and the emissions.
func (r *Report) Statement() string {
	var s strings.Builder
	scope := "at the machine"
	if r.TrackingMode == "process" {
		scope = "at the machine, counting the command's CPU-time share of the host's CPU and memory"
	}
	fmt.Fprintf(&s, "The run used %s of electricity %s (IT energy) over %s",
		energyText(r.ITEnergyKWh), scope, formatSeconds(r.DurationSeconds))
	if hw := r.hardwareSummary(); hw != "" {
		fmt.Fprintf(&s, " on %s", hw)
	}
	fmt.Fprintf(&s, ". %s. ", r.methodSummary())
	fmt.Fprintf(&s, "With a PUE of %.2f (%s), the facility used %s. ",
		r.PUE, r.PUESource, energyText(r.FacilityEnergyKWh))
	fmt.Fprintf(&s, "At a grid carbon intensity of %.0f gCO2e/kWh for %s (%s), "+
		"this corresponds to %s CO2e of operational emissions, as reported by %s %s.",
		r.CarbonIntensityGPerKWh, r.regionLabel(), r.IntensityCitation(),
		massText(r.EmissionsKg), r.Tool.Name, r.Tool.Version)
	return s.String()
}

// IntensityCitation returns where the grid intensity comes from: the table's
// source and year, or the user, a live API or several nodes when the
// table's figure was not the one used.
func (r *Report) IntensityCitation() string {
	switch r.IntensitySource {
	case "override":
		return "given with --carbon-intensity"
	case "api":
		return "live value from the grid intensity API"
	case "mixed":
		return "average over nodes with different grids, see warnings"
	}
	text := strings.TrimSpace(r.Region.Source + " " + year(r.Region.Year))
	if r.IntensitySource == "fallback" {
		text += ", world average used because no region was given"
	}
	return text
}

// ModelCardYAML returns the co2_eq_emissions block of a Hugging Face model
// card. Its emissions field is in grams of CO2e, as the model card metadata
// specifies. training_type is left for the author, who can tell whether the run
// was pre-training or fine-tuning.
func (r *Report) ModelCardYAML() string {
	var s strings.Builder
	s.WriteString("co2_eq_emissions:\n")
	fmt.Fprintf(&s, "  emissions: %s  # grams of CO2e\n", strconv.FormatFloat(r.EmissionsKg*1000, 'g', 6, 64))
	fmt.Fprintf(&s, "  source: %q\n", fmt.Sprintf("%s %s. %s", r.Tool.Name, r.Tool.Version, r.methodSummary()))
	fmt.Fprintf(&s, "  geographical_location: %q\n", r.regionLabel())
	if hw := r.hardwareSummary(); hw != "" {
		fmt.Fprintf(&s, "  hardware_used: %q\n", hw)
	}
	return s.String()
}

// methodSummary describes, per kind of component, how its energy was obtained:
// "GPU energy measured with hardware energy counters; CPU energy estimated
// from utilisation x TDP".
func (r *Report) methodSummary() string {
	var kinds []string
	methods := map[string][]string{}
	for _, c := range r.Components {
		if _, ok := methods[c.Kind]; !ok {
			kinds = append(kinds, c.Kind)
		}
		methods[c.Kind] = appendUnique(methods[c.Kind], methodPhrase(c.Method))
	}
	if len(kinds) == 0 {
		return "No component was measured"
	}
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s energy %s", strings.ToUpper(k), strings.Join(methods[k], " and ")))
	}
	text := strings.Join(parts, "; ")
	return strings.ToUpper(text[:1]) + text[1:]
}

func methodPhrase(m string) string {
	switch m {
	case "energy_counter":
		return "measured with hardware energy counters"
	case "power_integration":
		return "measured by integrating power samples"
	case "tdp_estimate":
		return "estimated from utilisation x TDP"
	case "tdp_default":
		return "estimated from utilisation x a default TDP per core"
	case "memory_estimate":
		return "estimated from installed memory x power per GB"
	case "analytical_model":
		return "estimated with the analytical model"
	}
	return "obtained by " + m
}

// hardwareSummary counts GPUs by name: "8 x NVIDIA H100 80GB HBM3".
func (r *Report) hardwareSummary() string {
	counts := map[string]int{}
	var names []string
	for _, c := range r.Components {
		if c.Kind != "gpu" {
			continue
		}
		if counts[c.Name] == 0 {
			names = append(names, c.Name)
		}
		counts[c.Name]++
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%d x %s", counts[n], n))
	}
	return strings.Join(parts, ", ")
}

func (r *Report) regionLabel() string {
	switch {
	case r.Region.Name != "" && r.Region.Code != "":
		return fmt.Sprintf("%s (%s)", r.Region.Name, r.Region.Code)
	case r.Region.Code != "":
		return r.Region.Code
	}
	return "an unknown region"
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// cell makes a string safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func year(y int) string {
	if y == 0 {
		return ""
	}
	return fmt.Sprint(y)
}

func kwh(v float64) string { return fmt.Sprintf("%.6g", v) }

func kg(v float64) string { return fmt.Sprintf("%.4g", v) }

// energyText prints an energy in kWh, or in Wh or J when it is small, so a
// short run does not read as "4.48e-05 kWh".
func energyText(kwh float64) string {
	switch {
	case kwh >= 1:
		return fmt.Sprintf("%.4g kWh", kwh)
	case kwh*1e3 >= 0.01:
		return fmt.Sprintf("%.3g Wh", kwh*1e3)
	}
	return fmt.Sprintf("%.3g J", kwh*3.6e6)
}

// massText prints a mass of CO2e in kg, or in g or mg when it is small.
func massText(kg float64) string {
	switch {
	case kg >= 1:
		return fmt.Sprintf("%.4g kg", kg)
	case kg*1e3 >= 0.01:
		return fmt.Sprintf("%.3g g", kg*1e3)
	}
	return fmt.Sprintf("%.3g mg", kg*1e6)
}

// formatSeconds prints a duration to the millisecond under a minute and to
// the second above.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// ShellQuote joins a command line so that a POSIX shell would split it
// back into the same arguments. Arguments with control characters, such as
// a newline, use bash's $'...' quoting so the line stays one line.
func ShellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		switch {
		case a != "" && strings.Trim(a, safeShellChars) == "":
			quoted[i] = a
		case strings.ContainsFunc(a, unicode.IsControl):
			quoted[i] = ansiCQuote(a)
		default:
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// safeShellChars never need quoting in a POSIX shell word.
const safeShellChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%"

// ansiCQuote quotes s as $'...', escaping backslashes, quotes and control
// characters.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString("'")
	return b.String()
}

// codeSpan wraps s in a Markdown code span whose backtick fence is longer
// than any run of backticks inside s, so the span cannot end early.
func codeSpan(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
