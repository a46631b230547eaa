package train

import (
	"galaxy/data"
	"galaxy/model"
)

// noveltyImages is the most training images fitNovelty embeds (a
// stratified sample of them beyond): K means and a 128 x 128 covariance are
// well measured from a few thousand, and embedding with TTA costs 8 passes.
const noveltyImages = 5000

// fitNovelty fits the model's novelty statistics (model.FitNovelty) to the
// representations of the images idx of the training split tr (nil: all of
// them; at most noveltyImages of them, stratified), as the network
// classifies (with TTA when it has it), with the warning threshold set on
// the validation part val (nil: on those training images). A network that
// gives no representations, or a run told not to, gets none.
func (r *run) fitNovelty(net model.Network, tr *data.Split, idx []int, val *data.Split) error {
	e, ok := net.(model.Embedder)
	if !r.cfg.Novelty || !ok || tr.Len() < 2 {
		return nil
	}
	tr = subset(tr, r.noveltySample(tr, idx), "train")
	var ve []float32
	if val != nil && val.Len() > 0 {
		ve = model.BatchEmbed(e, val)
	}
	return r.setNovelty(model.BatchEmbed(e, tr), tr.Labels, e.EmbedDim(), ve)
}

// noveltySample returns the images of tr among idx (nil: all of them)
// whose representations the novelty statistics are fitted to: at most
// noveltyImages, stratified, drawn with the run's seed.
func (r *run) noveltySample(tr *data.Split, idx []int) []int {
	if idx == nil {
		idx = make([]int, tr.Len())
		for i := range idx {
			idx[i] = i
		}
	}
	return limitIndex(tr, idx, r.d.Set.Scheme.K(), noveltyImages, r.cfg.Seed)
}

// setNovelty fits the model's novelty statistics to the representations
// emb (rows of d values) of training images of classes labels, with the
// warning threshold set on the validation representations ve (nil: on
// those training images).
func (r *run) setNovelty(emb []float32, labels []int, d int, ve []float32) error {
	nv, err := model.FitNovelty(emb, labels, r.d.Set.Scheme.K(), d, ve)
	if err != nil {
		return err
	}
	r.m.SetNovelty(nv)
	part := "the training part"
	if ve != nil {
		part = "the validation part"
	}
	r.obs.logf("novelty: class means and covariance of %d training representations; warning above %.2f (%.0f%% of %s below)\n", len(labels), nv.Threshold, 100*model.NoveltyQuantile, part)
	return nil
}
