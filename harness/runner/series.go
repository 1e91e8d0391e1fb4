package runner

import (
	"context"
	"time"

	"rpcbench/harness/load"
	"rpcbench/harness/results"
	"rpcbench/harness/timeseries"
	"rpcbench/target"
)

// measureSeries is measure with the measured window also recorded bucket
// by bucket (Figures.Series). A window counted in calls has no known
// length to cut into buckets and gets none.
func (r *runner) measureSeries(ctx context.Context, conns []target.Conn, srv server, warm, main load.Options) (*results.Figures, error) {
	if main.Duration <= 0 || main.Calls > 0 {
		return r.measure(ctx, conns, srv, warm, main)
	}
	ts := timeseries.New(main.Duration, timeseries.DefaultBucket, main.Workers)
	main.OnCall = ts.OnCall
	f, err := r.measure(ctx, conns, srv, warm, main)
	if f == nil {
		ts.Finish(0)
		return f, err
	}
	f.Series = ts.Finish(time.Duration(f.ElapsedNs))
	return f, err
}
