package synth

import (
	"math"
	"math/rand/v2"
)

// Sides of the cutouts in pixels: DefaultSize is Galaxy10 SDSS's, and the
// geometry of every galaxy (radii, offsets, seeing, neighbours, stars) is
// given at that size and scaled by size/DefaultSize, so that a larger cutout
// shows the same galaxy at a finer pixel scale.
const (
	DefaultSize = 69
	MinSize     = 16
	MaxSize     = 512
)

const tabN = 512 // entries of a profile table

// Bands, in storage order: channel 0 is i, 1 is r, 2 is g (the SDSS
// composite's R, G, B).
const (
	bandI = iota
	bandR
	bandG
)

// colour is a component's flux in the i, r and g bands, normalised to a mean
// of 1 so that the mean over the bands (what the stretch uses) is the
// component's intensity.
type colour [3]float32

// Colours of the SDSS composites: old stellar populations (ellipticals,
// bulges) red-yellow, disks paler, young populations (arms, star-forming
// knots) blue-white.
var (
	colBulge  = colour{1.34, 1.0, 0.66}
	colS0Disk = colour{1.18, 1.0, 0.82}
	colDisk   = colour{1.03, 1.0, 0.97}
	colEdge   = colour{1.22, 1.0, 0.78}
	colArm    = colour{0.8, 1.0, 1.2}
	colKnot   = colour{0.7, 0.98, 1.32}
)

// jitter returns c made redder or bluer by a random tilt exp(N(0, s)) of
// i against g (colours of galaxies vary along the red-blue sequence), with
// a little independent scatter per band, renormalised to a mean of 1.
func jitter(c colour, s float64, rng *rand.Rand) colour {
	tilt := rng.NormFloat64() * s
	var out colour
	sum := float32(0)
	for b := range c {
		out[b] = c[b] * float32(math.Exp(tilt*float64(1-b)+rng.NormFloat64()*0.015))
		sum += out[b]
	}
	for b := range out {
		out[b] *= 3 / sum
	}
	return out
}

// mix returns (1-t) a + t b.
func mix(a, b colour, t float32) colour {
	var out colour
	for i := range a {
		out[i] = (1-t)*a[i] + t*b[i]
	}
	return out
}

// profile is a radial light profile tabulated against the elliptical radius
// m (pixels) from 0 to cut; zero beyond.
type profile struct {
	tab [tabN + 1]float32
	inv float32 // entries per pixel of m
	cut float32
}

func (p *profile) set(cut float64, f func(m float64) float64) {
	cut = math.Max(cut, 0.5)
	p.cut = float32(cut)
	step := cut / (tabN - 1)
	p.inv = float32(1 / step)
	for k := 0; k < tabN; k++ {
		p.tab[k] = float32(f(float64(k) * step))
	}
	p.tab[tabN-1], p.tab[tabN] = 0, 0
}

func (p *profile) at(m float32) float32 {
	if m >= p.cut {
		return 0
	}
	t := m * p.inv
	k := int(t)
	f := t - float32(k)
	return p.tab[k] + f*(p.tab[k+1]-p.tab[k])
}

// sersicB is b_n of the Sersic profile (half the light inside r_e).
func sersicB(n float64) float64 { return 2*n - 1.0/3 + 0.009876/n }

// sersic returns a profile of total flux flux with index n, effective radius
// re and axis ratio q, cut where it falls below eps of its value at 0.5 px
// (px: pixels per pixel of a DefaultSize cutout).
func sersic(flux, n, re, q, eps, px float64) (prof profile) {
	b := sersicB(n)
	lg, _ := math.Lgamma(2 * n)
	norm := 2 * math.Pi * q * re * re * n * math.Exp(b+lg-2*n*math.Log(b))
	ie := flux / norm
	m0 := 0.5 * px
	cut := re * math.Pow(math.Pow(m0/re, 1/n)+math.Log(1/eps)/b, n)
	prof.set(math.Min(cut, 120*px), func(m float64) float64 {
		return ie * math.Exp(-b*(math.Pow(m/re, 1/n)-1))
	})
	return prof
}

// expDisk returns an exponential disk of total flux flux, scale length h and
// axis ratio q (px as for sersic).
func expDisk(flux, h, q, eps, px float64) (prof profile) {
	i0 := flux / (2 * math.Pi * q * h * h)
	prof.set(math.Min(h*math.Log(1/eps), 120*px), func(m float64) float64 { return i0 * math.Exp(-m/h) })
	return prof
}

// ring returns a Gaussian ring of radius r and width w (in m) of total flux
// flux for axis ratio q.
func ring(flux, r, w, q float64) (prof profile) {
	area := 2 * math.Pi * q * r * w * math.Sqrt(2*math.Pi) // thin-ring approximation
	a := flux / area
	prof.set(r+5*w, func(m float64) float64 { d := (m - r) / w; return a * math.Exp(-0.5*d*d) })
	return prof
}

// spiral describes arms that redistribute part of a disk's light.
type spiral struct {
	m      int     // number of arms
	frac   float32 // fraction of the disk's light in the arms (at full strength)
	width  int     // arm profile ((1+cos)/2)^width
	norm   float32 // 1 / mean of the arm profile
	rIn    float32 // arms grow from rIn to rIn+1/grow
	grow   float32 // 0.5 / (pixels per pixel of a DefaultSize cutout)
	asym   float32 // one-sided strength modulation
	ac, as float32 // direction of the modulation
	col    colour
	// cos and sin of m*phi(r), tabulated like the profile
	cosT, sinT [tabN + 1]float32
}

// component is one light component of a galaxy: a profile on elliptical
// radius, centred, rotated and flattened, with a colour, optionally boxy and
// optionally carrying spiral arms.
type component struct {
	x0, y0   float32
	cos, sin float32 // of the position angle
	invQ     float32
	boxy     float32 // weight of the boxy (|u|^4+|v|^4)^(1/4) radius
	prof     profile
	col      colour
	arms     *spiral
}

func newComponent(x0, y0, pa, q float64, col colour) component {
	return component{x0: float32(x0), y0: float32(y0), cos: float32(math.Cos(pa)), sin: float32(math.Sin(pa)), invQ: float32(1 / q), col: col}
}

// canvas holds the three band planes of one cutout of n x n pixels and
// scratch space.
type canvas struct {
	n    int
	band [3][]float32
	tmp  []float32
	// bounding box of what was drawn (for the PSF)
	x0, y0, x1, y1 int
}

// reset clears the canvas for a cutout of n x n pixels.
func (c *canvas) reset(n int) {
	if c.n != n {
		c.n = n
		for b := range c.band {
			c.band[b] = make([]float32, n*n)
		}
		c.tmp = make([]float32, n*n)
	}
	for b := range c.band {
		clear(c.band[b])
	}
	c.x0, c.y0, c.x1, c.y1 = n, n, 0, 0
}

// box returns the pixel rectangle covering the ellipse of semi-major axis a
// and axis ratio q at (x0, y0), clipped to the n x n image; empty when
// outside.
func box(n int, x0, y0, a float32, cos, sin, invQ float32) (xa, ya, xb, yb int) {
	b := a / invQ
	wx := float32(math.Sqrt(float64(a*a*cos*cos + b*b*sin*sin)))
	wy := float32(math.Sqrt(float64(a*a*sin*sin + b*b*cos*cos)))
	xa = max(0, int(math.Floor(float64(x0-wx))))
	xb = min(n, int(math.Ceil(float64(x0+wx)))+1)
	ya = max(0, int(math.Floor(float64(y0-wy))))
	yb = min(n, int(math.Ceil(float64(y0+wy)))+1)
	return
}

func (c *canvas) grow(xa, ya, xb, yb int) {
	if xa >= xb || ya >= yb {
		return
	}
	c.x0, c.y0 = min(c.x0, xa), min(c.y0, ya)
	c.x1, c.y1 = max(c.x1, xb), max(c.y1, yb)
}

// value returns the component's smooth and arm light at rotated offsets
// (u, v/q) = (u, v).
func (k *component) value(u, v float32) (smooth, arm float32) {
	m2 := u*u + v*v
	m := float32(math.Sqrt(float64(m2)))
	r := m
	if k.boxy > 0 {
		u2, v2 := u*u, v*v
		m4 := float32(math.Sqrt(math.Sqrt(float64(u2*u2 + v2*v2))))
		m = (1-k.boxy)*m + k.boxy*m4
	}
	val := k.prof.at(m)
	a := k.arms
	if a == nil || val == 0 || r <= a.rIn {
		return val, 0
	}
	// cos(m*theta - m*phi(r)): theta from (u + iv)/r raised to the m-th power.
	cr, ci := u/r, v/r
	zr, zi := cr, ci
	for j := 1; j < a.m; j++ {
		zr, zi = zr*cr-zi*ci, zr*ci+zi*cr
	}
	t := r * k.prof.inv
	if r >= k.prof.cut {
		return val, 0
	}
	idx := int(t)
	f := t - float32(idx)
	cp := a.cosT[idx] + f*(a.cosT[idx+1]-a.cosT[idx])
	sp := a.sinT[idx] + f*(a.sinT[idx+1]-a.sinT[idx])
	cs := zr*cp + zi*sp
	s := (1 + cs) * 0.5
	p := s
	for j := 1; j < a.width; j++ {
		p *= s
	}
	grow := min(1, (r-a.rIn)*a.grow)
	grow = grow * grow * (3 - 2*grow)
	str := a.frac * grow * (1 + a.asym*(cr*a.ac+ci*a.as))
	return val * (1 - str), val * str * a.norm * p
}

// draw adds the component to the canvas.
func (c *canvas) draw(k *component) {
	xa, ya, xb, yb := box(c.n, k.x0, k.y0, k.prof.cut, k.cos, k.sin, k.invQ)
	c.grow(xa, ya, xb, yb)
	ci, cr, cg := k.col[bandI], k.col[bandR], k.col[bandG]
	var ai, ar, ag float32
	if k.arms != nil {
		ai, ar, ag = k.arms.col[bandI], k.arms.col[bandR], k.arms.col[bandG]
	}
	bi, br, bg := c.band[bandI], c.band[bandR], c.band[bandG]
	for y := ya; y < yb; y++ {
		dy := float32(y) - k.y0
		row := y * c.n
		for x := xa; x < xb; x++ {
			dx := float32(x) - k.x0
			var s, a float32
			if dx > -1.5 && dx < 1.5 && dy > -1.5 && dy < 1.5 {
				// Near the centre, average 4x4 sub-samples: cusps are steep.
				for sy := float32(-0.375); sy < 0.5; sy += 0.25 {
					for sx := float32(-0.375); sx < 0.5; sx += 0.25 {
						u := (dx+sx)*k.cos + (dy+sy)*k.sin
						v := (-(dx+sx)*k.sin + (dy+sy)*k.cos) * k.invQ
						ss, aa := k.value(u, v)
						s += ss
						a += aa
					}
				}
				s *= 1.0 / 16
				a *= 1.0 / 16
			} else {
				u := dx*k.cos + dy*k.sin
				v := (-dx*k.sin + dy*k.cos) * k.invQ
				s, a = k.value(u, v)
			}
			if s == 0 && a == 0 {
				continue
			}
			p := row + x
			bi[p] += ci*s + ai*a
			br[p] += cr*s + ar*a
			bg[p] += cg*s + ag*a
		}
	}
}

// blob adds an elliptical Gaussian of peak amp (per unit colour) and widths
// sx (major) and sy (minor) at (x0, y0) with position angle given by cos and
// sin.
func (c *canvas) blob(x0, y0, amp, sx, sy, cos, sin float32, col colour, track bool) {
	r := 3.5 * sx
	xa, ya, xb, yb := box(c.n, x0, y0, r, cos, sin, sx/sy)
	if track {
		c.grow(xa, ya, xb, yb)
	}
	ix, iy := 1/(sx*sx), 1/(sy*sy)
	for y := ya; y < yb; y++ {
		dy := float32(y) - y0
		for x := xa; x < xb; x++ {
			dx := float32(x) - x0
			u := dx*cos + dy*sin
			v := -dx*sin + dy*cos
			e := -0.5 * (u*u*ix + v*v*iy)
			if e < -8 {
				continue
			}
			val := amp * float32(math.Exp(float64(e)))
			p := y*c.n + x
			for b := range c.band {
				c.band[b][p] += col[b] * val
			}
		}
	}
}

// convolve blurs the drawn region of every band with a Gaussian PSF of
// standard deviation sigma pixels (separable, truncated at 2.5 sigma).
func (c *canvas) convolve(sigma float64) {
	if c.x0 >= c.x1 {
		return
	}
	rad := int(math.Ceil(2.5 * sigma))
	var kern [128]float32 // sigma up to 25 pixels
	sum := float32(0)
	for i := -rad; i <= rad; i++ {
		v := float32(math.Exp(-0.5 * float64(i*i) / (sigma * sigma)))
		kern[i+rad] = v
		sum += v
	}
	for i := range 2*rad + 1 {
		kern[i] /= sum
	}
	n := c.n
	x0, x1 := max(0, c.x0-rad), min(n, c.x1+rad)
	y0, y1 := max(0, c.y0-rad), min(n, c.y1+rad)
	k := kern[:2*rad+1]
	for b := range c.band {
		pl := c.band[b]
		// Rows, pl -> tmp; outside [c.x0, c.x1) the plane is zero, so a
		// row is read from the drawn columns only.
		for y := y0; y < y1; y++ {
			src := pl[y*n : (y+1)*n]
			dst := c.tmp[y*n : (y+1)*n]
			for x := x0; x < x1; x++ {
				lo, hi := max(x-rad, 0), min(x+rad+1, n)
				s := float32(0)
				kk := k[lo-(x-rad):]
				for i, v := range src[lo:hi] {
					s += kk[i] * v
				}
				dst[x] = s
			}
		}
		// Columns, tmp -> pl, a row of outputs at a time.
		for y := y0; y < y1; y++ {
			dst := pl[y*n+x0 : y*n+x1]
			clear(dst)
			for i := max(y-rad, y0); i < min(y+rad+1, y1); i++ {
				w := k[i-(y-rad)]
				src := c.tmp[i*n+x0 : i*n+x1]
				for j := range dst {
					dst[j] += w * src[j]
				}
			}
		}
	}
	c.x0, c.y0, c.x1, c.y1 = x0, y0, x1, y1
}

// scale multiplies the drawn region by f.
func (c *canvas) scale(f float32) {
	for b := range c.band {
		for y := c.y0; y < c.y1; y++ {
			row := c.band[b][y*c.n+c.x0 : y*c.n+c.x1]
			for i := range row {
				row[i] *= f
			}
		}
	}
}

// peak returns the largest band-mean intensity within rad pixels of (x, y).
func (c *canvas) peak(x, y float32, rad int) float32 {
	cx, cy := int(x+0.5), int(y+0.5)
	best := float32(0)
	for yy := max(0, cy-rad); yy < min(c.n, cy+rad+1); yy++ {
		for xx := max(0, cx-rad); xx < min(c.n, cx+rad+1); xx++ {
			p := yy*c.n + xx
			best = max(best, c.band[0][p]+c.band[1][p]+c.band[2][p])
		}
	}
	return best / 3
}

// asinhTable holds asinh(x) at x = k/asinhRes for x up to asinhMax
// (linear interpolation between entries is good to 2e-5).
const (
	asinhRes = 64
	asinhMax = 64
)

var asinhTable = func() (t [asinhMax*asinhRes + 2]float32) {
	for k := range t {
		t[k] = float32(math.Asinh(float64(k) / asinhRes))
	}
	return t
}()

func fastAsinh(x float32) float32 {
	neg := x < 0
	if neg {
		x = -x
	}
	var v float32
	if x >= asinhMax {
		v = float32(math.Asinh(float64(x)))
	} else {
		t := x * asinhRes
		k := int(t)
		f := t - float32(k)
		v = asinhTable[k] + f*(asinhTable[k+1]-asinhTable[k])
	}
	if neg {
		return -v
	}
	return v
}

// normTable holds standard normal quantiles at (k+0.5)/4096: noise draws
// index it with 12 random bits each (tails cut at 3.5 sigma).
var normTable = func() (t [4096]float32) {
	for k := range t {
		p := (float64(k) + 0.5) / 4096
		t[k] = float32(math.Sqrt2 * math.Erfinv(2*p-1))
	}
	return t
}()
