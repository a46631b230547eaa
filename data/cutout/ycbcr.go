package cutout

import "image"

// YCbCr to RGB as libjpeg (jdcolor.c) converts, in 16-bit fixed point with
// tables; image/color rounds slightly differently.
var (
	crR, cbB [256]int32 // red and blue offsets, rounded
	crG, cbG [256]int32 // green terms, still scaled by 1<<16 (cbG holds the 1/2)
)

func init() {
	fix := func(v float64) int32 { return int32(v*(1<<16) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + 1<<15) >> 16
		cbB[i] = (fix(1.77200)*x + 1<<15) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + 1<<15
	}
}

// clampTab[v+clampOff] is v clamped to 0..255, for v in -256..511 (the range
// of y plus any chroma term).
const clampOff = 256

var clampTab [768]uint8

func init() {
	for i := range clampTab {
		clampTab[i] = uint8(max(0, min(255, i-clampOff)))
	}
}

// convertRow converts len(ys) pixels to RGB triplets in dst.
func convertRow(dst []uint8, ys []uint8, cbs, crs []int32) {
	n := len(ys)
	dst = dst[:3*n]
	cbs, crs = cbs[:n], crs[:n]
	for i, y := range ys {
		yy := int32(y) + clampOff
		cb, cr := cbs[i]&0xff, crs[i]&0xff
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0] = clampTab[yy+crR[cr]]
		d[1] = clampTab[yy+(cbG[cb]+crG[cr])>>16]
		d[2] = clampTab[yy+cbB[cb]]
	}
}

// ycbcrRows returns a row fetcher for p that reproduces libjpeg's default
// decoding output from the decoded planes: "fancy" (triangular) chroma
// upsampling for 4:2:0 and 4:2:2 (jdsample.c h2v2_fancy_upsample and
// h2v1_fancy_upsample, edges replicated at the image border), none needed for
// 4:4:4, and the nearest chroma sample for the rarer 4:4:0, 4:1:1 and 4:1:0.
// Chroma neighbours outside the requested columns (but inside the image) are
// used, as libjpeg upsamples the whole image. It returns nil for images with
// negative coordinates, which take the generic path.
func ycbcrRows(p *image.YCbCr, x0, n int) func(y int, dst []uint8) {
	r := p.Rect
	if r.Min.X < 0 || r.Min.Y < 0 {
		return nil
	}
	// Valid chroma columns (absolute), for the horizontally halved ratios.
	cx0, cx1 := r.Min.X/2, (r.Max.X+1)/2-1
	ucb, ucr := make([]int32, n), make([]int32, n) // upsampled chroma of a row
	switch p.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		return func(y int, dst []uint8) {
			ci := p.COffset(x0, y)
			for i, v := range p.Cb[ci : ci+n] {
				ucb[i] = int32(v)
			}
			for i, v := range p.Cr[ci : ci+n] {
				ucr[i] = int32(v)
			}
			convertRow(dst, p.Y[p.YOffset(x0, y):][:n], ucb, ucr)
		}
	case image.YCbCrSubsampleRatio420:
		cy0, cy1 := r.Min.Y/2, (r.Max.Y+1)/2-1
		// Chroma columns kStart..kEnd cover the pixels; e[j] holds column
		// kStart+j-1, so e[0] and e[m-1] are the neighbours on either side,
		// replicated at the image edges as libjpeg does.
		kStart, kEnd := x0/2, (x0+n-1)/2
		m := kEnd - kStart + 3
		col := make([]int, m)
		for j := range col {
			col[j] = max(cx0, min(kStart+j-1, cx1)) - cx0
		}
		ecb, ecr := make([]int32, m), make([]int32, m)
		return func(y int, dst []uint8) {
			// Vertical: 3/4 of the nearest chroma row, 1/4 of the next
			// nearest (above for even rows, below for odd ones).
			cy := y / 2
			oy := cy + 1
			if y%2 == 0 {
				oy = cy - 1
			}
			oy = max(cy0, min(oy, cy1))
			cbA, cbB := p.Cb[(cy-cy0)*p.CStride:], p.Cb[(oy-cy0)*p.CStride:]
			crA, crB := p.Cr[(cy-cy0)*p.CStride:], p.Cr[(oy-cy0)*p.CStride:]
			ecb, ecr := ecb[:m], ecr[:m]
			for j, c := range col {
				ecb[j] = 3*int32(cbA[c]) + int32(cbB[c])
				ecr[j] = 3*int32(crA[c]) + int32(crB[c])
			}
			// Horizontal: the same 3:1 weights, with libjpeg's biases 8
			// (even pixel, left neighbour) and 7 (odd pixel, right one).
			for j := 1; j < m-1; j++ {
				i := 2*(kStart+j-1) - x0 // the even pixel of column kStart+j-1
				cb, cr := 3*ecb[j], 3*ecr[j]
				if i >= 0 {
					ucb[i] = (cb + ecb[j-1] + 8) >> 4
					ucr[i] = (cr + ecr[j-1] + 8) >> 4
				}
				if i+1 < n {
					ucb[i+1] = (cb + ecb[j+1] + 7) >> 4
					ucr[i+1] = (cr + ecr[j+1] + 7) >> 4
				}
			}
			convertRow(dst, p.Y[p.YOffset(x0, y):][:n], ucb, ucr)
		}
	case image.YCbCrSubsampleRatio422:
		return func(y int, dst []uint8) {
			base := (y-r.Min.Y)*p.CStride - cx0
			for i := range n {
				x := x0 + i
				k := x / 2
				if x%2 == 0 {
					kn := max(k-1, cx0)
					ucb[i] = (3*int32(p.Cb[base+k]) + int32(p.Cb[base+kn]) + 1) >> 2
					ucr[i] = (3*int32(p.Cr[base+k]) + int32(p.Cr[base+kn]) + 1) >> 2
				} else {
					kn := min(k+1, cx1)
					ucb[i] = (3*int32(p.Cb[base+k]) + int32(p.Cb[base+kn]) + 2) >> 2
					ucr[i] = (3*int32(p.Cr[base+k]) + int32(p.Cr[base+kn]) + 2) >> 2
				}
			}
			convertRow(dst, p.Y[p.YOffset(x0, y):][:n], ucb, ucr)
		}
	default:
		return func(y int, dst []uint8) {
			for i := range n {
				ci := p.COffset(x0+i, y)
				ucb[i], ucr[i] = int32(p.Cb[ci]), int32(p.Cr[ci])
			}
			convertRow(dst, p.Y[p.YOffset(x0, y):][:n], ucb, ucr)
		}
	}
}
