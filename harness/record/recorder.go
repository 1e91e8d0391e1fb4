package record

// Recorder is one worker's recording state: the latency of successful calls
// (corrected for coordinated omission in open loop), their uncorrected
// latency (open loop only), and failed calls by code with a histogram of
// their own. A Recorder belongs to one goroutine until Merge.
type Recorder struct {
	// Latency of successful calls: from the intended send time in open
	// loop, from the actual send time in closed loop.
	Latency *Histogram
	// Uncorrected is the latency from the actual send time in open loop;
	// nil in closed loop, where it would equal Latency.
	Uncorrected *Histogram
	// ErrLatency holds the latency of failed calls; created on first error.
	ErrLatency *Histogram
	// Errors counts failed calls by code slug ("deadline_exceeded", ...).
	Errors map[string]int64
	// FirstError keeps one message per code, for the report.
	FirstError map[string]string
}

// NewRecorder returns a recorder; uncorrected adds the open-loop histogram.
func NewRecorder(uncorrected bool) *Recorder {
	r := &Recorder{Latency: New()}
	if uncorrected {
		r.Uncorrected = New()
	}
	return r
}

// OK records a successful call: corrected from the intended time, and raw
// from the actual send time (the same value in closed loop).
func (r *Recorder) OK(corrected, raw int64) {
	r.Latency.Record(corrected)
	if r.Uncorrected != nil {
		r.Uncorrected.Record(raw)
	}
}

// Fail records a failed call with its code slug and message.
func (r *Recorder) Fail(code, msg string, latency int64) {
	if r.ErrLatency == nil {
		r.ErrLatency = New()
		r.Errors = map[string]int64{}
		r.FirstError = map[string]string{}
	}
	r.ErrLatency.Record(latency)
	r.Errors[code]++
	if _, ok := r.FirstError[code]; !ok {
		r.FirstError[code] = msg
	}
}

// ErrorCount is the number of failed calls.
func (r *Recorder) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Merge adds o's recordings to r.
func (r *Recorder) Merge(o *Recorder) {
	r.Latency.Merge(o.Latency)
	if o.Uncorrected != nil {
		if r.Uncorrected == nil {
			r.Uncorrected = New()
		}
		r.Uncorrected.Merge(o.Uncorrected)
	}
	if o.ErrLatency != nil {
		if r.ErrLatency == nil {
			r.ErrLatency = New()
			r.Errors = map[string]int64{}
			r.FirstError = map[string]string{}
		}
		r.ErrLatency.Merge(o.ErrLatency)
		for k, v := range o.Errors {
			r.Errors[k] += v
		}
		for k, v := range o.FirstError {
			if _, ok := r.FirstError[k]; !ok {
				r.FirstError[k] = v
			}
		}
	}
}
