package cnn

// Symmetries is the number of symmetries of the square (the dihedral group
// D4): four rotations by 90 degrees, each with or without a mirror flip.
const Symmetries = 8

// d4 maps output pixel (y, x) of an s×s image under symmetry sym (0..7; 0
// is the identity, bit 2 a flip, bits 0-1 the quarter turns) to its source.
func d4(sym, s, y, x int) (int, int) {
	if sym&4 != 0 {
		x = s - 1 - x
	}
	switch sym & 3 {
	case 1:
		y, x = x, s-1-y
	case 2:
		y, x = s-1-y, s-1-x
	case 3:
		y, x = s-1-x, y
	}
	return y, x
}

// ToCNHW writes image img (h×w×c bytes, HWC) as image n of a C×N×H×W batch
// dst of nb images, each byte times scale, transformed by symmetry sym
// (see Symmetries; non-square images take only 0) and shifted by (dy, dx)
// pixels (pixels shifted in from outside are 0).
func ToCNHW[T Float](img []uint8, h, w, c int, scale T, sym, dy, dx int, dst []T, n, nb int) {
	hw := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sy, sx := y+dy, x+dx
			if sym != 0 {
				sy, sx = d4(sym, h, sy, sx)
			}
			o := n*hw + y*w + x
			if sy < 0 || sy >= h || sx < 0 || sx >= w {
				for ch := 0; ch < c; ch++ {
					dst[ch*nb*hw+o] = 0
				}
				continue
			}
			src := img[(sy*w+sx)*c : (sy*w+sx+1)*c]
			for ch, v := range src {
				dst[ch*nb*hw+o] = T(v) * scale
			}
		}
	}
}

// featuresToCNHW is ToCNHW for already scaled HWC features.
func featuresToCNHW[T Float](x []T, h, w, c, sym int, dst []T, n, nb int) {
	hw := h * w
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			sy, sx := y, xx
			if sym != 0 {
				sy, sx = d4(sym, h, sy, sx)
			}
			src := x[(sy*w+sx)*c : (sy*w+sx+1)*c]
			o := n*hw + y*w + xx
			for ch, v := range src {
				dst[ch*nb*hw+o] = v
			}
		}
	}
}
