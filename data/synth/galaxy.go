package synth

import (
	"math"
	"math/rand/v2"
)

// eps is where component profiles are cut, relative to their inner value.
const eps = 1e-4

// Galaxy10 class codes.
const (
	diskNoSpiral  = 0
	smoothRound   = 1
	smoothBetween = 2
	smoothCigar   = 3
	edgeOnRounded = 4
	edgeOnBoxy    = 5
	edgeOnNoBulge = 6
	spiralTight   = 7
	spiralMedium  = 8
	spiralLoose   = 9
)

// Kinds of galaxy beyond the Galaxy10 classes, for Galaxy10 DECaLS's.
const (
	barredSpiral = 10 + iota // face-on spiral with a strong bar
	tightNoBar               // Galaxy10's tight spiral, never barred
	looseNoBar               // Galaxy10's loose spiral, never barred
	merging                  // two galaxies of similar brightness, tidal tails
	disturbed                // one lopsided galaxy with clumps, maybe a faint tail
)

// decalsKinds maps Galaxy10 DECaLS class numbers to kinds: 0 Disturbed,
// 1 Merging, 2 Round Smooth, 3 In-between Round Smooth, 4 Cigar Shaped
// Smooth, 5 Barred Spiral, 6 Unbarred Tight Spiral, 7 Unbarred Loose Spiral,
// 8 Edge-on without Bulge, 9 Edge-on with Bulge.
var decalsKinds = [10]int{disturbed, merging, smoothRound, smoothBetween, smoothCigar, barredSpiral, tightNoBar, looseNoBar, edgeOnNoBulge, edgeOnRounded}

func uniform(rng *rand.Rand, a, b float64) float64 { return a + (b-a)*rng.Float64() }

func lognormal(rng *rand.Rand, median, s float64) float64 {
	return median * math.Exp(s*rng.NormFloat64())
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// renderer draws galaxies; one per goroutine.
type renderer struct {
	c    canvas
	arms spiral
	// px is the number of pixels per pixel of a DefaultSize cutout: every
	// length is drawn in DefaultSize pixels and multiplied by px (exactly 1
	// at DefaultSize, where the images are those of a fixed Size of 69).
	px float64
}

// render draws one size x size cutout of kind (a Galaxy10 class code or
// a DECaLS kind) into dst (size*size*3 bytes, HWC, channels i, r,
// g), using rng for every random choice.
func (g *renderer) render(dst []uint8, size, kind int, rng *rand.Rand) {
	c := &g.c
	c.reset(size)
	g.px = float64(size) / DefaultSize
	px := g.px
	// Centre, position angle, seeing.
	x0 := float64(size-1)/2 + clamp(rng.NormFloat64()*0.5, -1.5, 1.5)*px
	y0 := float64(size-1)/2 + clamp(rng.NormFloat64()*0.5, -1.5, 1.5)*px
	pa := rng.Float64() * math.Pi
	psf := uniform(rng, 1.3, 2.4) / 2.3548 * px // FWHM in 69-px pixels -> sigma in pixels

	reach := g.drawGalaxy(kind, x0, y0, pa, rng)

	// Neighbours: small galaxies in the field (drawn before the PSF).
	if rng.Float64() < 0.25 {
		n := 1 + rng.IntN(2)
		for range n {
			g.drawNeighbour(x0, y0, rng)
		}
	}
	c.convolve(psf)

	// Scale so that the galaxy's peak (band mean, PSF-blurred) has a chosen
	// brightness in units of the sky noise.
	peak := 100.0
	if p := c.peak(float32(x0), float32(y0), int(math.Round(4*px+reach))); p > 0 {
		peak = clamp(lognormal(rng, 1000, 0.6), 150, 8000)
		c.scale(float32(peak) / p)
	}

	// Stars: the PSF itself (a core and faint wings), any brightness.
	if rng.Float64() < 0.3 {
		n := 1
		for n < 5 && rng.Float64() < 0.4 {
			n++
		}
		for range n {
			g.drawStar(x0, y0, psf, rng)
		}
	}
	g.finish(dst, peak, rng)
}

// drawGalaxy draws the central galaxy of the kind, unconvolved, with an
// arbitrary flux scale. It returns how much farther than usual from the
// centre (pixels) its brightest parts may lie.
func (g *renderer) drawGalaxy(code int, x0, y0, pa float64, rng *rand.Rand) (reach float64) {
	c := &g.c
	px := g.px
	switch code {
	case smoothRound, smoothBetween, smoothCigar:
		var q, n float64
		switch code {
		case smoothRound:
			q, n = uniform(rng, 0.82, 1), uniform(rng, 3, 5.5)
		case smoothBetween:
			q, n = uniform(rng, 0.38, 0.72), uniform(rng, 1.5, 3.5)
		default:
			q, n = uniform(rng, 0.2, 0.44), uniform(rng, 1.2, 3.5)
		}
		// Round ellipticals are the giants; flattened spheroids are smaller
		// and less concentrated (lower Sersic index).
		re := clamp(lognormal(rng, 8, 0.15), 4.5, 14) * px
		if code == smoothRound {
			re *= 1.25
		}
		k := newComponent(x0, y0, pa, q, jitter(colBulge, 0.05, rng))
		k.prof = sersic(1, n, re, q, eps, px)
		c.draw(&k)
		// A faint envelope of a different shape now and then (isophote twist).
		if rng.Float64() < 0.3 {
			q2 := clamp(q*uniform(rng, 0.8, 1.15), 0.15, 1)
			e := newComponent(x0, y0, pa+rng.NormFloat64()*0.25, q2, jitter(colBulge, 0.05, rng))
			e.prof = expDisk(uniform(rng, 0.1, 0.3), re*uniform(rng, 0.8, 1.3), q2, eps, px)
			c.draw(&e)
		}

	case edgeOnRounded, edgeOnBoxy, edgeOnNoBulge:
		h := clamp(lognormal(rng, 6.8, 0.12), 4.5, 11) * px
		qd := uniform(rng, 0.09, 0.2)
		bt := uniform(rng, 0.15, 0.6)
		if code == edgeOnNoBulge {
			qd = uniform(rng, 0.06, 0.15)
			bt = uniform(rng, 0, 0.05)
			h *= 1.1
		}
		colD := jitter(colEdge, 0.05, rng)
		if code == edgeOnNoBulge {
			colD = jitter(mix(colEdge, colArm, 0.4), 0.05, rng)
		}
		d := newComponent(x0, y0, pa, qd, colD)
		d.prof = expDisk(1-bt, h, qd, eps, px)
		c.draw(&d)
		if bt > 0.01 {
			qb := uniform(rng, 0.6, 1)
			re := 1.68 * h * uniform(rng, 0.18, 0.4)
			b := newComponent(x0, y0, pa, qb, jitter(colBulge, 0.05, rng))
			if code == edgeOnBoxy {
				qb = uniform(rng, 0.5, 0.8)
				b = newComponent(x0, y0, pa, qb, jitter(colBulge, 0.05, rng))
				b.boxy = float32(uniform(rng, 0.6, 1))
			}
			b.prof = sersic(bt, uniform(rng, 1.5, 4), re, qb, eps, px)
			c.draw(&b)
		}
		lane := 0.45 // chance of a dust lane
		if code == edgeOnNoBulge {
			lane = 0.15
		}
		if rng.Float64() < lane {
			g.dustLane(x0, y0, pa, h, rng)
		}

	case diskNoSpiral, spiralTight, spiralMedium, spiralLoose, barredSpiral, tightNoBar, looseNoBar:
		g.drawDisk(code, x0, y0, pa, rng)

	case merging:
		return g.drawMerger(x0, y0, rng)

	case disturbed:
		g.drawDisturbed(x0, y0, pa, rng)
	}
	return 0
}

// drawDisk draws a face-on (or moderately inclined) disk galaxy: exponential
// disk, a bulge, maybe a bar or a ring, and for spirals logarithmic arms of
// the class's pitch angle with star-forming knots along them. The DECaLS
// kinds are spirals that never (tightNoBar, looseNoBar) or always
// (barredSpiral: a strong bar, two arms starting at its ends) have a bar.
func (g *renderer) drawDisk(kind int, x0, y0, pa float64, rng *rand.Rand) {
	c := &g.c
	px := g.px
	code := kind // the Galaxy10 class whose recipe is followed
	switch kind {
	case tightNoBar:
		code = spiralTight
	case looseNoBar:
		code = spiralLoose
	case barredSpiral:
		code = spiralMedium
	}
	h := clamp(lognormal(rng, 5.5, 0.12), 4, 9) * px
	cosI := uniform(rng, 0.45, 1)
	q := math.Sqrt(cosI*cosI + 0.15*0.15*(1-cosI*cosI))
	var bt float64
	switch code {
	case diskNoSpiral:
		bt = uniform(rng, 0, 0.3)
	case spiralTight:
		bt = uniform(rng, 0.05, 0.3)
	case spiralMedium:
		bt = uniform(rng, 0.03, 0.3)
	default:
		bt = uniform(rng, 0, 0.2)
	}
	rd := 1.68 * h // disk half-light radius
	reB := rd * uniform(rng, 0.12, 0.3)
	bar := rng.Float64() < 0.2
	switch kind {
	case tightNoBar, looseNoBar:
		bar = false
	case barredSpiral:
		bar = true
	}
	barLen, barPhi := 0.0, 0.0
	diskFlux := 1 - bt
	if bar {
		barLen = rd * uniform(rng, 0.4, 0.8)
		f := uniform(rng, 0.05, 0.12)
		n := 0.6
		if kind == barredSpiral { // long, bright and flat (Ferrers-like)
			barLen = rd * uniform(rng, 0.6, 1)
			f, n = uniform(rng, 0.1, 0.2), uniform(rng, 0.3, 0.55)
		}
		diskFlux -= f
		qb := uniform(rng, 0.22, 0.38)
		// The bar lies in the disk plane: its projected angle and shape
		// follow from an angle in the plane.
		phi := rng.Float64() * math.Pi
		barPhi = phi
		u, v := math.Cos(phi), math.Sin(phi)*q
		bpa := pa + math.Atan2(v, u)
		k := newComponent(x0, y0, bpa, qb, jitter(mix(colBulge, colS0Disk, 0.5), 0.05, rng))
		k.prof = sersic(f, n, barLen*0.6*math.Hypot(u, v), qb, eps, px)
		c.draw(&k)
	}
	diskCol := colS0Disk
	if code != diskNoSpiral {
		diskCol = colDisk
	}
	d := newComponent(x0, y0, pa, q, jitter(diskCol, 0.05, rng))
	d.prof = expDisk(diskFlux, h, q, eps, px)
	if code == diskNoSpiral {
		c.draw(&d)
		if rng.Float64() < 0.15 { // a ring or lens
			rr := rd * uniform(rng, 0.8, 1.4)
			k := newComponent(x0, y0, pa, q, jitter(mix(colS0Disk, colArm, 0.3), 0.05, rng))
			k.prof = ring(uniform(rng, 0.05, 0.15), rr, rr*uniform(rng, 0.1, 0.2), q)
			c.draw(&k)
		}
	} else {
		a := &g.arms
		var pitch float64
		switch code {
		case spiralTight:
			pitch = uniform(rng, 8, 16)
		case spiralMedium:
			pitch = uniform(rng, 16, 26)
		default:
			pitch = uniform(rng, 26, 40)
		}
		if kind == barredSpiral {
			pitch = uniform(rng, 10, 35)
		}
		tanP := math.Tan(pitch * math.Pi / 180)
		a.m = 2
		if u := rng.Float64(); u < 0.15 {
			a.m = 3
		} else if u < 0.22 {
			a.m = 4
		}
		a.width = 1 + rng.IntN(3)
		a.norm = float32(1 / armMean(a.width))
		a.frac = float32(uniform(rng, 0.45, 0.85))
		if code == spiralLoose {
			a.frac = float32(uniform(rng, 0.35, 0.8))
		}
		if kind == barredSpiral {
			a.m = 2 // bars drive two arms
		}
		a.rIn = float32(math.Max(reB*1.5, math.Max(barLen, 1.5*px)))
		a.grow = float32(0.5 / px)
		a.asym = float32(uniform(rng, 0, 0.4))
		t := rng.Float64() * 2 * math.Pi
		a.ac, a.as = float32(math.Cos(t)), float32(math.Sin(t))
		a.col = jitter(colArm, 0.05, rng)
		phi0 := rng.Float64() * 2 * math.Pi
		if rng.Float64() < 0.5 { // either sense of winding
			tanP = -tanP
		}
		if kind == barredSpiral {
			phi0 = barPhi // the arms start at the ends of the bar
		}
		step := float64(d.prof.cut) / (tabN - 1)
		r0 := float64(a.rIn)
		for k := 0; k <= tabN; k++ {
			r := math.Max(float64(k)*step, 0.3*px)
			psi := float64(a.m) * (math.Log(r/r0)/tanP + phi0)
			a.cosT[k], a.sinT[k] = float32(math.Cos(psi)), float32(math.Sin(psi))
		}
		d.arms = a
		c.draw(&d)
		// Knots of star formation along the arms.
		nk := 3 + rng.IntN(8)
		if code == spiralLoose {
			nk += 6
		}
		for range nk {
			r := uniform(rng, float64(a.rIn)+px, 2.6*h)
			arm := float64(rng.IntN(a.m))
			th := math.Log(r/r0)/tanP + phi0 + 2*math.Pi*arm/float64(a.m) + rng.NormFloat64()*0.12
			u, v := r*math.Cos(th), r*math.Sin(th)*q
			kx := x0 + u*math.Cos(pa) - v*math.Sin(pa)
			ky := y0 + u*math.Sin(pa) + v*math.Cos(pa)
			local := float64(d.prof.at(float32(r)))
			amp := local * uniform(rng, 0.6, 2.5)
			s := uniform(rng, 0.35, 0.8) * px
			c.blob(float32(kx), float32(ky), float32(amp), float32(s), float32(s), 1, 0, jitter(colKnot, 0.08, rng), true)
		}
	}
	if bt > 0.005 {
		qb := clamp(q*uniform(rng, 1, 1.3), 0.5, 1)
		b := newComponent(x0, y0, pa, qb, jitter(colBulge, 0.05, rng))
		b.prof = sersic(bt, uniform(rng, 1.5, 4), reB, qb, eps, px)
		c.draw(&b)
	}
}

// drawMerger draws two overlapping galaxies of similar brightness on either
// side of (x0, y0), each a spheroid or a disk with a bulge, often with tidal
// tails and a faint common envelope. It returns half their separation.
func (g *renderer) drawMerger(x0, y0 float64, rng *rand.Rand) float64 {
	c := &g.c
	px := g.px
	sep := uniform(rng, 5, 14) * px
	th := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(th)*sep/2, math.Sin(th)*sep/2
	flux := [2]float64{1, uniform(rng, 0.45, 1)}
	size := [2]float64{}
	for i, sgn := range [2]float64{-1, 1} {
		cx, cy := x0+sgn*dx, y0+sgn*dy
		pa := rng.Float64() * math.Pi
		if rng.Float64() < 0.5 { // a spheroid
			q := uniform(rng, 0.5, 1)
			re := clamp(lognormal(rng, 5, 0.2), 3, 9) * px
			k := newComponent(cx, cy, pa, q, jitter(colBulge, 0.06, rng))
			k.prof = sersic(flux[i], uniform(rng, 1.5, 4), re, q, eps, px)
			c.draw(&k)
			size[i] = re
			continue
		}
		cosI := uniform(rng, 0.3, 1)
		q := math.Sqrt(cosI*cosI + 0.15*0.15*(1-cosI*cosI))
		h := clamp(lognormal(rng, 4, 0.15), 2.5, 7) * px
		bt := uniform(rng, 0.1, 0.45)
		d := newComponent(cx, cy, pa, q, jitter(mix(colDisk, colArm, 0.2), 0.06, rng))
		d.prof = expDisk(flux[i]*(1-bt), h, q, eps, px)
		c.draw(&d)
		b := newComponent(cx, cy, pa, clamp(q*1.2, 0.5, 1), jitter(colBulge, 0.05, rng))
		b.prof = sersic(flux[i]*bt, uniform(rng, 1.5, 4), h*uniform(rng, 0.3, 0.6), clamp(q*1.2, 0.5, 1), eps, px)
		c.draw(&b)
		size[i] = 1.68 * h
	}
	// A faint common envelope, then tails drawn out of either galaxy, away
	// from the other.
	qe := uniform(rng, 0.5, 0.8)
	e := newComponent(x0, y0, th, qe, jitter(colS0Disk, 0.05, rng))
	e.prof = expDisk(uniform(rng, 0.05, 0.2), (sep/2+size[0]+size[1])*0.6, qe, eps, px)
	c.draw(&e)
	for i, sgn := range [2]float64{-1, 1} {
		if rng.Float64() < 0.65 {
			mean := flux[i] / (2 * math.Pi * size[i] * size[i]) // surface brightness within the half-light radius
			g.tail(x0+sgn*dx, y0+sgn*dy, th+math.Pi*(1-sgn)/2, size[i], mean*uniform(rng, 0.08, 0.3), rng)
		}
	}
	return sep / 2
}

// drawDisturbed draws one disturbed galaxy: a disk whose outer part is
// shifted off its centre (lopsided), its inner isophotes twisted, bright
// clumps of star formation mostly on one side, sometimes a faint tail.
func (g *renderer) drawDisturbed(x0, y0, pa float64, rng *rand.Rand) {
	c := &g.c
	px := g.px
	h := clamp(lognormal(rng, 5, 0.15), 3.5, 8) * px
	cosI := uniform(rng, 0.4, 1)
	q := math.Sqrt(cosI*cosI + 0.15*0.15*(1-cosI*cosI))
	side := rng.Float64() * 2 * math.Pi // where the disturbance points
	cs, sn := math.Cos(side), math.Sin(side)
	shift := uniform(rng, 0.3, 0.9) * h
	outer := uniform(rng, 0.45, 0.7)
	d := newComponent(x0+shift*cs, y0+shift*sn, pa, q, jitter(mix(colDisk, colArm, 0.35), 0.06, rng))
	d.prof = expDisk(outer, h*uniform(rng, 1, 1.3), q, eps, px)
	c.draw(&d)
	qi := clamp(q*uniform(rng, 0.7, 1.2), 0.3, 1)
	in := newComponent(x0, y0, pa+rng.NormFloat64()*0.5, qi, jitter(colDisk, 0.06, rng))
	in.prof = expDisk(1-outer, h*uniform(rng, 0.4, 0.7), qi, eps, px)
	c.draw(&in)
	if rng.Float64() < 0.7 {
		b := newComponent(x0, y0, pa, 0.9, jitter(colBulge, 0.05, rng))
		b.prof = sersic(uniform(rng, 0.03, 0.15), uniform(rng, 1, 3), h*uniform(rng, 0.15, 0.3), 0.9, eps, px)
		c.draw(&b)
	}
	// Clumps: at the local surface brightness of the outer disk, or above.
	nk := 4 + rng.IntN(11)
	for range nk {
		r := h * uniform(rng, 0.3, 2.3)
		a := side + rng.NormFloat64()*1.1
		kx, ky := x0+r*math.Cos(a), y0+r*math.Sin(a)
		du, dv := kx-float64(d.x0), ky-float64(d.y0)
		m := math.Hypot(du*float64(d.cos)+dv*float64(d.sin), (-du*float64(d.sin)+dv*float64(d.cos))*float64(d.invQ))
		amp := float64(d.prof.at(float32(m)))*uniform(rng, 1, 4) + float64(d.prof.at(0))*0.02
		sx := uniform(rng, 0.5, 1.4) * px
		sy := sx * uniform(rng, 0.5, 1)
		t := rng.Float64() * math.Pi
		c.blob(float32(kx), float32(ky), float32(amp), float32(sx), float32(sy), float32(math.Cos(t)), float32(math.Sin(t)), jitter(colKnot, 0.1, rng), true)
	}
	if rng.Float64() < 0.5 {
		mean := outer / (2 * math.Pi * h * h)
		g.tail(x0+shift*cs, y0+shift*sn, side, 1.5*h, mean*uniform(rng, 0.05, 0.2), rng)
	}
}

// tail draws a tidal tail: a curving, fading band of elongated blobs that
// leaves a galaxy at (x0, y0) of size r0 (pixels) in direction dir, with
// peak surface brightness amp.
func (g *renderer) tail(x0, y0, dir, r0, amp float64, rng *rand.Rand) {
	px := g.px
	length := uniform(rng, 10, 28) * px
	curl := uniform(rng, 0.5, 1.6)
	if rng.Float64() < 0.5 {
		curl = -curl
	}
	w := uniform(rng, 0.8, 1.8) * px // half-width (sigma across)
	col := jitter(mix(colDisk, colArm, 0.5), 0.06, rng)
	step := w
	n := int(length/step) + 1
	for j := range n {
		t := float64(j) / float64(n)
		r := r0 + length*t
		phi := dir + curl*t
		x, y := x0+r*math.Cos(phi), y0+r*math.Sin(phi)
		// Tangent of the spiral r(phi): (dr, r dphi) rotated by phi.
		tx, ty := length*math.Cos(phi)-r*curl*math.Sin(phi), length*math.Sin(phi)+r*curl*math.Cos(phi)
		tn := math.Hypot(tx, ty)
		a := amp * (1 - 0.75*t) * uniform(rng, 0.7, 1.3)
		ww := w * (1 + 0.8*t)
		g.c.blob(float32(x), float32(y), float32(a), float32(1.3*step), float32(ww), float32(tx/tn), float32(ty/tn), col, true)
	}
}

// armMean is the mean of ((1+cos x)/2)^w over x: C(2w, w) / 4^w.
func armMean(w int) float64 {
	v := 1.0
	for k := 1; k <= w; k++ {
		v *= float64(w+k) / float64(k) / 4
	}
	return v
}

// dustLane dims a thin band along an edge-on disk's major axis, more in g
// than in i.
func (g *renderer) dustLane(x0, y0, pa, h float64, rng *rand.Rand) {
	c := &g.c
	tau := uniform(rng, 0.25, 0.65)
	w := uniform(rng, 0.35, 0.8) * g.px
	off := uniform(rng, -0.6, 0.6) * g.px
	ext := [3]float64{0.65, 0.82, 1} // i, r, g
	cs, sn := math.Cos(pa), math.Sin(pa)
	for y := c.y0; y < c.y1; y++ {
		for x := c.x0; x < c.x1; x++ {
			dx, dy := float64(x)-x0, float64(y)-y0
			u := dx*cs + dy*sn
			v := -dx*sn + dy*cs - off
			if math.Abs(v) > 4*w {
				continue
			}
			a := tau * math.Exp(-0.5*v*v/(w*w)) * math.Exp(-math.Abs(u)/(3*h))
			p := y*c.n + x
			for b := range c.band {
				c.band[b][p] *= float32(1 - a*ext[b])
			}
		}
	}
}

// drawNeighbour draws a small, fainter galaxy away from the centre.
func (g *renderer) drawNeighbour(x0, y0 float64, rng *rand.Rand) {
	px, n := g.px, float64(g.c.n)
	var x, y float64
	for {
		x, y = uniform(rng, 2*px, n-1-2*px), uniform(rng, 2*px, n-1-2*px)
		if math.Hypot(x-x0, y-y0) > 12*px {
			break
		}
	}
	q := uniform(rng, 0.3, 1)
	col := jitter(mix(colBulge, colDisk, float32(rng.Float64())), 0.08, rng)
	k := newComponent(x, y, rng.Float64()*math.Pi, q, col)
	k.prof = sersic(uniform(rng, 0.02, 0.25), uniform(rng, 1, 4), uniform(rng, 1, 3.5)*px, q, eps, px)
	g.c.draw(&k)
}

// drawStar adds a point source: the PSF (a Gaussian core of sigma psf
// pixels with 8% of the light in wings three times wider) of peak amp, in
// sky-noise units.
func (g *renderer) drawStar(x0, y0, psf float64, rng *rand.Rand) {
	n := float64(g.c.n)
	var x, y float64
	for {
		x, y = uniform(rng, 0, n-1), uniform(rng, 0, n-1)
		if math.Hypot(x-x0, y-y0) > 6*g.px {
			break
		}
	}
	amp := math.Exp(uniform(rng, math.Log(4), math.Log(2500)))
	col := mix(colour{0.8, 0.98, 1.22}, colour{1.5, 1.0, 0.5}, float32(rng.Float64()))
	col = jitter(col, 0.03, rng)
	s := float32(psf)
	g.c.blob(float32(x), float32(y), float32(amp), s, s, 1, 0, col, false)
	g.c.blob(float32(x), float32(y), float32(amp*0.02), 3*s, 3*s, 1, 0, col, false)
}

// finish adds sky and source noise (Poisson, in the Gaussian limit, plus
// read noise) and maps the bands to bytes with an asinh stretch, as the SDSS
// colour composites were made (Lupton et al. 2004).
func (g *renderer) finish(dst []uint8, peak float64, rng *rand.Rand) {
	c := &g.c
	// Noise: the image is in units of the sky noise; sky electrons per pixel
	// and read noise set how the source's own Poisson noise compares.
	var gain [3]float32 // electrons per unit
	for b := range gain {
		sky := uniform(rng, 60, 220)
		read := uniform(rng, 4, 7)
		gain[b] = float32(math.Sqrt(sky + read*read))
	}
	var bits uint64
	nb := 0
	for b := range c.band {
		pl := c.band[b]
		gb := gain[b]
		ig := 1 / gb
		for p := range pl {
			if nb == 0 {
				bits, nb = rng.Uint64(), 5
			}
			z := normTable[bits&4095]
			bits >>= 12
			nb--
			v := pl[p]
			sd := float32(1)
			if v > 0 {
				sd = float32(math.Sqrt(float64(1 + v*ig)))
			}
			pl[p] = v + z*sd
		}
	}
	// Stretch: D(I) = k*s*asinh(I/s) for the band mean I, each band scaled
	// by D(I)/I; noise of 1 becomes about k grey levels, and the softening
	// s is chosen so that the galaxy's peak reaches a display level of
	// about 120-210.
	k := float32(uniform(rng, 1.5, 4))
	s := float32(softening(float64(k), peak, uniform(rng, 170, 235)))
	ped := float32(uniform(rng, 2.5, 8))
	lin := k // D(I)/I for small I
	for p := range c.n * c.n {
		vi, vr, vg := c.band[bandI][p], c.band[bandR][p], c.band[bandG][p]
		I := (vi + vr + vg) / 3
		f := lin
		if x := I / s; x > 0.05 || x < -0.05 {
			f = k * s * fastAsinh(x) / I
		}
		dst[3*p+bandI] = toByte(ped + vi*f)
		dst[3*p+bandR] = toByte(ped + vr*f)
		dst[3*p+bandG] = toByte(ped + vg*f)
	}
}

func toByte(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// softening returns s with k*s*asinh(peak/s) = top (bisection; the left side
// grows with s), or the linear limit when peak is too faint to reach top.
func softening(k, peak, top float64) float64 {
	if k*peak <= top {
		return 1e6
	}
	lo, hi := 1e-3, 1e6
	for range 60 {
		mid := math.Sqrt(lo * hi)
		if k*mid*math.Asinh(peak/mid) < top {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
