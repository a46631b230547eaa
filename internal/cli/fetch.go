package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/data/fetch"
	"galaxy/data/load"
	"galaxy/data/synth"
)

func newFetchCmd(env Env) *cobra.Command {
	var (
		dir    string
		force  bool
		mirror string
	)
	cmd := &cobra.Command{
		Use:   "fetch NAME... [--dir DIR]",
		Short: "Download a public galaxy data set into the cache (galaxy10, galaxy10-decals, course)",
		Long: `fetch downloads data sets from where they are published into the cache
($XDG_CACHE_HOME/galaxy, else ~/.cache/galaxy; --dir to choose):

` + fetch.Describe() + `

A download goes to FILE.part and resumes (HTTP range) when run again after an
interruption; its checksum is verified before it takes its final name. Any
command's --data galaxy10 (galaxy10-decals, course) reads the cached file,
fetching it first when it is missing. Without NAME, fetch lists the data sets and
what the cache holds.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				d, err := fetch.DefaultDir()
				if err != nil {
					return err
				}
				dir = d
			}
			f := &fetch.Fetcher{Dir: dir, BaseURL: mirror, Log: env.Stderr}
			if len(args) == 0 {
				for _, s := range fetch.Sources() {
					state := "not fetched"
					if f.Have(s) {
						state = f.Path(s)
					}
					fmt.Fprintf(env.Stdout, "%-16s %s\n%-16s %s\n", s.Name, s.About, "", state)
				}
				return nil
			}
			var srcs []fetch.Source
			for _, a := range args {
				s, ok := fetch.Lookup(a)
				if !ok {
					return fmt.Errorf("fetch %s: unknown data set (known: %s)", a, strings.Join(fetch.Names(), ", "))
				}
				srcs = append(srcs, s)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			for _, s := range srcs {
				if !force && f.Have(s) {
					fmt.Fprintf(env.Stdout, "%s: already in the cache: %s\n", s.Name, f.Path(s))
					continue
				}
				p, err := download(ctx, f, s, env.Stderr)
				if err != nil {
					return err
				}
				st, _ := os.Stat(p)
				fmt.Fprintf(env.Stdout, "%s: %s (%.1f MB)\n", s.Name, p, float64(st.Size())/1e6)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "cache folder (default $XDG_CACHE_HOME/galaxy or ~/.cache/galaxy)")
	fl.BoolVar(&force, "force", false, "download again even when the file is in the cache")
	fl.StringVar(&mirror, "mirror", "", "fetch from a mirror: scheme://host[/path] that replaces the canonical host, same paths")
	return cmd
}

// download fetches one source with a progress bar (terminal) or plain lines.
func download(ctx context.Context, f *fetch.Fetcher, s fetch.Source, log io.Writer) (string, error) {
	addr, err := f.URL(s)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", s.Name, err)
	}
	fmt.Fprintf(log, "fetch %s: downloading %s into %s\n", s.Name, addr, f.Dir)
	prog, done := byteProgress(log, "fetch "+s.Name)
	f.Progress = prog
	defer func() { f.Progress = nil }()
	p, err := f.Fetch(ctx, s)
	done()
	return p, err
}

// byteProgress returns a progress callback that draws a bar on a terminal
// and otherwise prints a line at every tenth of the file (every 50 MB when
// the size is unknown).
func byteProgress(w io.Writer, name string) (fetch.Progress, func()) {
	if isTerminal(w) {
		var bar *progressbar.ProgressBar
		return func(done, total int64, final bool) {
				if bar == nil {
					limit := total
					if limit <= 0 {
						limit = -1 // unknown: a spinner
					}
					bar = progressbar.NewOptions64(limit, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
						progressbar.OptionSetDescription(name), progressbar.OptionThrottle(100*time.Millisecond),
						progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(true))
				}
				bar.Set64(done)
			}, func() {
				if bar != nil {
					bar.Finish()
					fmt.Fprintln(w)
				}
			}
	}
	next := int64(-1)
	return func(done, total int64, final bool) {
		step := total / 10
		if total <= 0 {
			step = 50e6
		}
		if next < 0 {
			next = done - done%max(step, 1) + step
			if done > 0 {
				fmt.Fprintf(w, "%s: resuming at %.1f MB\n", name, float64(done)/1e6)
			}
		}
		if done >= next || (final && done == total) {
			if total > 0 {
				fmt.Fprintf(w, "%s: %.1f of %.1f MB (%d%%)\n", name, float64(done)/1e6, float64(total)/1e6, done*100/total)
			} else {
				fmt.Fprintf(w, "%s: %.1f MB\n", name, float64(done)/1e6)
			}
			for next <= done {
				next += max(step, 1)
			}
		}
	}, func() {}
}

// dataNames lists the names --data understands besides file paths.
func dataNames() string {
	return synth.BuiltinName + ", " + strings.Join(fetch.Names(), ", ")
}

// read reads what --data names: the built-in synthetic set ("synth"), a
// published data set by name (the cached file, fetched first when missing),
// or a file.
func (f *dataFlags) read(log io.Writer) (*data.Raw, error) {
	opt := f.Read
	if f.Path == synth.BuiltinName {
		return synth.Builtin()
	}
	src, ok := fetch.Lookup(f.Path)
	if !ok || f.Path != src.Name {
		return load.File(f.Path, opt)
	}
	dir, err := fetch.DefaultDir()
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", f.Path, err)
	}
	fe := &fetch.Fetcher{Dir: dir, Log: log}
	path := fe.Path(src)
	if !fe.Have(src) {
		// Ctrl-C stops the download (resumable); the command's own
		// handler may be installed already.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if path, err = download(ctx, fe, src, log); err != nil {
			return nil, err
		}
	}
	return load.File(path, opt)
}

// schemeFor returns the scheme to prepare raw with: the flag's, else course5
// for the built-in synthetic set (its labels are Galaxy10 codes of the five
// course classes), else the file's default.
func (f *dataFlags) schemeFor(raw *data.Raw) string {
	if f.Prepare.Scheme == "" && raw.Path == synth.BuiltinName {
		return synth.DefaultScheme
	}
	return f.Prepare.Scheme
}
