// Package archs links every architecture galaxy ships into a program, so
// that model.Load and model.Lookup know them: import it for its side
// effect. A new architecture adds its package here, one line.
package archs

import (
	_ "galaxy/model/cnn"  // cnn, cnn-ref
	_ "galaxy/model/seed" // seed-mlp
)
