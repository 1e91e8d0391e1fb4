// Package results defines results.json, the source of truth of a harness
// run: a manifest of everything that shapes the numbers, and every cell's
// per-repetition figures with their encoded histograms. Reports, the
// comparison and the gate read only this file.
//
// Schema (version 1), abridged:
//
//	{ "schema": "rpcbench.results", "schema_version": 1, "run_id": "20250101T120000Z-default",
//	  "manifest": { commit, dirty, go_version, modules{path: version}, cpu_model, cores, kernel,
//	                server_mode, pinning{...}, spec{...}, spec_yaml, transports, codecs,
//	                generator_ceiling{...}, pacer_ceiling{...}, reference, notes },
//	  "cells": [ { "key": "transport=tcp/codec=proto/compression=none/payload=Small/conc=64/conns=1/load=closed",
//	               "group", "params"{...}, "status": ok|errors|behind|failed|degraded|skipped, "skip_reason", "failures",
//	               "reps": [ { "rep", "status", "error",
//	                           "figures": { calls, ok, errors, errors_by_code, elapsed_ns, throughput,
//	                                        latency{count,min_ns,p50_ns,...,max_ns,mean_ns,stdev_ns},
//	                                        uncorrected, error_latency, open{...},
//	                                        client{cpu_user_ns,...,wire}, server{...}, per_call{...},
//	                                        hist, uncorrected_hist, error_hist,
//	                                        series{bucket_ns, last_ns, ok[], failed[], p50_ns[], p99_ns[], max_ns[]} },
//	                           "sweep": { capacity_rate, p99_bound_ns, sustained_rate, non_monotonic,
//	                                      steps[{rate, target_rate, held, reason, figures, first_try}] },
//	                           "fleet": { shares[{worker, concurrency, rate}], start_spread_ns, ... },
//	                           "degraded": { worker, at, reason, partial{worker: figures} } } ],
//	               "merged": { reps, latency, uncorrected, hist, throughput{median,min,max}, per_call (medians), errors_by_code, ... } } ],
//	  "scenarios": [ { "name", "settings"{...spec.Scenario},
//	                   "runs": [ { balancer, retries, rep, status, error, issued, ok, failed, failed_by_code,
//	                               client{attempts, retries, hedges, budget_denied},
//	                               faults[{at, action, instance, delay, until, applied_ns, error_free_after_ns}],
//	                               before/during/after{start_ns, end_ns, ok, failed, latency, hist},
//	                               bucket_ns, ok_per_bucket, failed_per_bucket, instances, served_per_bucket[instance][bucket],
//	                               open{...}, notes } ] } ] }
//
// Histograms are HdrHistogram V2 compressed encodings (base64), values in
// nanoseconds. Every per-call figure divides a counter delta over the
// measured window by the calls completed in it.
package results

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rpcbench/cost"
	"rpcbench/harness/load"
	"rpcbench/harness/record"
	"rpcbench/harness/spec"
	"rpcbench/netem"
)

// Schema names and versions the format.
const (
	Schema        = "rpcbench.results"
	SchemaVersion = 1
)

// Run is one harness run.
type Run struct {
	Schema        string   `json:"schema"`
	SchemaVersion int      `json:"schema_version"`
	RunID         string   `json:"run_id"`
	Manifest      Manifest `json:"manifest"`
	Cells         []*Cell  `json:"cells"`
	// Scenarios are the resilience scenarios' results (scenario.go).
	Scenarios []*Scenario `json:"scenarios,omitempty"`
}

// Manifest records every setting that shapes the numbers.
type Manifest struct {
	SpecName   string            `json:"spec_name"`
	SpecPath   string            `json:"spec_path,omitempty"`
	SpecYAML   string            `json:"spec_yaml,omitempty"`
	Spec       *spec.Spec        `json:"spec"`
	Command    []string          `json:"command"`
	Started    time.Time         `json:"started"`
	Finished   time.Time         `json:"finished"`
	Commit     string            `json:"commit"`
	Dirty      bool              `json:"dirty"`
	GoVersion  string            `json:"go_version"`
	Modules    map[string]string `json:"modules"`
	CPUModel   string            `json:"cpu_model"`
	Cores      int               `json:"cores"`
	Kernel     string            `json:"kernel"`
	Hostname   string            `json:"hostname"`
	ServerMode string            `json:"server_mode"`
	Pinning    Pinning           `json:"pinning"`
	// Registered names at run time.
	Transports   []string `json:"transports"`
	Codecs       []string `json:"codecs"`
	Compressors  []string `json:"compressors"`
	ClientConfig string   `json:"client_config"`
	// TLSVerify says how TLS clients verified their server: against a
	// CA file, the harness's own certificate, or not at all (--insecure).
	TLSVerify string `json:"tls_verify,omitempty"`
	// Peers holds the settings of every peer the run's cells use.
	Peers map[string]map[string]string `json:"peers,omitempty"`
	// Targets holds the settings of every external target the run's
	// cells use, by target name.
	Targets map[string]map[string]string `json:"targets,omitempty"`
	// Profiles are the network profiles the run's cells crossed, with every
	// setting; ProfileModel says what the emulator does with them.
	Profiles     map[string]*netem.Profile `json:"profiles,omitempty"`
	ProfileModel string                    `json:"profile_model,omitempty"`
	// Reference is the key of the cell reports divide by.
	Reference        string            `json:"reference"`
	GeneratorCeiling *GeneratorCeiling `json:"generator_ceiling,omitempty"`
	// PacerCeiling is the open-loop pacer's own check (sweep.go).
	PacerCeiling *PacerCeiling `json:"pacer_ceiling,omitempty"`
	Notes        []string      `json:"notes,omitempty"`
	// ServerHost describes a server on another host (server_mode
	// "remote"); CPUModel, Cores, Kernel and Hostname above are then the
	// client's host.
	ServerHost *ServerHost `json:"server_host,omitempty"`
	// LoadID numbers one of several load processes run against one server
	// at once; Loads lists those a merged run combines.
	LoadID int    `json:"load_id,omitempty"`
	Loads  []Load `json:"loads,omitempty"`
	// Fleet describes the worker processes of a run whose load was
	// generated by several (fleet.go).
	Fleet *Fleet `json:"fleet,omitempty"`
}

// Pinning records where client and server ran.
type Pinning struct {
	Enabled          bool   `json:"enabled"`
	ClientCPUs       string `json:"client_cpus,omitempty"`
	ServerCPUs       string `json:"server_cpus,omitempty"`
	ClientGOMAXPROCS int    `json:"client_gomaxprocs"`
	ServerGOMAXPROCS int    `json:"server_gomaxprocs,omitempty"`
	// ServerCPUsSeen is the affinity the server process reported.
	ServerCPUsSeen string `json:"server_cpus_seen,omitempty"`
	// GODEBUG is what the load process added to GODEBUG, and the servers
	// it started inherited, to keep the runtime's sysmon out of deep
	// sleep on their single CPUs (internal/sysmon).
	GODEBUG string `json:"godebug,omitempty"`
	Note    string `json:"note,omitempty"`
}

// GeneratorCeiling compares the no-op cell with the fastest real cell.
type GeneratorCeiling struct {
	Key         string  `json:"key"`
	Throughput  float64 `json:"throughput"`
	FastestKey  string  `json:"fastest_key"`
	Fastest     float64 `json:"fastest_throughput"`
	Ratio       float64 `json:"ratio"`
	MinRatio    float64 `json:"min_ratio"`
	OK          bool    `json:"ok"`
	Explanation string  `json:"explanation"`
}

// Cell statuses.
const (
	StatusOK      = "ok"      // every repetition ran without errors
	StatusErrors  = "errors"  // ran, but some calls failed or a repetition failed
	StatusBehind  = "behind"  // ran without errors, but the open-loop generator fell behind its schedule
	StatusFailed  = "failed"  // no repetition could run (server would not start, ...)
	StatusSkipped = "skipped" // not applicable (the codec cannot encode the payload)
	// StatusDegraded (fleet.go): a worker process died or stalled.
)

// Cell is one combination's results.
type Cell struct {
	Key        string    `json:"key"`
	Group      string    `json:"group"`
	Params     spec.Cell `json:"params"`
	Status     string    `json:"status"`
	SkipReason string    `json:"skip_reason,omitempty"`
	// Failures lists the errors of failed repetitions and warnings.
	Failures []string `json:"failures,omitempty"`
	Reps     []*Rep   `json:"reps"`
	Merged   *Merged  `json:"merged,omitempty"`
}

// Rep is one repetition of a cell.
type Rep struct {
	Rep     int      `json:"rep"`
	Status  string   `json:"status"`
	Error   string   `json:"error,omitempty"`
	Figures *Figures `json:"figures,omitempty"`
	Sweep   *Sweep   `json:"sweep,omitempty"`
	// Relay counts what the network emulator did in a cell with a
	// profile: drops, modelled retransmissions, its own timing error.
	Relay *netem.Stats `json:"relay,omitempty"`
	// Fleet is how worker processes shared the load (fleet.go);
	// Degraded, why one of them failed it.
	Fleet    *FleetRep `json:"fleet,omitempty"`
	Degraded *Degraded `json:"degraded,omitempty"`
}

// Figures are what one measured window gave.
type Figures struct {
	// Calls completed in the window; OK of them succeeded.
	Calls        int64             `json:"calls"`
	OK           int64             `json:"ok"`
	Errors       int64             `json:"errors"`
	ErrorsByCode map[string]int64  `json:"errors_by_code,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	ElapsedNs    int64             `json:"elapsed_ns"`
	// StartedUnixNs is when the window began, to tell whether the windows
	// of load processes run at once did overlap.
	StartedUnixNs int64 `json:"started_unix_ns,omitempty"`
	// Throughput is successful calls per second.
	Throughput float64 `json:"throughput"`
	// Latency of successful calls: from the intended send time in open
	// loop (coordinated omission corrected), from the send in closed loop.
	Latency      record.Summary  `json:"latency"`
	Uncorrected  *record.Summary `json:"uncorrected,omitempty"`
	ErrorLatency *record.Summary `json:"error_latency,omitempty"`
	Open         *Open           `json:"open,omitempty"`
	Client       cost.Delta      `json:"client"`
	// Server is nil when the server shares the client's process.
	Server  *cost.Delta `json:"server,omitempty"`
	PerCall PerCall     `json:"per_call"`
	// Encoded histograms (HdrHistogram V2 compressed, base64, ns).
	Hist            string `json:"hist"`
	UncorrectedHist string `json:"uncorrected_hist,omitempty"`
	ErrorHist       string `json:"error_hist,omitempty"`
	// Series is the window bucket by bucket (series.go); absent in runs
	// recorded before it existed, in sweep steps and in merged loads.
	Series *Series `json:"series,omitempty"`
	// Loads are the figures of each load process of a merged run, in the
	// order of Manifest.Loads (of Rep.Fleet.Shares for a fleet's
	// repetition); the fields above are their sum.
	Loads []*Figures `json:"loads,omitempty"`
}

// Open describes an open-loop window's schedule keeping.
type Open struct {
	TargetRate    float64 `json:"target_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	Poisson       bool    `json:"poisson"`
	Scheduled     int64   `json:"scheduled"`
	Unsent        int64   `json:"unsent"`
	PacerLagP50Ns int64   `json:"pacer_lag_p50_ns"`
	PacerLagP99Ns int64   `json:"pacer_lag_p99_ns"`
	QueueP99Ns    int64   `json:"queue_delay_p99_ns"`
	Blocked       int64   `json:"blocked"`
	// Behind: the generator fell behind its schedule (its own lateness,
	// unsent calls, or an achieved rate short of the target while it was
	// not the system holding calls back). The cell's latency then
	// understates the truth.
	Behind bool `json:"behind"`
	// Saturated: calls waited for a free worker (the in-flight cap): the
	// system did not keep up with the rate. Corrected latency includes it.
	Saturated bool   `json:"saturated"`
	Note      string `json:"note,omitempty"`
}

// NewOpen records how an open-loop run kept its schedule; achieved is its
// rate of successful calls. The flags (Behind, Saturated) are the caller's
// judgement.
func NewOpen(o *load.OpenResult, achieved float64) *Open {
	return &Open{TargetRate: o.TargetRate, AchievedRate: achieved, Scheduled: o.Scheduled, Unsent: o.Unsent,
		PacerLagP50Ns: o.PacerLag.Quantile(0.5), PacerLagP99Ns: o.PacerLag.Quantile(0.99),
		QueueP99Ns: o.QueueDelay.Quantile(0.99), Blocked: o.Blocked}
}

// PerCall are the cost figures divided by calls completed.
type PerCall struct {
	ClientCPUNs      float64 `json:"client_cpu_ns"`
	ServerCPUNs      float64 `json:"server_cpu_ns"`
	ClientAllocs     float64 `json:"client_allocs"`
	ClientAllocBytes float64 `json:"client_alloc_bytes"`
	ServerAllocs     float64 `json:"server_allocs"`
	ServerAllocBytes float64 `json:"server_alloc_bytes"`
	// Bytes on the wire counted at the sockets: the client's out is the
	// request direction, its in the response direction.
	WireOut       float64 `json:"wire_out_bytes"`
	WireIn        float64 `json:"wire_in_bytes"`
	ServerWireIn  float64 `json:"server_wire_in_bytes"`
	ServerWireOut float64 `json:"server_wire_out_bytes"`
	// Peak RSS during the window (not per call).
	ClientPeakRSS uint64 `json:"client_peak_rss_bytes"`
	ServerPeakRSS uint64 `json:"server_peak_rss_bytes"`
	// Combined is set when client and server share a process: the client
	// figures are then both sides together and the server ones are zero.
	Combined bool `json:"combined,omitempty"`
	// ServerUnknown, when set, says why the server figures are missing
	// (an external target's server is not measured): they are unknown,
	// not zero, and reports show "—".
	ServerUnknown string `json:"server_unknown,omitempty"`
}

// Merged summarises a cell over its repetitions.
type Merged struct {
	Reps int `json:"reps"`
	// Latency is from the merged histogram of every repetition.
	Latency     record.Summary  `json:"latency"`
	Uncorrected *record.Summary `json:"uncorrected,omitempty"`
	Hist        string          `json:"hist,omitempty"`
	UncorrHist  string          `json:"uncorrected_hist,omitempty"`
	Throughput  Stat            `json:"throughput"`
	// PerCall holds the medians over repetitions.
	PerCall      PerCall          `json:"per_call"`
	Errors       int64            `json:"errors"`
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
	Behind       bool             `json:"behind,omitempty"`
	Saturated    bool             `json:"saturated,omitempty"`
	// Sweep figures: medians of the repetitions.
	CapacityRate  float64 `json:"capacity_rate,omitempty"`
	SustainedRate float64 `json:"sustained_rate,omitempty"`
}

// Stat is a median with its range over repetitions.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Write saves r as indented JSON.
func (r *Run) Write(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// File is the name of a run directory's results. A committed run too
// large for the repository keeps it gzipped as File+".gz"; Find, ReadFile
// and Read take either.
const File = "results.json"

// Find returns the results file of run directory dir: File, else File.gz.
func Find(dir string) (string, error) {
	path := filepath.Join(dir, File)
	for _, p := range []string{path, path + ".gz"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("results: %s holds neither %s nor %s.gz: not a run directory", dir, File, File)
}

// ReadFile returns the JSON of a results file, gunzipped when its name
// ends in .gz.
func ReadFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if b, err = io.ReadAll(zr); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return b, nil
}

// ReadDir loads the results of run directory dir (see Find).
func ReadDir(dir string) (*Run, error) {
	path, err := Find(dir)
	if err != nil {
		return nil, err
	}
	return Read(path)
}

// Read loads a results file (see ReadFile) and checks its schema.
func Read(path string) (*Run, error) {
	b, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("results: %s: not a results file (schema %q, want %q)", path, r.Schema, Schema)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("results: %s: schema version %d, this build reads %d", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// Cell returns the cell with key, or nil.
func (r *Run) Cell(key string) *Cell {
	for _, c := range r.Cells {
		if c.Key == key {
			return c
		}
	}
	return nil
}

// FindCell resolves a key or a unique fragment of one.
func (r *Run) FindCell(frag string) (*Cell, error) {
	if c := r.Cell(frag); c != nil {
		return c, nil
	}
	var hits []*Cell
	for _, c := range r.Cells {
		if strings.Contains(c.Key, frag) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return nil, fmt.Errorf("results: no cell matches %q", frag)
	}
	return nil, fmt.Errorf("results: %q matches %d cells (first %s)", frag, len(hits), hits[0].Key)
}

// Ran reports whether the cell has figures to show.
func (c *Cell) Ran() bool { return c.Merged != nil && c.Merged.Reps > 0 }
