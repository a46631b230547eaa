package render

import (
	"fmt"
	"image"
	"image/draw"

	"galaxy/data"
	"galaxy/data/scheme"
)

// Montage draws the first per galaxies of each class of a set in true
// colour (each pixel scale x scale), one row per class under a title with
// the class code and name. Classes without galaxies are left out.
func Montage(raw *data.Raw, per, scale int) (*image.RGBA, error) {
	if per < 1 || per > 100 {
		return nil, fmt.Errorf("montage: %d galaxies per class: want 1 to 100", per)
	}
	if raw.C != 3 {
		return nil, fmt.Errorf("montage: %d-channel images: want 3 (i, r, g)", raw.C)
	}
	if scale < 1 || scale > 16 {
		return nil, fmt.Errorf("montage: scale %d: want 1 to 16", scale)
	}
	g10, _ := scheme.Get("galaxy10")
	byClass := map[int][]int{}
	maxCode := -1
	for i, c := range raw.Codes {
		if len(byClass[c]) < per {
			byClass[c] = append(byClass[c], i)
		}
		maxCode = max(maxCode, c)
	}
	const gap = 4
	side := raw.W * scale
	var rows []Tile
	for c := 0; c <= maxCode; c++ {
		idx := byClass[c]
		if len(idx) == 0 {
			continue
		}
		row := image.NewRGBA(image.Rect(0, 0, per*side+(per-1)*gap, raw.H*scale))
		draw.Draw(row, row.Bounds(), image.White, image.Point{}, draw.Src)
		for j, i := range idx {
			img, err := Galaxy(raw.Image(i), raw.H, raw.W, raw.C, scale)
			if err != nil {
				return nil, err
			}
			at := image.Pt(j*(side+gap), 0)
			draw.Draw(row, image.Rectangle{Min: at, Max: at.Add(img.Bounds().Size())}, img, image.Point{}, draw.Src)
		}
		title := fmt.Sprintf("class %d", c)
		if raw.Space == "galaxy10" && c < len(g10.Classes) {
			title = fmt.Sprintf("%d  %s", c, g10.Classes[c])
		}
		rows = append(rows, Tile{Img: row, Title: title})
	}
	return Gallery(rows, 1), nil
}
