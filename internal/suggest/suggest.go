// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package suggest ranks known names by how closely they match a mistyped
// one, so that "unknown region" and "unknown GPU" errors can offer fixes.
package suggest

import (
	"slices"
	"strings"
)

// Match classes, best first. A candidate that starts with the input is the
// likeliest intent, then one that contains it, then a near miss by edit
// distance.
const (
	classExact = iota
	classPrefix
	classSubstring
	classDistance
)

// minContainedLength is the shortest candidate that counts as a substring
// match when it occurs inside the input. Shorter ones, such as two-letter
// country codes, occur by chance in almost any word.
const minContainedLength = 3

type ranked struct {
	candidate string
	class     int
	distance  int
	index     int
}

// Closest returns up to n candidates that resemble input, best first.
// Matching ignores case and surrounding space. Candidates that equal the
// input rank first, then those that start with it, then those that contain
// it or are contained in it, then the rest by Levenshtein distance. A
// candidate whose distance exceeds about a third of the input's length (at
// least 1) and that matches no other way is left out, so the result may be
// shorter than n or empty. Ties keep the order of candidates, and
// duplicates (ignoring case) are returned once.
func Closest(input string, candidates []string, n int) []string {
	in := strings.ToLower(strings.TrimSpace(input))
	if in == "" || n <= 0 {
		return nil
	}
	maxDistance := max(1, (len([]rune(in))+1)/3)

	var matches []ranked
	for i, c := range candidates {
		lc := strings.ToLower(strings.TrimSpace(c))
		if lc == "" {
			continue
		}
		r := ranked{candidate: c, index: i, distance: Distance(in, lc)}
		switch {
		case lc == in:
			r.class = classExact
		case strings.HasPrefix(lc, in):
			r.class = classPrefix
		case strings.Contains(lc, in),
			len(lc) >= minContainedLength && strings.Contains(in, lc):
			r.class = classSubstring
		case r.distance <= maxDistance:
			r.class = classDistance
		default:
			continue
		}
		matches = append(matches, r)
	}

	slices.SortStableFunc(matches, func(a, b ranked) int {
		if a.class != b.class {
			return a.class - b.class
		}
		return a.distance - b.distance
	})

	if len(matches) == 0 {
		return nil
	}
	out := make([]string, 0, min(n, len(matches)))
	seen := make(map[string]bool, len(matches))
	for _, m := range matches {
		key := strings.ToLower(strings.TrimSpace(m.candidate))
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, m.candidate)
		if len(out) == n {
			break
		}
	}
	return out
}

// Distance returns the Levenshtein edit distance between a and b, counted
// in runes: the number of single-rune insertions, deletions and
// substitutions that turn a into b. It is case-sensitive.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	curr := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		curr[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			curr[j] = min(prev[j]+1, curr[j-1]+1, prev[j-1]+cost)
		}
		prev, curr = curr, prev
	}
	return prev[len(rb)]
}
