//go:build !amd64 || purego

package num

func init() { impl = genericKernels }

// kernelSets returns every implementation this CPU can run, the portable
// one first.
func kernelSets() []*kernelSet { return []*kernelSet{&genericKernels} }
