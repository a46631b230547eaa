package model

import (
	"strconv"
)

// The model file's Info keys a training run writes (package train), read
// back by the model's Card and by train to find a model's data again.
const (
	InfoData           = "data"                   // the data file it was trained on
	InfoSeed           = "seed"                   // the run's random seed
	InfoSplitSeed      = "split_seed"             // the train/test split's seed
	InfoTestFrac       = "test_frac"              // and its test fraction
	InfoEpochs         = "epochs"                 // epochs run (epoch-trained networks)
	InfoSteps          = "steps"                  // optimisation steps run
	InfoTestAccuracy   = "test_accuracy"          // accuracy on the test split, as it classifies
	InfoTestBalanced   = "test_balanced_accuracy" // balanced accuracy on the test split
	InfoTestN          = "test_n"                 // galaxies in the test split
	InfoTrainN         = "train_n"                // galaxies it was trained on (validation part included)
	InfoTrained        = "trained"                // the day it was trained, YYYY-MM-DD
	InfoInit           = "init"                   // the model its trunk started from (fine-tuning)
	InfoLogitAdjustTau = "logit_adjust_tau"       // the logit adjustment applied (0: none)
)

// Card describes a model for the people who use it: what it is, what it was
// trained on and how well it did on galaxies it never saw. Fields the model
// file does not record are zero (and omitted from JSON).
type Card struct {
	Arch    string   `json:"arch"`
	Scheme  string   `json:"scheme"`
	Classes []string `json:"classes"`
	Input   string   `json:"input"` // the image the network takes, e.g. "69x69 pixels, channels all (3)"
	Weights int      `json:"weights"`

	Data         string   `json:"training_data,omitempty"`
	TrainN       int      `json:"train_n,omitempty"`
	Init         string   `json:"fine_tuned_from,omitempty"`
	Seed         string   `json:"seed,omitempty"`
	Epochs       int      `json:"epochs,omitempty"`
	Steps        int      `json:"steps,omitempty"`
	TestN        int      `json:"test_n,omitempty"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	TestBalanced *float64 `json:"test_balanced_accuracy,omitempty"`
	Temperature  float64  `json:"temperature,omitempty"` // the calibration's (absent: not calibrated)
	Novelty      bool     `json:"novelty"`               // whether it warns of inputs unlike its galaxies
	Trained      string   `json:"trained,omitempty"`     // YYYY-MM-DD
}

// Card returns the model's card, read from its description and Info.
func (m *Model) Card() Card {
	in, info := m.Meta.Input, m.Meta.Info
	c := Card{Arch: m.Meta.Arch, Scheme: m.Meta.Scheme, Classes: m.Meta.Classes,
		Input: strconv.Itoa(in.Height) + "x" + strconv.Itoa(in.Width) + " pixels, channels " + in.ChannelSpec + " (" + strconv.Itoa(len(in.Channels)) + ")",
		Data:  info[InfoData], Init: info[InfoInit], Seed: info[InfoSeed], Trained: info[InfoTrained],
		Novelty: m.Novelty != nil}
	for _, t := range m.Net.Tensors() {
		c.Weights += len(t.Data)
	}
	c.TrainN, _ = strconv.Atoi(info[InfoTrainN])
	c.TestN, _ = strconv.Atoi(info[InfoTestN])
	c.Epochs, _ = strconv.Atoi(info[InfoEpochs])
	c.Steps, _ = strconv.Atoi(info[InfoSteps])
	if v, err := strconv.ParseFloat(info[InfoTestAccuracy], 64); err == nil {
		c.TestAccuracy = &v
	}
	if v, err := strconv.ParseFloat(info[InfoTestBalanced], 64); err == nil {
		c.TestBalanced = &v
	}
	if t := m.Temperature(); t != 1 {
		c.Temperature = t
	}
	return c
}
