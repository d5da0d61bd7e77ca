package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Plot draws objects Ready over time (blue) against the floor: the most objects that can be
// Ready at each instant at the floor's pace (orange, dashed), and 1.25 × floor (grey) as the
// target line. Plain image/png with a bitmap font: a chart this simple needs no plotting
// library.
func Plot(w io.Writer, ready []time.Duration, objects int, bound time.Duration, title string) error {
	const width, height = 900, 520
	const left, right, top, bottom = 80, 30, 40, 60
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	xMax := 1.3 * bound.Seconds()
	if n := len(ready); n > 0 {
		xMax = math.Max(xMax, 1.05*ready[n-1].Seconds())
	}
	if xMax <= 0 {
		xMax = 1
	}
	yMax := float64(max(objects, 1))
	px := func(s float64) int { return left + int(s/xMax*float64(width-left-right)) }
	py := func(n float64) int { return height - bottom - int(n/yMax*float64(height-top-bottom)) }

	black := color.RGBA{0, 0, 0, 255}
	grey := color.RGBA{150, 150, 150, 255}
	light := color.RGBA{230, 230, 230, 255}
	blue := color.RGBA{31, 119, 180, 255}
	orange := color.RGBA{255, 127, 14, 255}

	// Grid and tick labels.
	xStep := niceStep(xMax / 8)
	for s := 0.0; s <= xMax; s += xStep {
		line(img, px(s), py(0), px(s), py(yMax), light, 0)
		text(img, px(s)-12, height-bottom+18, fmt.Sprintf("%gs", s), black)
	}
	yStep := niceStep(yMax / 6)
	for n := 0.0; n <= yMax; n += yStep {
		line(img, px(0), py(n), px(xMax), py(n), light, 0)
		text(img, 8, py(n)+4, fmt.Sprintf("%6.0f", n), black)
	}
	line(img, px(0), py(0), px(xMax), py(0), black, 0)
	line(img, px(0), py(0), px(0), py(yMax), black, 0)

	// The floor: Ready can grow no faster than objects/floor per second.
	if bound > 0 {
		line(img, px(0), py(0), px(bound.Seconds()), py(yMax), orange, 8)
		line(img, px(bound.Seconds()), py(yMax), px(xMax), py(yMax), orange, 8)
		t := 1.25 * bound.Seconds()
		line(img, px(t), py(0), px(t), py(yMax), grey, 4)
	}
	// Measured: a step for every object that became Ready.
	prevX, prevY := px(0), py(0)
	for i, d := range ready {
		x, y := px(d.Seconds()), py(float64(i+1))
		for t := 0; t < 2; t++ { // two pixels wide, to stand out from the grid
			line(img, prevX, prevY-t, x, prevY-t, blue, 0)
			line(img, x+t, prevY, x+t, y, blue, 0)
		}
		prevX, prevY = x, y
	}
	text(img, left, 20, title, black)
	text(img, width/2-40, height-15, "time since the first create (s)", black)
	legend := []struct {
		c    color.RGBA
		name string
	}{{blue, "objects Ready (measured)"}, {orange, "floor: Ready at the limit's pace"}, {grey, "1.25 x floor"}}
	for i, l := range legend {
		y := top + 20 + 18*i
		line(img, px(0)+15, y, px(0)+45, y, l.c, 0)
		text(img, px(0)+52, y+4, l.name, black)
	}
	return png.Encode(w, img)
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// line draws a straight line (Bresenham), dashed every dash pixels when dash > 0.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dash int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for i := 0; ; i++ {
		if dash == 0 || (i/dash)%2 == 0 {
			img.SetRGBA(x0, y0, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
