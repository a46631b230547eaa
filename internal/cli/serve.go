package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"galaxy/serve"
)

func newServeCmd(env Env) *cobra.Command {
	var (
		mpath, addr, logFormat string
		opt                    serve.Options
		grace                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve [--model M|builtin] [--addr 127.0.0.1:8080]",
		Short: "Classify images over HTTP: POST /v1/classify, GET /v1/model, GET /healthz",
		Long: `serve answers HTTP requests with a saved model (without --model, the built-in one):

  POST /v1/classify   one image (JPEG, PNG or FITS) as the body, or multipart/form-data
                      with several; returns JSON with the ranked classes and probabilities
  GET  /v1/model      classes, input, version
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
			s, err := serve.New(m, opt)
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = s.ListenAndServe(ctx, addr, grace, func(a string) {
				opt.Logger.Info("serving", "addr", a, "model", mpath, "scheme", m.Meta.Scheme, "classes", len(m.Meta.Classes))
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
	fl.Int64Var(&opt.MaxBodyBytes, "max-body", 8<<20, "largest request body in bytes")
	fl.IntVar(&opt.MaxPixels, "max-pixels", 4096*4096, "largest image (width*height)")
	fl.IntVar(&opt.MaxImages, "max-images", 64, "most images in one multipart request")
	fl.IntVar(&opt.MaxBatch, "batch", 64, "most images scored together")
	fl.DurationVar(&opt.BatchWait, "batch-wait", 2*time.Millisecond, "longest wait for a batch to fill")
	fl.DurationVar(&grace, "grace", 10*time.Second, "time given to requests in progress at shutdown")
	fl.StringVar(&logFormat, "log-format", "text", "request log format: text or json")
	return cmd
}
