//go:build !amd64 || purego

package num

func init() { impl = genericKernels }

// kernelSets returns every implementation this CPU can run, the portable
// one first.
func kernelSets() []*kernelSet { return []*kernelSet{&genericKernels} }

// gatherTapsAVX512 is never called here (no kernel set has gatherTapsAsm).
func gatherTapsAVX512(dst []float32, stride int, src []float32, step int, tapOff []int, tapMask []uint32, t0, base, rows, width int) {
	panic("num: no AVX-512 kernels in this build")
}
