//go:build race

package cli

// The race detector makes the built-in model's TTA scoring ~10x slower;
// TestPredictBuiltin skips under it (TestPredictMatchesEvalOnRealCutouts
// runs predict's concurrent path with a small model).
func init() { raceEnabled = true }
