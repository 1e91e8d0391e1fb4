package results

// SetPerCall divides f's client and server cost deltas by its calls.
func (f *Figures) SetPerCall() {
	per := func(v float64) float64 {
		if f.Calls == 0 {
			return 0
		}
		return v / float64(f.Calls)
	}
	c, pc := f.Client, &f.PerCall
	pc.ClientPeakRSS = c.PeakRSSBytes
	pc.ClientCPUNs = per(float64(c.CPUUserNs + c.CPUSysNs))
	pc.ClientAllocs, pc.ClientAllocBytes = per(float64(c.Mallocs)), per(float64(c.AllocBytes))
	pc.WireOut, pc.WireIn = per(float64(c.Wire.ClientOut)), per(float64(c.Wire.ClientIn))
	if s := f.Server; s != nil {
		pc.ServerPeakRSS = s.PeakRSSBytes
		pc.ServerCPUNs = per(float64(s.CPUUserNs + s.CPUSysNs))
		pc.ServerAllocs, pc.ServerAllocBytes = per(float64(s.Mallocs)), per(float64(s.AllocBytes))
		pc.ServerWireIn, pc.ServerWireOut = per(float64(s.Wire.ServerIn)), per(float64(s.Wire.ServerOut))
	}
}
