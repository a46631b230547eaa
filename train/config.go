package train

import (
	"fmt"
	"math"
	"slices"
	"time"

	"galaxy/data/load"
	"galaxy/model"
)

// Config is everything a training run is told: the data, the architecture
// and its settings, and the recipe. A checkpoint records it whole, so a
// resumed run continues with the settings it started with. DefaultConfig
// gives an architecture's defaults; fields a trainer does not read are
// ignored (Steps by the epoch trainer, Epochs by the step trainer).
type Config struct {
	Data load.Source `json:"data"` // the data file and how it is read and prepared

	Arch string     `json:"arch"` // a registered architecture (model.Lookup)
	Spec model.Spec `json:"spec"` // its settings (the shape fields are set from the data)

	Seed            uint64  `json:"seed"`             // initialisation, the draw of images, augmentation
	LR              float64 `json:"lr"`               // learning rate (the peak of the schedule, for epochs)
	Batch           int     `json:"batch"`            // images per step
	CheckpointEvery int     `json:"checkpoint_every"` // steps between checkpoints (epochs: any > 0 checkpoints every epoch); 0: none

	// The step trainer (seed-mlp): plain SGD, the assignment's recipe.
	Steps     int    `json:"steps"`      // SGD steps
	EvalEvery int    `json:"eval_every"` // test the model every this many steps
	BatchMode string `json:"batch_mode"` // "vector" (the batch as matrix products) or "loop" (one image at a time)

	// The epoch trainer (cnn).
	Epochs         int     `json:"epochs"`
	Optimizer      string  `json:"optimizer"`           // sgd (with Momentum), adam or adamw
	Momentum       float64 `json:"momentum"`            // sgd
	WeightDecay    float64 `json:"weight_decay"`        // L2 for sgd and adam, decoupled for adamw; conv and dense weights only
	Warmup         float64 `json:"warmup"`              // epochs of linear warm-up before the cosine decay
	ValFrac        float64 `json:"val_frac"`            // fraction of the training split held out as the validation part (logit adjustment, temperature, the best epoch unless KeepLast; 0: none)
	KeepLast       bool    `json:"keep_last,omitempty"` // keep the last epoch even with a validation part (it then chooses the logit adjustment and temperature only)
	Patience       int     `json:"patience"`            // stop after this many epochs without a better validation accuracy (0: never)
	Augment        bool    `json:"augment"`             // random symmetry of the square and shift per image
	Shift          int     `json:"shift"`               // largest augmentation shift in pixels
	Rotate         bool    `json:"rotate"`              // rotation by any angle instead of quarter turns
	Zoom           float64 `json:"zoom"`                // with Rotate: scale drawn log-uniformly from [1/Zoom, Zoom]
	Balance        string  `json:"balance"`             // none, weights (1/count), sqrt (1/sqrt(count)) or sample (class-balanced sampling)
	LabelSmoothing float64 `json:"label_smoothing"`
	Loss           string  `json:"loss"`         // ce (softmax cross-entropy) or bce (summed binary cross-entropy)
	LogitAdjust    string  `json:"logit_adjust"` // after training: auto (chosen on the validation part), none, or a tau from 0 to 4
	Calibrate      bool    `json:"calibrate"`    // after that: temperature scaling fitted on the validation part
	Novelty        bool    `json:"novelty"`      // at the end: fit the novelty statistics (model.Novelty) to the training part

	// Fine-tuning (finetune.go).
	Init    string  `json:"init,omitempty"`    // start from this model's trunk: a model file or builtin.Name ("": fresh weights)
	Freeze  int     `json:"freeze,omitempty"`  // the first Freeze blocks of the trunk are not trained (epochs)
	TrunkLR float64 `json:"trunk_lr"`          // the rest of the trunk learns at TrunkLR times LR (epochs; the head at LR)
	TrainN  int     `json:"train_n,omitempty"` // train on about this many images of the training split, stratified, drawn with Seed (0: all)
	Probe   bool    `json:"probe,omitempty"`   // fit only the output layer, exactly, on the trunk's representations (probe.go; epochs)

	// Date is the day the model file records as its training date
	// (YYYY-MM-DD; "": none recorded). It is an input, not the clock, so
	// that a run stays reproducible bit for bit.
	Date string `json:"date,omitempty"`
}

// DefaultConfig returns the defaults of architecture arch: its registered
// settings and recipe (model.Defaults), and the trainers' own defaults.
func DefaultConfig(arch string) (Config, error) {
	a, err := model.Lookup(arch)
	if err != nil {
		return Config{}, err
	}
	d := a.Defaults
	c := Config{
		Data: load.DefaultSource(), Arch: arch, Spec: d.Spec, Seed: 1, LR: 0.001, Batch: d.Batch, CheckpointEvery: 10000,
		Steps: d.Steps, EvalEvery: 2000, BatchMode: "vector",
		Epochs: d.Epochs, Optimizer: "adam", Momentum: 0.9, Warmup: d.Warmup, ValFrac: 0.1, KeepLast: d.KeepLast, Augment: true, Shift: d.Shift, Zoom: 1,
		Balance: "none", LabelSmoothing: d.LabelSmoothing, Loss: "ce", LogitAdjust: d.LogitAdjust, Calibrate: d.Calibrate,
		TrunkLR: 1, Novelty: true,
	}
	c.Data.Prepare.Channels = d.Channels
	return c, nil
}

// ByEpochs reports whether architecture arch is trained by epochs (its
// defaults name epochs) rather than by steps.
func ByEpochs(arch string) bool {
	a, err := model.Lookup(arch)
	return err == nil && a.Defaults.Epochs > 0
}

// Check reports settings that cannot train.
func (c Config) Check() error {
	if _, err := model.Lookup(c.Arch); err != nil {
		return err
	}
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0) || c.LR > 10:
		return fmt.Errorf("learning rate %v: must be in (0, 10]", c.LR)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint interval %d: must be 0 (none) or more", c.CheckpointEvery)
	}
	if c.Date != "" {
		if _, err := time.Parse(time.DateOnly, c.Date); err != nil {
			return fmt.Errorf("training date %q: want YYYY-MM-DD", c.Date)
		}
	}
	if ByEpochs(c.Arch) {
		return c.checkEpochs()
	}
	switch {
	case c.Steps < 1:
		return fmt.Errorf("%d steps: need at least 1", c.Steps)
	case c.EvalEvery < 1:
		return fmt.Errorf("evaluation every %d steps: must be at least 1", c.EvalEvery)
	case c.Batch < 1:
		return fmt.Errorf("batch of %d: need at least 1 image per step", c.Batch)
	case c.Spec.Hidden < 1:
		return fmt.Errorf("%d hidden units: need at least 1", c.Spec.Hidden)
	case c.BatchMode != "vector" && c.BatchMode != "loop":
		return fmt.Errorf("batch mode %q: known: vector, loop", c.BatchMode)
	}
	return nil
}

func (c Config) checkEpochs() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("%d epochs: need at least 1", c.Epochs)
	case c.Batch < 2:
		return fmt.Errorf("batch of %d: batch normalisation needs at least 2 images per step", c.Batch)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum %v: must be in [0, 1)", c.Momentum)
	case !(c.WeightDecay >= 0 && c.WeightDecay < 1):
		return fmt.Errorf("weight decay %v: must be in [0, 1)", c.WeightDecay)
	case !(c.Warmup >= 0 && c.Warmup <= float64(c.Epochs)):
		return fmt.Errorf("warm-up of %v epochs: must be between 0 and the %d epochs", c.Warmup, c.Epochs)
	case !(c.ValFrac >= 0 && c.ValFrac < 0.5):
		return fmt.Errorf("validation fraction %v: must be in [0, 0.5)", c.ValFrac)
	case c.Patience < 0:
		return fmt.Errorf("patience %d: must be 0 (never stop early) or more", c.Patience)
	case c.Patience > 0 && c.KeepLast:
		return fmt.Errorf("patience %d with the last epoch kept: early stopping waits for a better validation epoch, which is not kept", c.Patience)
	case c.Shift < 0 || c.Shift > 16:
		return fmt.Errorf("shift %d: must be 0 to 16 pixels", c.Shift)
	case !(c.Zoom >= 1 && c.Zoom <= 2):
		return fmt.Errorf("zoom %v: must be from 1 (none) to 2", c.Zoom)
	case c.Zoom > 1 && !c.Rotate:
		return fmt.Errorf("zoom %v needs rotation: scaling is part of the rotating augmentation", c.Zoom)
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return fmt.Errorf("label smoothing %v: must be in [0, 1)", c.LabelSmoothing)
	}
	for _, o := range []struct {
		what, v string
		known   []string
	}{{"optimizer", c.Optimizer, []string{"sgd", "adam", "adamw"}}, {"class balance", c.Balance, []string{"none", "weights", "sqrt", "sample"}},
		{"loss", c.Loss, []string{"ce", "bce"}}} {
		if !slices.Contains(o.known, o.v) {
			return fmt.Errorf("%s %q: known: %v", o.what, o.v, o.known)
		}
	}
	_, err := c.logitTau()
	return err
}
