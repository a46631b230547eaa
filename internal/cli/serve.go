package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/data/load"
	"galaxy/model"
	"galaxy/serve"
	"galaxy/similar"
)

func newServeCmd(env Env) *cobra.Command {
	var (
		mpath, addr, logFormat string
		catalog, index, imgDir string
		dataPath               string
		opt                    serve.Options
		grace                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve [--model M|builtin] [--addr 127.0.0.1:8080] [--catalog predictions.csv] [--index emb.npz] [--data FILE]",
		Short: "Classify images over HTTP, with a web page: POST /v1/classify, GET /v1/model, GET /",
		Long: `serve answers HTTP requests with a saved model (without --model, the built-in one):

  GET  /              a web page: classify dropped cutouts, browse a catalog, similar galaxies
  POST /v1/classify   one image (JPEG, PNG or FITS) as the body, or multipart/form-data
                      with several; returns JSON with the ranked classes and probabilities
  GET  /v1/model      classes, input, version and the model's card
  GET  /v1/catalog    with --catalog (galaxy predict's CSV output): a page of its rows,
                      filtered and sorted; /v1/catalog/{row} one row, .../thumb its image,
                      .../prepared as the model sees it, .../similar (with --index, galaxy
                      embed's output) its nearest galaxies. A catalog of a data file
                      (predict --data) or an index of one (embed --data) shows that
                      file's images: serve reads the file they name, or --data FILE
  GET  /healthz       {"status":"ok"}

Bodies over --max-body and images over --max-pixels (checked from the image header
before decoding) get 413, non-images 415, corrupt images 422, each with a JSON error.
Concurrent requests are scored together in batches (--batch, --batch-wait). Request
logs (log/slog, --log-format text or json) go to standard error. SIGINT or SIGTERM
stops it gracefully: requests in progress finish (within --grace).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(&mpath, env.Stderr)
			if err != nil {
				return err
			}
			var h slog.Handler
			switch logFormat {
			case "text":
				h = slog.NewTextHandler(env.Stderr, nil)
			case "json":
				h = slog.NewJSONHandler(env.Stderr, nil)
			default:
				return fmt.Errorf("--log-format %q: want text or json", logFormat)
			}
			opt.Logger = slog.New(h)
			opt.ModelName = mpath
			if catalog != "" {
				if opt.Catalog, err = serve.OpenCatalog(catalog, imgDir); err != nil {
					return fmt.Errorf("catalog: %w", err)
				}
			}
			if index != "" {
				if opt.Index, err = similar.Load(index); err != nil {
					return fmt.Errorf("index: %w", err)
				}
			}
			if opt.Data, err = serveData(cmd, m, dataPath, opt); err != nil {
				if dataPath != "" {
					return fmt.Errorf("data: %w", err)
				}
				opt.Data = nil
				opt.Logger.Warn("the catalog's or index's data file cannot be shown: their rows are shown without images", "err", err)
			}
			s, err := serve.New(m, opt)
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = s.ListenAndServe(ctx, addr, grace, func(a string) {
				opt.Logger.Info("serving", "addr", a, "page", "http://"+a+"/", "model", mpath, "scheme", m.Meta.Scheme, "classes", len(m.Meta.Classes),
					"catalog_rows", catalogRows(opt.Catalog), "index_rows", indexRows(opt.Index))
			})
			if err != nil {
				return err
			}
			opt.Logger.Info("stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&catalog, "catalog", "", "predictions to browse on the web page (galaxy predict's CSV output)")
	fl.StringVar(&imgDir, "images", "", "folder the catalog's relative file paths are in (the input catalog's folder; default: the working folder, else the predictions' folder)")
	fl.StringVar(&index, "index", "", "representations for similar galaxies on the web page (galaxy embed's .npz)")
	fl.StringVar(&dataPath, "data", "", "the data file whose images the catalog's rows (galaxy predict --data) or the index's (galaxy embed --data) are (default: the one they name)")
	fl.Int64Var(&opt.MaxBodyBytes, "max-body", 8<<20, "largest request body in bytes")
	fl.IntVar(&opt.MaxPixels, "max-pixels", 4096*4096, "largest image (width*height)")
	fl.IntVar(&opt.MaxImages, "max-images", 64, "most images in one multipart request")
	fl.IntVar(&opt.MaxBatch, "batch", 64, "most images scored together")
	fl.DurationVar(&opt.BatchWait, "batch-wait", 2*time.Millisecond, "longest wait for a batch to fill")
	fl.DurationVar(&grace, "grace", 10*time.Second, "time given to requests in progress at shutdown")
	fl.StringVar(&logFormat, "log-format", "text", "request log format: text or json")
	return cmd
}

func catalogRows(c *serve.Catalog) int {
	if c == nil {
		return 0
	}
	return c.Len()
}

func indexRows(ix *similar.Index) int {
	if ix == nil {
		return 0
	}
	return ix.Len()
}

// serveData reads the data file whose images the served catalog's or
// index's rows are (path, else the one they name; nil when none), as the
// model's training images were read, and checks it against the rows and
// the model (serve.CheckData).
func serveData(cmd *cobra.Command, m *model.Model, path string, opt serve.Options) (*data.Raw, error) {
	if path == "" {
		var err error
		if path, err = serve.DataFile(opt.Catalog, opt.Index); path == "" || err != nil {
			return nil, err
		}
	}
	raw, err := readDataFor(cmd, m, load.Source{Path: path})
	if err != nil {
		return nil, err
	}
	return raw, serve.CheckData(m, raw, opt.Catalog, opt.Index)
}
