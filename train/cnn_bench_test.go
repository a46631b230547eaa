package train

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"galaxy/model/cnn"
)

// BenchmarkCNNRefTrain is one cnn-ref training step at batch 64 on 69- and
// 128-pixel images (what galaxy bench reports as
// cnn_ref_train_images_per_s and cnn_ref_train_images_per_s_128); b.N steps,
// reported as the median images/s of a step.
func BenchmarkCNNRefTrain(b *testing.B) { benchCNNRef(b, true, 64) }

// BenchmarkCNNRefInfer is cnn-ref inference of 256 images, at both sizes.
func BenchmarkCNNRefInfer(b *testing.B) { benchCNNRef(b, false, 256) }

func benchCNNRef(b *testing.B, train bool, batch int) {
	for _, size := range []int{69, 128} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			net, err := cnn.New(cnn.Spec{InC: 3, H: size, W: size, K: 4, Widths: cnn.Widths, Dropout: 0.3}, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			// The median of b.N single steps' rates, timed without the
			// set-up (random images, optimiser), as
			// bench/pytorch/cnnref.py reports PyTorch's.
			b.ReportMetric(Throughput(net, batch, 1, b.N, 1, train), "images/s")
		})
	}
}
