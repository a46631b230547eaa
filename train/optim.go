package train

import (
	"math"

	"galaxy/model/cnn"
)

// The epoch trainer's optimisers (SGD with momentum, Adam, AdamW) and its
// learning-rate schedule.

// optimizer updates parameters from their gradients.
type optimizer struct {
	cfg   EpochConfig
	ps    []*cnn.Param[float32]
	scale []float64 // of the learning rate, per parameter (EpochConfig.LRScale)
	m, v  [][]float32
	t     int
}

// newOptimizer returns the optimiser of the trainable parameters of all
// (those with gradients and a learning-rate factor above 0).
func newOptimizer(cfg EpochConfig, all []*cnn.Param[float32]) *optimizer {
	o := &optimizer{cfg: cfg}
	for _, p := range all {
		s := 1.0
		if cfg.LRScale != nil {
			s = cfg.LRScale(p.Name)
		}
		if p.G != nil && s > 0 {
			o.ps = append(o.ps, p)
			o.scale = append(o.scale, s)
			o.m = append(o.m, make([]float32, len(p.W)))
			o.v = append(o.v, make([]float32, len(p.W)))
		}
	}
	return o
}

func (o *optimizer) step(peak float64) {
	o.t++
	c := o.cfg
	b1, b2, eps := 0.9, 0.999, 1e-8
	bc1 := 1 - math.Pow(b1, float64(o.t))
	bc2 := 1 - math.Pow(b2, float64(o.t))
	for j, p := range o.ps {
		lr := peak * o.scale[j]
		wd := 0.0
		if p.Decay {
			wd = c.WeightDecay
		}
		m, v := o.m[j], o.v[j]
		switch c.Optimizer {
		case "sgd":
			mu, l, d := float32(c.Momentum), float32(lr), float32(wd)
			for i, g := range p.G {
				g += d * p.W[i]
				m[i] = mu*m[i] + g
				p.W[i] -= l * m[i]
			}
		default:
			decoupled := c.Optimizer == "adamw"
			l2 := float32(wd)
			if decoupled {
				l2 = 0
			}
			shrink := float32(1 - lr*wd)
			a := float32(lr / bc1)
			s2 := float32(1 / math.Sqrt(bc2))
			for i, g := range p.G {
				g += l2 * p.W[i]
				m[i] = float32(b1)*m[i] + float32(1-b1)*g
				v[i] = float32(b2)*v[i] + float32(1-b2)*g*g
				if decoupled {
					p.W[i] *= shrink
				}
				p.W[i] -= a * m[i] / (float32(math.Sqrt(float64(v[i])))*s2 + float32(eps))
			}
		}
	}
}

// Schedule returns the learning rate at step (0-based) of total steps:
// linear warm-up over warm steps, then cosine decay from peak to 0.
func Schedule(peak float64, step, warm, total int) float64 {
	if step < warm {
		return peak * float64(step+1) / float64(warm)
	}
	if total <= warm {
		return peak
	}
	return peak * 0.5 * (1 + math.Cos(math.Pi*float64(step-warm)/float64(total-warm)))
}
