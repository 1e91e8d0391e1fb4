package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/results"
	"rpcbench/internal/etcdtest"
)

// fleetHosts is a server host and three load hosts: network namespaces,
// each joined by a veth pair to a bridge in this namespace, where etcd
// and the coordinator run.
type fleetHosts struct {
	bridge, hostAddr string
	srv, srvAddr     string
	workers          []string // namespaces of the load hosts
	links            []string // this side's veth end toward each load host
}

// newFleetHosts creates the namespaces, links and bridge, and removes
// them when the test ends. It skips the test where namespaces cannot be
// made.
func newFleetHosts(t *testing.T) *fleetHosts {
	t.Helper()
	needNetns(t, "a fleet of load hosts over veth pairs")
	pid := os.Getpid() % 100000
	h := &fleetHosts{bridge: fmt.Sprintf("rpcfbr%d", pid), hostAddr: "10.215.0.254", srv: fmt.Sprintf("rpcf-srv-%d", pid), srvAddr: "10.215.0.1"}
	if out, err := exec.Command("ip", "link", "add", h.bridge, "type", "bridge").CombinedOutput(); err != nil {
		t.Skipf("ip link add type bridge fails here (%v: %s): cannot join the load hosts", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", h.bridge).Run() })
	ip(t, "addr", "add", h.hostAddr+"/24", "dev", h.bridge)
	ip(t, "link", "set", h.bridge, "up")
	nss, addrs := []string{h.srv}, []string{h.srvAddr}
	for i := 1; i <= 3; i++ {
		h.workers = append(h.workers, fmt.Sprintf("rpcf-w%d-%d", i, pid))
		nss, addrs = append(nss, h.workers[i-1]), append(addrs, fmt.Sprintf("10.215.0.%d", 10+i))
	}
	for i, ns := range nss {
		here, there := fmt.Sprintf("rpcfh%d%c", pid, 'a'+i), fmt.Sprintf("rpcfn%d%c", pid, 'a'+i)
		ip(t, "netns", "add", ns)
		// Deleting a namespace deletes its end of the pair, and so both.
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ip(t, "link", "add", here, "type", "veth", "peer", "name", there)
		ip(t, "link", "set", there, "netns", ns)
		ip(t, "link", "set", here, "master", h.bridge)
		ip(t, "link", "set", here, "up")
		ip(t, "-n", ns, "addr", "add", addrs[i]+"/24", "dev", there)
		ip(t, "-n", ns, "link", "set", there, "up")
		ip(t, "-n", ns, "link", "set", "lo", "up")
		if i > 0 {
			h.links = append(h.links, here)
		}
	}
	return h
}

// TestFleetHosts runs a cell through the coordinator on three load hosts
// with a 10 Mbit/s token bucket on the third one's link: the merged
// calls are the sum of the workers', the start spread is recorded, and
// the third worker's share shows the cap.
func TestFleetHosts(t *testing.T) {
	h := newFleetHosts(t)
	tbf := []string{"qdisc", "add", "dev", h.links[2], "root", "tbf", "rate", "10mbit", "burst", "32kbit", "latency", "400ms"}
	if out, err := exec.Command("tc", tbf...).CombinedOutput(); err != nil {
		t.Skipf("no tbf queueing discipline here (%v: %s): cannot cap a link", err, strings.TrimSpace(string(out)))
	}
	etcd := etcdtest.StartOn(t, h.hostAddr)
	url := "etcd://" + strings.TrimPrefix(etcd, "http://") + "/hosts"
	addr := serve(t, in(h.srv), "--transport", "tcp", "--addr", h.srvAddr+":7000")
	var prefixes [][]string
	for _, ns := range h.workers {
		prefixes = append(prefixes, in(ns))
	}
	startWorkers(t, url, []string{"w1", "w2", "w3"}, prefixes)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	rpcbench(t, ctx, nil, append(fleetBench(url, addr, dir, "12", "2s", "1"), "--payload", "Bytes(16384)")...)
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	rr := run.Cells[0].Reps[0]
	checkFleetRep(t, run, rr, 3)
	if t.Failed() {
		return
	}
	const capBits = 10e6
	loads := rr.Figures.Loads
	for i, f := range loads {
		t.Logf("%s (concurrency %d): %.0f calls/s, %.2f Mbit/s of replies, p50 %v", rr.Fleet.Shares[i].Worker, rr.Fleet.Shares[i].Concurrency,
			f.Throughput, f.Throughput*f.PerCall.WireIn*8/1e6, time.Duration(f.Latency.P50))
	}
	capped := loads[2].Throughput * loads[2].PerCall.WireIn * 8
	if capped > 1.05*capBits || capped < 0.5*capBits || loads[2].Throughput > 0.5*min(loads[0].Throughput, loads[1].Throughput) {
		t.Errorf("w3 behind a 10 Mbit/s bucket: %.2f Mbit/s of replies, %.0f calls/s against %.0f and %.0f", capped/1e6, loads[2].Throughput, loads[0].Throughput, loads[1].Throughput)
	}
}
