package cutout

import (
	"image"
)

// Galaxy10 crop: 207 of the ~424 pixels of a Galaxy Zoo cutout.
const (
	cropNum = 207
	cropDen = 424
)

// CropRect returns the square region of an image with bounds b that Prepare
// resamples to Size x Size:
//
//   - a square of side s > Size: the centred square of side
//     c = round(s*207/424) (halves round up), at offset floor((s-c)/2) from
//     the top-left corner. Side 423 and 424 both give c = 207; offset 108
//     for both. For 423 that is (423-207)/2 exactly, and the HDF5 pixels
//     confirm it (offsets 107 and 109 are far off). For 424 the half pixel
//     is dropped as Python's (s-c)//2 drops it; the data cannot tell.
//   - a square of side Size: all of it.
//   - anything else (not square, or smaller than Size): the central square
//     of side min(w, h), offsets floor((w-side)/2), floor((h-side)/2).
func CropRect(b image.Rectangle) image.Rectangle {
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return image.Rectangle{Min: b.Min, Max: b.Min}
	}
	var side int
	if w == h && w > Size {
		side = int((2*int64(w)*cropNum + cropDen) / (2 * cropDen))
	} else {
		side = min(w, h)
	}
	x0, y0 := b.Min.X+(w-side)/2, b.Min.Y+(h-side)/2
	return image.Rect(x0, y0, x0+side, y0+side)
}

// Prepare applies the Galaxy10 recipe to img and returns Size*Size*3 bytes,
// HWC interleaved RGB, row 0 at the top.
//
// The region CropRect(img.Bounds()) is resampled to Size x Size with area
// averaging (a box filter whose weights are the overlap of each source pixel
// with the output pixel's footprint), computed like Pillow's
// Image.resize(..., Image.BOX): separable, in 22-bit fixed point, horizontal
// pass first with the intermediate rounded to uint8. For the 207-pixel crop
// this is the exact 3x3 box mean, computed with Pillow's roundings, which is
// what reproduces the Galaxy10 files. A region of side Size is copied as it
// is; one smaller than Size is enlarged by the same area weights.
//
// Pixels are converted to 8-bit RGB over black (colours with alpha are
// premultiplied, as color.Color.RGBA gives them); grey images give three equal
// channels. *image.YCbCr is converted as libjpeg converts it (see the package
// comment), *image.RGBA, *image.NRGBA and *image.Gray exactly as their At
// methods would be, on fast paths; other types through At. An empty image
// gives zeros.
func Prepare(img image.Image) []uint8 {
	out := make([]uint8, Size*Size*3)
	r := CropRect(img.Bounds())
	n := r.Dx()
	if n <= 0 {
		return out
	}
	fetch := rowFetcher(img, r.Min.X, n)
	const rowLen = Size * 3
	if n == Size {
		for j := range Size {
			fetch(r.Min.Y+j, out[j*rowLen:(j+1)*rowLen])
		}
		return out
	}
	row := make([]uint8, n*3)
	tmp := make([]uint8, n*rowLen)
	if n == 3*Size {
		// The Galaxy10 case: exact 3x3 box, each pass a sum of three values
		// and a table lookup that gives Pillow's fixed-point rounding.
		for y := range n {
			fetch(r.Min.Y+y, row)
			t := tmp[y*rowLen : (y+1)*rowLen]
			for i := 0; i < rowLen; i += 3 {
				s := row[3*i : 3*i+9 : 3*i+9]
				t[i] = div3[int(s[0])+int(s[3])+int(s[6])]
				t[i+1] = div3[int(s[1])+int(s[4])+int(s[7])]
				t[i+2] = div3[int(s[2])+int(s[5])+int(s[8])]
			}
		}
		for j := range Size {
			a := tmp[3*j*rowLen : (3*j+1)*rowLen]
			b := tmp[(3*j+1)*rowLen : (3*j+2)*rowLen]
			c := tmp[(3*j+2)*rowLen : (3*j+3)*rowLen]
			o := out[j*rowLen : (j+1)*rowLen]
			for i := range o {
				o[i] = div3[int(a[i])+int(b[i])+int(c[i])]
			}
		}
		return out
	}
	resample(func(y int, dst []uint8) { fetch(r.Min.Y+y, dst) }, n, n, 3, Size, Size, out, row, tmp)
	return out
}

// PrepareSquare returns the central square of img (side min(w, h), as
// CropRect gives for an image that is not a large square) resampled to
// size x size x 3 with the same area averaging as Prepare, without the
// Galaxy10 crop: the preparation of surveys whose files hold the whole
// cutout (Galaxy10 DECaLS), at the size a model takes.
func PrepareSquare(img image.Image, size int) []uint8 {
	out := make([]uint8, size*size*3)
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	if side <= 0 || size <= 0 {
		return out
	}
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	fetch := rowFetcher(img, x0, side)
	resample(func(y int, dst []uint8) { fetch(y0+y, dst) }, side, side, 3, size, size, out, nil, nil)
	return out
}

// Resize resamples src, an h x w image of c interleaved channels (HWC
// bytes), to oh x ow into dst (oh*ow*c bytes) with the area averaging of
// Prepare (Pillow's Image.BOX: each output pixel the overlap-weighted mean
// of the source pixels under its footprint, separable, in fixed point,
// horizontal pass first). Same size copies. It is what --resize applies to
// a data file's images.
func Resize(dst, src []uint8, h, w, c, oh, ow int) {
	if h == oh && w == ow {
		copy(dst, src[:h*w*c])
		return
	}
	resample(func(y int, row []uint8) { copy(row, src[y*w*c:(y+1)*w*c]) }, h, w, c, oh, ow, dst, nil, nil)
}

// resample is the separable area resampling of Prepare, PrepareSquare and
// Resize: rows of an h x w x c source come from fetch; out gets oh x ow x c.
// row (w*c) and tmp (h*ow*c) are scratch, allocated when nil.
func resample(fetch func(y int, dst []uint8), h, w, c, oh, ow int, out, row, tmp []uint8) {
	if row == nil {
		row = make([]uint8, w*c)
	}
	if tmp == nil {
		tmp = make([]uint8, h*ow*c)
	}
	rowLen := ow * c
	cx := areaCoeffs(w, ow)
	for y := range h {
		fetch(y, row)
		t := tmp[y*rowLen : (y+1)*rowLen]
		for i := range ow {
			lo := cx.start[i]
			wt := cx.w[cx.off[i]:cx.off[i+1]]
			for ch := range c {
				ss := int64(1) << (precisionBits - 1)
				for k, wk := range wt {
					ss += int64(row[(lo+k)*c+ch]) * int64(wk)
				}
				t[i*c+ch] = clip8(ss)
			}
		}
	}
	cy := areaCoeffs(h, oh)
	for j := range oh {
		lo := cy.start[j]
		wt := cy.w[cy.off[j]:cy.off[j+1]]
		o := out[j*rowLen : (j+1)*rowLen]
		for i := range o {
			ss := int64(1) << (precisionBits - 1)
			for k, wk := range wt {
				ss += int64(tmp[(lo+k)*rowLen+i]) * int64(wk)
			}
			o[i] = clip8(ss)
		}
	}
}

// precisionBits is Pillow's fixed-point precision for 8-bit resampling
// (32 - 8 - 2).
const precisionBits = 22

func clip8(ss int64) uint8 {
	v := ss >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// fixWeight converts a weight in [0, 1] to Pillow's fixed point.
func fixWeight(w float64) int32 { return int32(0.5 + w*(1<<precisionBits)) }

// div3[s] is Pillow's fixed-point result for three values summing to s, each
// with weight 1/3.
var div3 [3*255 + 1]uint8

func init() {
	w := int64(fixWeight(1.0 / 3))
	for s := range div3 {
		div3[s] = clip8(int64(s)*w + 1<<(precisionBits-1))
	}
}

// coeffs are the area weights resampling n source pixels to m: output i
// reads source pixels start[i]... with weights w[off[i]:off[i+1]].
type coeffs struct {
	start []int
	off   []int
	w     []int32
}

// areaCoeffs returns the area-averaging weights from n pixels to m: output
// pixel i covers [i*n/m, (i+1)*n/m) of the source, and each source pixel
// weighs its overlap with that interval over the interval's length.
func areaCoeffs(n, m int) coeffs {
	c := coeffs{start: make([]int, m), off: make([]int, m+1)}
	for i := range m {
		// Work in units of 1/m source pixel: the footprint is [a, b).
		a, b := i*n, (i+1)*n
		p0, p1 := a/m, (b+m-1)/m // source pixels p0 .. p1-1
		c.start[i] = p0
		for p := p0; p < p1; p++ {
			ov := min(b, (p+1)*m) - max(a, p*m)
			c.w = append(c.w, fixWeight(float64(ov)/float64(n)))
		}
		c.off[i+1] = len(c.w)
	}
	return c
}

// rowFetcher returns a function that writes the n pixels of row y starting
// at column x0 as RGB triplets into dst.
func rowFetcher(img image.Image, x0, n int) func(y int, dst []uint8) {
	switch p := img.(type) {
	case *image.YCbCr:
		if f := ycbcrRows(p, x0, n); f != nil {
			return f
		}
	case *image.RGBA:
		return func(y int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range n {
				dst[3*i] = s[4*i]
				dst[3*i+1] = s[4*i+1]
				dst[3*i+2] = s[4*i+2]
			}
		}
	case *image.NRGBA:
		return func(y int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range n {
				r, g, b, a := s[4*i], s[4*i+1], s[4*i+2], s[4*i+3]
				if a != 0xff {
					r, g, b = premul(r, a), premul(g, a), premul(b, a)
				}
				dst[3*i], dst[3*i+1], dst[3*i+2] = r, g, b
			}
		}
	case *image.Gray:
		return func(y int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range n {
				v := s[i]
				dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
			}
		}
	}
	return func(y int, dst []uint8) {
		for i := range n {
			r, g, b, _ := img.At(x0+i, y).RGBA()
			dst[3*i], dst[3*i+1], dst[3*i+2] = uint8(r>>8), uint8(g>>8), uint8(b>>8)
		}
	}
}

// premul is color.NRGBA.RGBA's premultiplication, reduced to 8 bits.
func premul(v, a uint8) uint8 {
	x := uint32(v)
	x |= x << 8
	x *= uint32(a)
	x /= 0xff
	return uint8(x >> 8)
}
