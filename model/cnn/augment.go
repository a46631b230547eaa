package cnn

import "math"

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

// ToCNHW writes the central oh×ow window of image img (h×w×c bytes, HWC;
// h-oh and w-ow even) as image n of a C×N×oh×ow batch dst of nb images, each
// byte times scale, the window transformed by symmetry sym (see Symmetries;
// non-square windows take only 0) and shifted by (dy, dx) pixels (pixels
// shifted in from outside the image are 0).
func ToCNHW[T Float](img []uint8, h, w, c, oh, ow int, scale T, sym, dy, dx int, dst []T, n, nb int) {
	hw := oh * ow
	y0, x0 := (h-oh)/2, (w-ow)/2
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			sy, sx := y+dy, x+dx
			if sym != 0 {
				sy, sx = d4(sym, oh, sy, sx)
			}
			sy, sx = sy+y0, sx+x0
			o := n*hw + y*ow + x
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

// featuresToCNHW is ToCNHW for already scaled HWC features, without shift.
func featuresToCNHW[T Float](x []T, h, w, c, oh, ow, sym int, dst []T, n, nb int) {
	hw := oh * ow
	y0, x0 := (h-oh)/2, (w-ow)/2
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			sy, sx := y, xx
			if sym != 0 {
				sy, sx = d4(sym, oh, sy, sx)
			}
			sy, sx = sy+y0, sx+x0
			src := x[(sy*w+sx)*c : (sy*w+sx+1)*c]
			o := n*hw + y*ow + xx
			for ch, v := range src {
				dst[ch*nb*hw+o] = v
			}
		}
	}
}

// Warp is a similarity transform of an image about its centre, for
// augmentation: a mirror flip (x → -x) first, then a rotation by Angle
// radians, a scaling by Scale (above 1 enlarges) and a shift by (DY, DX)
// pixels. The zero Warp is not the identity: Scale must be set.
type Warp struct {
	Flip         bool
	Angle, Scale float64
	DY, DX       float64
}

// WarpToCNHW is ToCNHW for any Warp about the image's centre: each pixel of
// the oh×ow output samples img bilinearly at its preimage, reflecting about
// the border pixels where the preimage falls outside the image (sky
// continues as sky instead of turning black in the corners of a rotated
// image).
func WarpToCNHW[T Float](img []uint8, h, w, c, oh, ow int, scale T, wp Warp, dst []T, n, nb int) {
	hw := oh * ow
	cy, cx := float64(h-1)/2, float64(w-1)/2
	ocy, ocx := float64(oh-1)/2, float64(ow-1)/2
	sin, cos := math.Sincos(wp.Angle)
	sin, cos = sin/wp.Scale, cos/wp.Scale
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			// Invert the shift, then the rotation and scaling, then the flip.
			u, v := float64(x)-ocx-wp.DX, float64(y)-ocy-wp.DY
			su, sv := cos*u+sin*v, -sin*u+cos*v
			if wp.Flip {
				su = -su
			}
			fx, fy := su+cx, sv+cy
			x0, y0 := math.Floor(fx), math.Floor(fy)
			ax, ay := T(fx-x0), T(fy-y0)
			ix0, iy0 := int(x0), int(y0)
			xa, xb := reflect(ix0, w), reflect(ix0+1, w)
			ya, yb := reflect(iy0, h), reflect(iy0+1, h)
			p00, p01 := (ya*w+xa)*c, (ya*w+xb)*c
			p10, p11 := (yb*w+xa)*c, (yb*w+xb)*c
			o := n*hw + y*ow + x
			for ch := 0; ch < c; ch++ {
				top := T(img[p00+ch]) + ax*(T(img[p01+ch])-T(img[p00+ch]))
				bot := T(img[p10+ch]) + ax*(T(img[p11+ch])-T(img[p10+ch]))
				dst[ch*nb*hw+o] = (top + ay*(bot-top)) * scale
			}
		}
	}
}

// reflect maps index i to [0, n) by reflection about the end pixels
// (…, 2, 1 | 0, 1, …, n-1 | n-2, …).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}
