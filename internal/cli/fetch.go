package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"galaxy/data/fetch"
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
			f, err := newFetcher(dir, mirror, env.Stderr)
			if err != nil {
				return err
			}
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
				p, err := f.Fetch(ctx, s)
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

// newFetcher returns a fetcher of the cache dir ("": the default) that
// logs to log with a progress meter.
func newFetcher(dir, mirror string, log io.Writer) (*fetch.Fetcher, error) {
	if dir == "" {
		var err error
		if dir, err = fetch.DefaultDir(); err != nil {
			return nil, err
		}
	}
	f := &fetch.Fetcher{Dir: dir, BaseURL: mirror, Log: log}
	var m *meter
	f.Progress = func(done, total int64, final bool) {
		if m == nil {
			m = newMeter(log, "fetch", "bytes", total, false)
		}
		if m.set(done); final {
			m.finish()
			m = nil
		}
	}
	return f, nil
}

// dataNames lists the names --data understands besides file paths.
func dataNames() string {
	return synth.BuiltinName + ", " + strings.Join(fetch.Names(), ", ")
}
