package verdict

import (
	"fmt"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/netem"
)

// codecs adds a CodecChoice for every slice of cells that differ in codec
// alone and have at least two codecs.
func (v *Verdict) codecs(cells []*results.Cell) {
	var order []string
	byRest := map[string][]*results.Cell{}
	for _, c := range cells {
		vals := c.Params.Values()
		vals[1] = "" // the codec
		k := strings.Join(vals, "/")
		if byRest[k] == nil {
			order = append(order, k)
		}
		byRest[k] = append(byRest[k], c)
	}
	for _, k := range order {
		cs := byRest[k]
		if len(cs) < 2 {
			continue
		}
		fast, small := judge(cs, Throughput), judge(cs, Wire)
		if fast == nil {
			continue
		}
		p := cs[0].Params
		ch := &CodecChoice{ID: "v-codec-" + anchorSafe.Replace(k), Scope: codecScope(cs[0]), Payload: p.Payload, Codecs: len(cs),
			Fastest: fast.Best, FastestNext: fast.RunnerUp, FastestMargin: fast.Margin}
		fastest := cellOf(cs, fast.Best.Key)
		ch.FastestCPU = median(mapValues(valuesOf(fastest, CPU)))
		if small != nil {
			ch.Smallest, ch.SmallestNext, ch.SmallestMargin = small.Best, small.RunnerUp, small.Margin
		}
		for _, c := range cs {
			if c.Params.Codec != "json" || c.Key == fast.Best.Key {
				continue
			}
			e := Entry{c.Key, Label(c), median(mapValues(valuesOf(c, Throughput))), c.Merged.Reps}
			ch.JSON = &e
			ch.JSONSpeed = MarginOf(fastest, c, Throughput)
			ch.JSONCPU = median(mapValues(valuesOf(c, CPU)))
			if small != nil {
				if w := valuesOf(c, Wire); len(w) > 0 {
					ch.JSONBytes = median(mapValues(w)) - small.Best.Median
				}
			}
		}
		v.Codecs = append(v.Codecs, ch)
	}
}

func cellOf(cs []*results.Cell, key string) *results.Cell {
	for _, c := range cs {
		if c.Key == key {
			return c
		}
	}
	return nil
}

// codecScope names what the codecs of a slice share, leaving out the
// defaults.
func codecScope(c *results.Cell) string {
	p := c.Params
	parts := []string{p.Transport.String(), "payload " + p.Payload, fmt.Sprintf("c=%d", p.Concurrency)}
	if p.Compression != "" && p.Compression != "none" {
		parts = append(parts, "compression "+p.Compression)
	}
	if p.Connections > 1 {
		parts = append(parts, fmt.Sprintf("conns=%d", p.Connections))
	}
	if n := p.ProfileName(); n != netem.NameDirect {
		parts = append(parts, "profile "+n)
	}
	return strings.Join(parts, ", ")
}
