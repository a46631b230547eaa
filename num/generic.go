package num

// Portable Go kernels. They are used on architectures without assembly, on
// CPUs that lack the needed features and under the "purego" build tag, and are
// always tested. Loops keep several independent accumulators so that the
// compiler can overlap the floating-point latencies.

var genericKernels = kernelSet{
	name:           "generic",
	dot:            dotGeneric,
	axpy:           axpyGeneric,
	axpyDot:        axpyDotGeneric,
	dot4:           dot4Generic,
	axpy4:          axpy4Generic,
	add:            addGeneric,
	scaleShift:     scaleShiftGeneric,
	scaleShiftReLU: scaleShiftReLUGeneric,
	batchNormGrad:  batchNormGradGeneric,
	maxPool2Row:    maxPool2RowGeneric,
	maxPool2RowArg: maxPool2RowArgGeneric,
	maxUnpool2Row:  maxUnpool2RowGeneric,
	sumsF64:        sumsF64Generic,
	maskedSumsF64:  maskedSumsF64Generic,
	gemms: []gemmKernel{{mr: 4, nr: 4, mc: 128, kc: 256, nc: 1024, kern: sgemmKernelGeneric, cost: 1,
		transpose: transposeGeneric, panelCopy: panelCopyGeneric}},
	dotTile: sdotKernelGeneric,
}

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
		s4 += xs[4] * ys[4]
		s5 += xs[5] * ys[5]
		s6 += xs[6] * ys[6]
		s7 += xs[7] * ys[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
		ys[4] += alpha * xs[4]
		ys[5] += alpha * xs[5]
		ys[6] += alpha * xs[6]
		ys[7] += alpha * xs[7]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

func axpyDotGeneric(alpha float32, x, y, z []float32) float32 {
	y = y[:len(x)]
	z = z[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys, zs := x[i:i+4:i+4], y[i:i+4:i+4], z[i:i+4:i+4]
		y0 := ys[0] + alpha*xs[0]
		y1 := ys[1] + alpha*xs[1]
		y2 := ys[2] + alpha*xs[2]
		y3 := ys[3] + alpha*xs[3]
		ys[0], ys[1], ys[2], ys[3] = y0, y1, y2, y3
		s0 += y0 * zs[0]
		s1 += y1 * zs[1]
		s2 += y2 * zs[2]
		s3 += y3 * zs[3]
	}
	for ; i < len(x); i++ {
		v := y[i] + alpha*x[i]
		y[i] = v
		s0 += v * z[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dot4Generic(a []float32, lda int, x, y []float32) {
	n := len(x)
	a0 := a[:n]
	a1 := a[lda : lda+n]
	a2 := a[2*lda : 2*lda+n]
	a3 := a[3*lda : 3*lda+n]
	var s0, s1, s2, s3, t0, t1, t2, t3 float32
	j := 0
	for ; j+2 <= n; j += 2 {
		x0, x1 := x[j], x[j+1]
		s0 += a0[j] * x0
		s1 += a1[j] * x0
		s2 += a2[j] * x0
		s3 += a3[j] * x0
		t0 += a0[j+1] * x1
		t1 += a1[j+1] * x1
		t2 += a2[j+1] * x1
		t3 += a3[j+1] * x1
	}
	if j < n {
		x0 := x[j]
		s0 += a0[j] * x0
		s1 += a1[j] * x0
		s2 += a2[j] * x0
		s3 += a3[j] * x0
	}
	y = y[:4]
	y[0], y[1], y[2], y[3] = s0+t0, s1+t1, s2+t2, s3+t3
}

func axpy4Generic(c, a []float32, lda int, y []float32) {
	n := len(y)
	a0 := a[:n]
	a1 := a[lda : lda+n]
	a2 := a[2*lda : 2*lda+n]
	a3 := a[3*lda : 3*lda+n]
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	for j := range y {
		y[j] += (c0*a0[j] + c1*a1[j]) + (c2*a2[j] + c3*a3[j])
	}
}

func addGeneric(dst, x []float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		ds, xs := dst[i:i+8:i+8], x[i:i+8:i+8]
		ds[0] += xs[0]
		ds[1] += xs[1]
		ds[2] += xs[2]
		ds[3] += xs[3]
		ds[4] += xs[4]
		ds[5] += xs[5]
		ds[6] += xs[6]
		ds[7] += xs[7]
	}
	for ; i < len(dst); i++ {
		dst[i] += x[i]
	}
}

// The explicit conversions keep the compiler from fusing a multiply and
// an add (which GOAMD64=v3 and other architectures allow).

func scaleShiftGeneric(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = float32(a*v) + b
	}
}

func scaleShiftReLUGeneric(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = max(float32(a*v)+b, 0)
	}
}

func batchNormGradGeneric(d, g, x []float32, sc, sh, mu, a, b, c float32) {
	g, x = g[:len(d)], x[:len(d)]
	for i, v := range g {
		d[i] = float32(float32(a*v)*reluOn(sc, sh, x[i])) + b + float32(c*(x[i]-mu))
	}
}

func maxPool2RowGeneric(dst, r0, r1 []float32) {
	r0, r1 = r0[:2*len(dst)], r1[:2*len(dst)]
	for i := range dst {
		dst[i] = max(max(r0[2*i], r0[2*i+1]), max(r1[2*i], r1[2*i+1]))
	}
}

func sumsF64Generic(v []float32) (sum, sumSq float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b, c, d := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
	}
	for ; i < len(v); i++ {
		a := float64(v[i])
		s0, q0 = s0+a, q0+a*a
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// maskedSumsF64Generic adds in two accumulators, acc[0] and acc[1] for the
// sums of g' and acc[2] and acc[3] for those of g'·(x-mu), even elements in
// the first; a call that is not last takes an even number of values.
func maskedSumsF64Generic(g, x []float32, sc, sh float32, mu float64, acc *[32]float64, last bool) (sg, sgx float64) {
	x = x[:len(g)]
	s0, s1, t0, t1 := acc[0], acc[1], acc[2], acc[3]
	i := 0
	for ; i+2 <= len(g); i += 2 {
		a := float64(g[i] * reluOn(sc, sh, x[i]))
		b := float64(g[i+1] * reluOn(sc, sh, x[i+1]))
		s0, s1 = s0+a, s1+b
		t0, t1 = t0+a*(float64(x[i])-mu), t1+b*(float64(x[i+1])-mu)
	}
	if !last {
		acc[0], acc[1], acc[2], acc[3] = s0, s1, t0, t1
		return 0, 0
	}
	for ; i < len(g); i++ {
		a := float64(g[i] * reluOn(sc, sh, x[i]))
		s0, t0 = s0+a, t0+a*(float64(x[i])-mu)
	}
	return s0 + s1, t0 + t1
}

func maxPool2RowArgGeneric(dst []float32, arg []int32, r0, r1 []float32, base, w int32) {
	arg, r0, r1 = arg[:len(dst)], r0[:2*len(dst)], r1[:2*len(dst)]
	for i := range dst {
		a, b, c, e := r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1]
		top, bot := max(a, b), max(c, e)
		dst[i] = max(top, bot)
		it := int32(0)
		if b > a {
			it = 1
		}
		ib := w
		if e > c {
			ib = w + 1
		}
		if bot > top {
			it = ib
		}
		arg[i] = base + int32(2*i) + it
	}
}

func maxUnpool2RowGeneric(r0, r1, g []float32, arg []int32, base, w int32) {
	r0, r1, arg = r0[:2*len(g)], r1[:2*len(g)], arg[:len(g)]
	for i, v := range g {
		r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1] = 0, 0, 0, 0
		v += 0
		switch arg[i] - base - int32(2*i) {
		case 0:
			r0[2*i] = v
		case 1:
			r0[2*i+1] = v
		case w:
			r1[2*i] = v
		case w + 1:
			r1[2*i+1] = v
		}
	}
}

// reluOn is 1 where the ReLU after a batch norm whose output is sc*x+sh
// was on (sc*x+sh > 0, the product rounded first) and 0 where it was off
// (NaN included).
func reluOn(sc, sh, x float32) float32 {
	if float32(sc*x)+sh > 0 {
		return 1
	}
	return 0
}

// sgemmKernelGeneric is the portable 4×4 gemmKernel.kern.
func sgemmKernelGeneric(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, _ int, _ []float32, _, _ int) {
	if rows < 4 || cols < 4 {
		var tile [4 * 4]float32
		sgemmTile4x4(kc, a, b, tile[:], 4, 0, false)
		mergeTile(tile[:], 4, c, ldc, beta, load, rows, cols)
		return
	}
	sgemmTile4x4(kc, a, b, c, ldc, beta, load)
}

// sgemmTile4x4 computes the whole 4×4 tile: with ab the product of the packed
// panels a (kc×4) and b (kc×4), it stores c[i*ldc+j] = ab[i][j] (load false)
// or ab[i][j] + beta*c[i*ldc+j].
func sgemmTile4x4(kc int, a, b, c []float32, ldc int, beta float32, load bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a = a[:4*kc]
	b = b[:4*kc]
	for p := 0; p < kc; p++ {
		ap := a[4*p : 4*p+4 : 4*p+4]
		bp := b[4*p : 4*p+4 : 4*p+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	if load {
		c00 += beta * r0[0]
		c01 += beta * r0[1]
		c02 += beta * r0[2]
		c03 += beta * r0[3]
		c10 += beta * r1[0]
		c11 += beta * r1[1]
		c12 += beta * r1[2]
		c13 += beta * r1[3]
		c20 += beta * r2[0]
		c21 += beta * r2[1]
		c22 += beta * r2[2]
		c23 += beta * r2[3]
		c30 += beta * r3[0]
		c31 += beta * r3[1]
		c32 += beta * r3[2]
		c33 += beta * r3[3]
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}

// sdotKernelGeneric is the portable kernelSet.dotTile. Element (i, j) of the
// tile keeps 4 partial sums (p ≡ l mod 4 from the chunk's start) in
// acc[(i*dotNB+j)*16 : +4].
func sdotKernelGeneric(kb int, a []float32, lda int, b []float32, ldb int, acc []float32, first, last bool, rows, cols int, sums []float32) {
	for i := 0; i < dotMA; i++ {
		ri := min(i, rows-1)
		ar := a[ri*lda : ri*lda+kb]
		for j := 0; j < dotNB; j++ {
			rj := min(j, cols-1)
			br := b[rj*ldb : rj*ldb+kb]
			var s0, s1, s2, s3 float32
			t := (i*dotNB + j) * 16
			if !first {
				s0, s1, s2, s3 = acc[t], acc[t+1], acc[t+2], acc[t+3]
			}
			p := 0
			for ; p+4 <= kb; p += 4 {
				x, y := ar[p:p+4:p+4], br[p:p+4:p+4]
				s0 += x[0] * y[0]
				s1 += x[1] * y[1]
				s2 += x[2] * y[2]
				s3 += x[3] * y[3]
			}
			for ; p < kb; p++ {
				s0 += ar[p] * br[p]
			}
			if last {
				sums[i*dotNB+j] = (s0 + s1) + (s2 + s3)
			} else {
				acc[t], acc[t+1], acc[t+2], acc[t+3] = s0, s1, s2, s3
			}
		}
	}
}

// gatherTapsGeneric copies the rows whose mask covers the whole width and
// goes value by value through the others.
func gatherTapsGeneric(dst []float32, stride int, src []float32, step int, tapOff []int, tapMask []uint32, t0, base, rows, width int) {
	full := uint32(uint64(1)<<width - 1)
	t := t0
	for p := range rows {
		d, m, o := dst[p*stride:p*stride+width], tapMask[t], base+tapOff[t]
		if m == full {
			copy(d, src[o:o+width])
		} else {
			for i := range d {
				d[i] = 0
				if m&(1<<i) != 0 {
					d[i] = src[o+i]
				}
			}
		}
		if t++; t == len(tapOff) {
			t, base = 0, base+step
		}
	}
}
