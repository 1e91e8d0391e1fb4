package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"rpcbench/harness/results"
)

// progress prints "[n/total] cell rep r/R  ETA ..." either rewritten in
// place on a terminal or one line per repetition elsewhere.
type progress struct {
	w        io.Writer
	terminal bool
	est      map[string]float64 // seconds per repetition, by key
	total    int
	n        int
	left     float64 // estimated seconds of the repetitions not yet run
	spentEst float64 // estimated seconds of those that ran
	began    time.Time
	width    int
}

func newProgress(w io.Writer, terminal bool, est map[string]float64) *progress {
	p := &progress{w: w, terminal: terminal, est: est, began: time.Now()}
	return p
}

// start announces one repetition of c.
func (p *progress) start(c *results.Cell, rep, reps int) {
	if p == nil || p.w == nil {
		return
	}
	if p.total == 0 {
		for _, s := range p.est {
			p.left += s * float64(reps)
			p.total += reps
		}
	}
	p.n++
	eta := "?"
	if p.spentEst > 0 {
		ratio := time.Since(p.began).Seconds() / p.spentEst
		eta = time.Duration(p.left * ratio * float64(time.Second)).Round(time.Second).String()
	} else {
		eta = "~" + (time.Duration(p.left * float64(time.Second))).Round(time.Second).String()
	}
	line := fmt.Sprintf("[%d/%d] %s rep %d/%d  ETA %s", p.n, p.total, c.Key, rep+1, reps, eta)
	if p.terminal {
		pad := ""
		if len(line) < p.width {
			pad = strings.Repeat(" ", p.width-len(line))
		}
		p.width = len(line)
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// done accounts for one finished repetition of c.
func (p *progress) done(c *results.Cell) {
	if p == nil {
		return
	}
	p.left -= p.est[c.Key]
	p.spentEst += p.est[c.Key]
}

// clear removes the in-place line before other output.
func (p *progress) clear() {
	if p == nil || p.w == nil || !p.terminal || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}
