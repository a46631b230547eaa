package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"galaxy/data"
	"galaxy/internal/atomicfile"
	"galaxy/model"
	"galaxy/model/modelfile"
)

// # Checkpoint files
//
// A checkpoint is a saved-model file (package modelfile: magic, version,
// JSON header, float32 tensors, CRC-32C of everything, written atomically:
// temporary file, fsync, rename, fsync of the folder). Its weights are the
// network's, flushed; so galaxy eval/predict/serve load a checkpoint like
// any model. What a run needs besides the weights to continue exactly is
// the JSON of State under the header's Info key "checkpoint", with
// "checkpoint_version" = CheckpointVersion beside it. Floats that may be
// NaN or infinite (losses) are stored as their IEEE-754 bits.

// CheckpointVersion is the version of the State layout this package writes and reads.
const CheckpointVersion = "2"

// State is everything besides the weights that a run needs to continue
// exactly where it stopped.
type State struct {
	Step    int     // steps taken
	Curve   []Point // the learning curve so far
	LossSum float64 // running sum of the training loss since the last curve point
	LossN   int     // and how many steps it holds
	RNG     []byte  // the *rand.PCG's MarshalBinary
	Done    bool    // Step is the run's last step

	Config *Config // the run's settings, for resume (set by the caller)
	Data   string  // DataSum of the training and test data (set by the caller)

	Epochs *EpochState // an epoch-based (cnn) run's state; nil for the seed network
}

// Checkpointing makes a run resumable (see SGDResumable).
type Checkpointing struct {
	From  *State             // continue from this state (nil: from step 0)
	Every int                // save every this many steps (0: only when interrupted and at the end)
	Save  func(*State) error // receives the state; the network's weights are current when it is called
}

// NewPCG returns the random source NewRand wraps.
func NewPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, 0x5eed) }

// DataSum returns the SHA-256 (hex) of the prepared splits a run trains and
// tests on: sizes, pixels and labels, so that a data file that changed (or
// prepares differently) under a resumed run is detected.
func DataSum(splits ...*data.Split) string {
	h := sha256.New()
	var b [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	for _, s := range splits {
		put(s.Len())
		put(s.H)
		put(s.W)
		put(s.C)
		h.Write(s.Pixels)
		for _, y := range s.Labels {
			put(y)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

type statePoint struct {
	Step      int    `json:"step"`
	TrainLoss uint64 `json:"train_loss_bits"`
	TestLoss  uint64 `json:"test_loss_bits"`
	TestAcc   uint64 `json:"test_accuracy_bits"`
}

type stateJSON struct {
	Step    int             `json:"step"`
	Curve   []statePoint    `json:"curve"`
	LossSum uint64          `json:"loss_sum_bits"`
	LossN   int             `json:"loss_n"`
	RNG     []byte          `json:"rng"`
	Done    bool            `json:"done"`
	Config  *Config         `json:"config"`
	Data    string          `json:"data_sha256"`
	Epochs  *epochStateJSON `json:"epochs,omitempty"`
}

func (s *State) marshal() (string, error) {
	j := stateJSON{Step: s.Step, LossSum: math.Float64bits(s.LossSum), LossN: s.LossN, RNG: s.RNG, Done: s.Done, Config: s.Config, Data: s.Data}
	if s.Epochs != nil {
		ej := s.Epochs.toJSON()
		j.Epochs = &ej
	}
	for _, p := range s.Curve {
		j.Curve = append(j.Curve, statePoint{p.Step, math.Float64bits(p.TrainLoss), math.Float64bits(p.TestLoss), math.Float64bits(p.TestAccuracy)})
	}
	b, err := json.Marshal(j)
	return string(b), err
}

func unmarshalState(s string) (*State, error) {
	var j stateJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, err
	}
	st := &State{Step: j.Step, LossSum: math.Float64frombits(j.LossSum), LossN: j.LossN, RNG: j.RNG, Done: j.Done, Config: j.Config, Data: j.Data}
	if j.Epochs != nil {
		st.Epochs = j.Epochs.state()
	}
	for _, p := range j.Curve {
		st.Curve = append(st.Curve, Point{p.Step, math.Float64frombits(p.TrainLoss), math.Float64frombits(p.TestLoss), math.Float64frombits(p.TestAcc)})
	}
	if st.Step < 0 || st.LossN < 0 || len(st.RNG) == 0 {
		return nil, fmt.Errorf("step %d, %d losses, %d bytes of random state: not a usable state", st.Step, st.LossN, len(st.RNG))
	}
	return st, nil
}

// writeHook, when set (by tests), wraps the writer a checkpoint is encoded
// into: a way to inject write errors such as a full disk.
var writeHook func(io.Writer) io.Writer

// WriteCheckpoint saves m with the state st to path, atomically: path keeps
// its previous content unless the whole new checkpoint reached the disk. An
// epoch-trained network's state carries its EpochState.
func WriteCheckpoint(path string, m *model.Model, st *State) error {
	tensors := m.Net.Tensors()
	if st.Epochs != nil { // the optimiser's and best epoch's tensors
		net, ok := m.Net.(Layered)
		if !ok {
			return fmt.Errorf("checkpoint: epoch state for a %s network, which the epoch trainer does not train", m.Meta.Arch)
		}
		extra, err := st.Epochs.epochTensors(net)
		if err != nil {
			return err
		}
		tensors = append(tensors, extra...)
	}
	js, err := st.marshal()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	meta := m.Meta
	meta.Info = map[string]string{}
	for k, v := range m.Meta.Info {
		meta.Info[k] = v
	}
	meta.Info["checkpoint"] = js
	meta.Info["checkpoint_version"] = CheckpointVersion
	return atomicfile.Write(path, func(w io.Writer) error {
		if writeHook != nil {
			w = writeHook(w)
		}
		return modelfile.Encode(w, meta, tensors)
	})
}

// ErrNoCheckpoint says a folder holds no checkpoint: its run stopped before
// the first one (it is incomplete and must be started again).
var ErrNoCheckpoint = errors.New("no checkpoint")

// ReadCheckpoint loads a checkpoint: the model (weights and description,
// with the checkpoint keys removed from its Info) and the state.
func ReadCheckpoint(path string) (*model.Model, *State, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: %w", path, ErrNoCheckpoint)
	}
	meta, ts, err := modelfile.Read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	m, err := model.FromTensors(path, meta, ts)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	if v := m.Meta.Info["checkpoint_version"]; v != CheckpointVersion {
		return nil, nil, fmt.Errorf("checkpoint %s: version %q; this galaxy reads version %s", path, v, CheckpointVersion)
	}
	st, err := unmarshalState(m.Meta.Info["checkpoint"])
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if net, ok := m.Net.(Layered); ok {
		if st.Epochs == nil {
			return nil, nil, fmt.Errorf("checkpoint %s: a %s checkpoint without its epoch state", path, m.Meta.Arch)
		}
		if err := st.Epochs.loadEpochTensors(net, ts); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
	}
	delete(m.Meta.Info, "checkpoint")
	delete(m.Meta.Info, "checkpoint_version")
	return m, st, nil
}

// RestorePCG returns the random source recorded in st.
func (s *State) RestorePCG() (*rand.PCG, error) {
	src := rand.NewPCG(0, 0)
	if err := src.UnmarshalBinary(s.RNG); err != nil {
		return nil, fmt.Errorf("checkpoint random state: %w", err)
	}
	return src, nil
}

// CheckpointFile is the name of a run's checkpoint in its folder.
const CheckpointFile = "checkpoint"

// Checkpoint is a run's last checkpoint: the model as it stood and the
// state to continue from.
type Checkpoint struct {
	Model *model.Model
	State *State
}

// OpenCheckpoint reads the checkpoint of the run folder dir. Its
// State.Config holds the settings the run was started with.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	m, st, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, ErrNoCheckpoint) {
		return nil, fmt.Errorf("resume %s: the run is incomplete and has no checkpoint to resume from (it stopped before its first one); start it again", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", dir, err)
	}
	if st.Config == nil {
		return nil, fmt.Errorf("resume %s: the checkpoint records no run settings", dir)
	}
	return &Checkpoint{Model: m, State: st}, nil
}
