// Package scheme defines the class schemes a galaxy can be sorted into and
// how the label codes stored in data files map onto them.
//
// A data file stores label codes in some label space: Galaxy10 SDSS class
// numbers (Galaxy10.h5), Galaxy10 DECaLS class numbers (Galaxy10_DECals.h5:
// other classes than SDSS's), Galaxy Zoo 1 classes (gz1_sdss_69.h5), a
// binary spiral flag (gz2_spiral_69.h5), or already the course's five
// classes (dataG.pkl.gz). A
// scheme names its classes and says, for each code of its source space, which
// class it becomes or that it is dropped (Galaxy10 classes 3, 5, 6, 8, 9 in
// course5; Galaxy Zoo 1 "don't know" in morph4).
package scheme

import (
	"fmt"
	"sort"
	"strings"
)

// Drop marks a source code that a scheme leaves out.
const Drop = -1

// Scheme is a set of named classes and the map from a source label space.
type Scheme struct {
	Name    string   // "galaxy10", "course5", "gz1", "morph4", "spiral"
	Source  string   // the label space its Map reads: "galaxy10", "gz1" or "spiral"
	Classes []string // class names, index = class number
	Map     []int    // Map[code] = class number or Drop; len(Map) = codes known in Source
	// Also maps further label spaces the scheme reads, as Map does
	// Source's (morph4 from Galaxy10 DECaLS as well as Galaxy Zoo 1).
	Also  map[string][]int
	About string // one line for --help and reports
}

// K returns the number of classes.
func (s *Scheme) K() int { return len(s.Classes) }

// Class maps a label code given in the label space space to a class number.
// space is either s.Source (the code is mapped) or s.Name (the code already is
// a class number of this scheme, as in the course's pickle). keep is false for
// a code the scheme drops; err is non-nil for a code the space does not know
// or a space the scheme cannot read.
func (s *Scheme) Class(space string, code int) (class int, keep bool, err error) {
	switch space {
	case s.Name:
		if code < 0 || code >= len(s.Classes) {
			return 0, false, fmt.Errorf("label code %d out of range for scheme %s (classes 0..%d)", code, s.Name, len(s.Classes)-1)
		}
		return code, true, nil
	}
	m, ok := s.Also[space]
	if space == s.Source {
		m, ok = s.Map, true
	}
	if !ok {
		return 0, false, fmt.Errorf("scheme %s reads %s labels, but the data holds %s labels", s.Name, s.reads(), space)
	}
	if code < 0 || code >= len(m) {
		return 0, false, fmt.Errorf("label code %d out of range for %s labels (codes 0..%d, scheme %s)", code, space, len(m)-1, s.Name)
	}
	if m[code] == Drop {
		return 0, false, nil
	}
	return m[code], true, nil
}

// CanRead reports whether the scheme can map labels of the given space.
func (s *Scheme) CanRead(space string) bool {
	_, also := s.Also[space]
	return space == s.Name || space == s.Source || also
}

// reads lists the label spaces the scheme maps.
func (s *Scheme) reads() string {
	out := []string{s.Source}
	for sp := range s.Also {
		out = append(out, sp)
	}
	sort.Strings(out[1:])
	return strings.Join(out, " or ")
}

// Galaxy10Names are the Galaxy10 SDSS class names, by class number.
var galaxy10Names = []string{
	"Disk, face-on, no spiral",
	"Smooth, completely round",
	"Smooth, in-between round",
	"Smooth, cigar shaped",
	"Disk, edge-on, rounded bulge",
	"Disk, edge-on, boxy bulge",
	"Disk, edge-on, no bulge",
	"Disk, face-on, tight spiral",
	"Disk, face-on, medium spiral",
	"Disk, face-on, loose spiral",
}

// decalsNames are the Galaxy10 DECaLS class names, by class number (Leung
// and Bovy's astroNN documentation).
var decalsNames = []string{
	"Disturbed",
	"Merging",
	"Round Smooth",
	"In-between Round Smooth",
	"Cigar Shaped Smooth",
	"Barred Spiral",
	"Unbarred Tight Spiral",
	"Unbarred Loose Spiral",
	"Edge-on without Bulge",
	"Edge-on with Bulge",
}

var gz1Names = []string{
	"Elliptical (smooth)",
	"Spiral, clockwise",
	"Spiral, anticlockwise",
	"Edge-on disk",
	"Don't know",
	"Merger",
}

// build returns a fresh copy of every scheme, so callers may not alter a
// shared value.
func build() map[string]*Scheme {
	g10 := make([]int, 10)
	for i := range g10 {
		g10[i] = i
	}
	return map[string]*Scheme{
		"galaxy10": {
			Name: "galaxy10", Source: "galaxy10", Classes: append([]string(nil), galaxy10Names...), Map: g10,
			About: "the 10 Galaxy10 SDSS classes",
		},
		"galaxy10-decals": {
			Name: "galaxy10-decals", Source: "galaxy10-decals", Classes: append([]string(nil), decalsNames...), Map: g10,
			About: "the 10 Galaxy10 DECaLS classes",
		},
		"course5": {
			Name: "course5", Source: "galaxy10",
			Classes: []string{galaxy10Names[0], galaxy10Names[1], galaxy10Names[2], galaxy10Names[4], galaxy10Names[7]},
			Map:     []int{0, 1, 2, Drop, 3, Drop, Drop, 4, Drop, Drop},
			About:   "the assignment's 5 classes: Galaxy10 classes 0, 1, 2, 4, 7 as 0..4",
		},
		"gz1": {
			Name: "gz1", Source: "gz1", Classes: append([]string(nil), gz1Names...), Map: []int{0, 1, 2, 3, 4, 5},
			About: "the 6 Galaxy Zoo 1 classes",
		},
		"morph4": {
			Name: "morph4", Source: "gz1",
			Classes: []string{"smooth", "face-on spiral", "edge-on disk", "merger"},
			Map:     []int{0, 1, 1, 2, Drop, 3},
			// DECaLS: round, in-between and cigar smooth; barred, tight and
			// loose spirals; edge-on with and without bulge; disturbed and
			// merging both count as mergers.
			Also:  map[string][]int{"galaxy10-decals": {3, 3, 0, 0, 0, 1, 1, 1, 2, 2}},
			About: "4 morphologies: smooth, face-on spiral (both senses), edge-on disk, merger, from Galaxy Zoo 1 (\"don't know\" dropped) or Galaxy10 DECaLS (\"disturbed\" counted with mergers)",
		},
		"spiral": {
			Name: "spiral", Source: "spiral", Classes: []string{"not spiral", "spiral"}, Map: []int{0, 1},
			About: "binary: spiral or not (Galaxy Zoo 2 votes)",
		},
	}
}

// Get returns the named scheme (a fresh value the caller owns).
func Get(name string) (*Scheme, error) {
	s, ok := build()[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown class scheme %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// Names lists the known schemes in alphabetical order.
func Names() []string {
	var n []string
	for k := range build() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Spaces lists the label spaces data files can be in.
func Spaces() []string { return []string{"course5", "galaxy10", "galaxy10-decals", "gz1", "spiral"} }

// DefaultFor returns the scheme to use when the user names none, for data in
// the given label space: the space's own classes, except gz1, whose natural
// use is morph4.
func DefaultFor(space string) string {
	if space == "gz1" {
		return "morph4"
	}
	return space
}
