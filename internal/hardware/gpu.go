// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package hardware

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/internal/suggest"
)

// maxSuggestions is how many catalog names an unknown-GPU error offers.
const maxSuggestions = 3

// UnknownHardwareError is returned for a GPU name that matches no catalog
// row.
type UnknownHardwareError struct {
	// Input is the name as the user gave it.
	Input string
	// Suggestions contains up to three catalog names close to Input, best
	// first. It may be empty.
	Suggestions []string
}

// Error names the unknown GPU, the closest catalog names and how to fix it.
func (e *UnknownHardwareError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown GPU %q", e.Input)
	if len(e.Suggestions) > 0 {
		fmt.Fprintf(&b, " (did you mean %s?)", strings.Join(e.Suggestions, ", "))
	}
	b.WriteString(`: use a catalog name such as "NVIDIA H100 SXM" or a short name such as ` +
		`H100, A100-80GB or MI300X`)
	return b.String()
}

// LookupGPU returns the catalog row for name. Matching ignores case,
// spaces, dashes, underscores, text in parentheses, brand words (NVIDIA,
// AMD, Intel, Google, GeForce, Tesla, Instinct, GPU) and memory-type words
// (HBM3). What remains is split into
//   - a model ("H100", "A100", "TPU v3", "RTX 4090"), which must equal a
//     row's model exactly, so "A10" never matches "A100".
//   - an optional variant (SXM with any digit, PCIe, NVL or OAM, and HGX
//     or DGX for SXM), which must equal the row's variant. A row's variant
//     comes from its name, else from its form factor.
//   - an optional memory size ("80GB"), which must equal the row's memory.
//
// When several rows remain, the flagship wins: SXM before OAM, superchip,
// NVL and PCIe, then the larger memory, then file order. So "H100" and
// "NVIDIA H100-80GB" give "NVIDIA H100 SXM", "A100" gives "NVIDIA A100 SXM4
// 80GB", "A100 PCIe" gives "NVIDIA A100 PCIe 80GB" and "V100" gives
// "NVIDIA V100 SXM2 32GB". A name that matches no row returns an
// *UnknownHardwareError with close catalog names.
func LookupGPU(name string) (GPU, error) {
	c := loadCatalog()
	if i, ok := c.resolveGPU(parseGPUName(name)); ok {
		return c.gpus[i].clone(), nil
	}
	return GPU{}, &UnknownHardwareError{Input: name, Suggestions: c.suggestGPU(name)}
}

// MatchGPU maps a device name as NVML reports it ("NVIDIA H100 80GB HBM3",
// "NVIDIA A100-SXM4-80GB", "Tesla V100-SXM2-32GB") to its catalog row,
// with the rules of LookupGPU. NVML names of SXM boards often omit the form
// factor, which is why a bare model picks the SXM row. A device whose
// memory size has no row (a V100 SXM2 16GB) does not match, so callers
// fall back to a labelled default rather than a neighbouring part.
func MatchGPU(nvmlName string) (GPU, bool) {
	c := loadCatalog()
	i, ok := c.resolveGPU(parseGPUName(nvmlName))
	if !ok {
		return GPU{}, false
	}
	return c.gpus[i].clone(), true
}

// gpuKey is a GPU name reduced to the parts that identify a row.
type gpuKey struct {
	model    string
	variant  string
	memoryGB float64
}

var (
	parenthesised = regexp.MustCompile(`\([^)]*\)`)
	memoryToken   = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:gb|gib|g)$`)
	memoryType    = regexp.MustCompile(`^hbm\d*e?$`)
	sxmToken      = regexp.MustCompile(`^sxm\d*$`)
	separators    = strings.NewReplacer("-", " ", "_", " ", "/", " ", ",", " ")
	brandWords    = map[string]bool{
		"nvidia": true, "amd": true, "intel": true, "google": true, "geforce": true,
		"tesla": true, "instinct": true, "radeon": true, "gpu": true,
	}
)

// parseGPUName splits a GPU name into model, variant and memory size.
func parseGPUName(name string) gpuKey {
	name = parenthesised.ReplaceAllString(strings.ToLower(name), " ")
	var key gpuKey
	var model []string
	for _, tok := range strings.Fields(separators.Replace(name)) {
		if m := memoryToken.FindStringSubmatch(tok); m != nil {
			key.memoryGB, _ = strconv.ParseFloat(m[1], 64)
			continue
		}
		if tok == "gb" && len(model) > 0 {
			// "80 GB" written with a space.
			if v, err := strconv.ParseFloat(model[len(model)-1], 64); err == nil {
				key.memoryGB = v
				model = model[:len(model)-1]
				continue
			}
		}
		if brandWords[tok] || memoryType.MatchString(tok) {
			continue
		}
		if v := normaliseVariant(tok); isVariant(v) {
			key.variant = v
			continue
		}
		model = append(model, tok)
	}
	key.model = strings.Join(model, "")
	return key
}

// normaliseVariant maps every SXM generation, HGX and DGX to "sxm" and
// returns other words unchanged.
func normaliseVariant(s string) string {
	switch {
	case sxmToken.MatchString(s), s == "hgx", s == "dgx":
		return "sxm"
	}
	return s
}

// isVariant reports whether a normalised name token is a variant word
// rather than part of the model.
func isVariant(tok string) bool {
	switch tok {
	case "sxm", "pcie", "nvl", "oam":
		return true
	}
	return false
}

// variantRank orders the rows that share a model: flagship modules first.
func variantRank(v string) int {
	if i := slices.Index([]string{"sxm", "oam", "superchip", "nvl", "pcie"}, v); i >= 0 {
		return i
	}
	return 5
}

// resolveGPU returns the index of the row that key names.
func (c *catalog) resolveGPU(key gpuKey) (int, bool) {
	if key.model == "" {
		return 0, false
	}
	best := -1
	for i, k := range c.gpuKeys {
		if k.model != key.model ||
			key.variant != "" && k.variant != key.variant ||
			key.memoryGB != 0 && k.memoryGB != key.memoryGB {
			continue
		}
		if best < 0 || c.preferred(i, best) {
			best = i
		}
	}
	return best, best >= 0
}

// preferred reports whether row i is a better default than row j.
func (c *catalog) preferred(i, j int) bool {
	a, b := c.gpuKeys[i], c.gpuKeys[j]
	if ra, rb := variantRank(a.variant), variantRank(b.variant); ra != rb {
		return ra < rb
	}
	if a.memoryGB != b.memoryGB {
		return a.memoryGB > b.memoryGB
	}
	return i < j
}

// suggestGPU returns up to maxSuggestions catalog names close to input. A
// known model with an unknown variant or memory size suggests that model's
// rows. Other input is compared with models and names by edit distance.
func (c *catalog) suggestGPU(input string) []string {
	key := parseGPUName(input)
	var family []int
	for i, k := range c.gpuKeys {
		if k.model == key.model && key.model != "" {
			family = append(family, i)
		}
	}
	if len(family) > 0 {
		slices.SortFunc(family, func(a, b int) int {
			if c.preferred(a, b) {
				return -1
			}
			return 1
		})
		var out []string
		for _, i := range family[:min(len(family), maxSuggestions)] {
			out = append(out, c.gpus[i].Name)
		}
		return out
	}

	// A model suggests its default row, a name itself.
	byModel := make(map[string]string)
	var models, names []string
	for i, k := range c.gpuKeys {
		if _, seen := byModel[k.model]; !seen {
			j, _ := c.resolveGPU(gpuKey{model: k.model})
			byModel[k.model] = c.gpus[j].Name
			models = append(models, k.model)
		}
		names = append(names, c.gpus[i].Name)
	}
	var out []string
	for _, m := range suggest.Closest(key.model, models, maxSuggestions) {
		out = appendNew(out, byModel[m])
	}
	for _, n := range suggest.Closest(input, names, maxSuggestions) {
		out = appendNew(out, n)
	}
	return out[:min(len(out), maxSuggestions)]
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
