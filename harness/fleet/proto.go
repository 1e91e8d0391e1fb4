package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"rpcbench/harness/spec"
)

// ChunkSize is the most bytes of an upload in one etcd request, well
// under etcd's default request limit of 1.5 MiB.
const ChunkSize = 512 << 10

// startDelay is how far ahead of its publication the start instant lies:
// enough for every worker's watch to see it.
const startDelay = 200 * time.Millisecond

// Messages, as JSON values of the keys in the package doc.
type (
	runMsg struct {
		ID     string     `json:"id"`
		Server string     `json:"server"`
		Spec   *spec.Spec `json:"spec"`
		// Ended is set when the run is over: workers exit.
		Ended bool `json:"ended,omitempty"`
	}
	workerMsg struct {
		Name   string    `json:"name"`
		Host   string    `json:"host"`
		PID    int       `json:"pid"`
		Joined time.Time `json:"joined"`
	}
	pingMsg struct {
		Seq    int   `json:"seq"`
		UnixNs int64 `json:"unix_ns"`
	}
	cellMsg struct {
		Run    string    `json:"run"`
		Seq    int       `json:"seq"`
		Rep    int       `json:"rep"`
		Params spec.Cell `json:"params"`
		Shares []share   `json:"shares"`
	}
	share struct {
		Worker      string  `json:"worker"`
		Concurrency int     `json:"concurrency"`
		Rate        float64 `json:"rate,omitempty"`
	}
	startMsg struct {
		AtUnixNs int64 `json:"at_unix_ns"`
		// Offsets are each worker's clock minus the coordinator's.
		Offsets map[string]int64 `json:"offsets,omitempty"`
		// Abort, when set, cancels the cell: why.
		Abort string `json:"abort,omitempty"`
	}
	doneMsg struct {
		Chunks int    `json:"chunks"`
		Bytes  int    `json:"bytes"`
		SHA256 string `json:"sha256"`
	}
)

// keys names the keys under one prefix.
type keys string

func (k keys) run() string                    { return string(k) + "run" }
func (k keys) workers() string                { return string(k) + "workers/" }
func (k keys) worker(name string) string      { return k.workers() + name }
func (k keys) ping(name string) string        { return string(k) + "ping/" + name }
func (k keys) pong(name string) string        { return string(k) + "pong/" + name }
func (k keys) cells() string                  { return string(k) + "cells/" }
func (k keys) cell(seq int) string            { return fmt.Sprintf("%s%08d", k.cells(), seq) }
func (k keys) ready(seq int) string           { return fmt.Sprintf("%sready/%08d/", k, seq) }
func (k keys) start(seq int) string           { return fmt.Sprintf("%sstart/%08d", k, seq) }
func (k keys) upAll(seq int) string           { return fmt.Sprintf("%sup/%08d/", k, seq) }
func (k keys) up(seq int, name string) string { return k.upAll(seq) + name + "/" }
func (k keys) done(seq int) string            { return fmt.Sprintf("%sdone/%08d/", k, seq) }

// dial connects to etcd and checks that it answers.
func dial(ctx context.Context, e Endpoint) (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", e, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Get(cctx, e.Prefix+"run", clientv3.WithCountOnly()); err != nil {
		c.Close()
		return nil, fmt.Errorf("fleet: etcd at %s does not answer: %w", e, err)
	}
	return c, nil
}

// grant takes a lease of ttl (etcd counts whole seconds) and keeps it
// alive until ctx ends; lost is closed when the lease is.
func grant(ctx context.Context, c *clientv3.Client, ttl time.Duration) (id clientv3.LeaseID, lost <-chan struct{}, err error) {
	secs := max(int64((ttl+time.Second-1)/time.Second), 1)
	g, err := c.Grant(ctx, secs)
	if err != nil {
		return 0, nil, fmt.Errorf("fleet: lease: %w", err)
	}
	ka, err := c.KeepAlive(ctx, g.ID)
	if err != nil {
		return 0, nil, fmt.Errorf("fleet: lease keep-alive: %w", err)
	}
	done := make(chan struct{})
	go func() {
		for range ka {
		}
		close(done)
	}()
	return g.ID, done, nil
}

func put(ctx context.Context, c *clientv3.Client, key string, v any, lease clientv3.LeaseID) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.Put(ctx, key, string(b), clientv3.WithLease(lease))
	if err != nil {
		return fmt.Errorf("fleet: put %s: %w", key, err)
	}
	return nil
}

// upload writes v gzip'd in chunks under prefix (up/SEQ/NAME/), then its
// doneMsg at done.
func upload(ctx context.Context, c *clientv3.Client, prefix, done string, v any, lease clientv3.LeaseID) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed) // a valid level: no error
	zw.Write(raw)
	zw.Close()
	data := z.Bytes()
	sum := sha256.Sum256(data)
	d := doneMsg{Bytes: len(data), SHA256: hex.EncodeToString(sum[:])}
	for off := 0; off < len(data) || off == 0; off += ChunkSize {
		chunk := data[off:min(off+ChunkSize, len(data))]
		if _, err := c.Put(ctx, fmt.Sprintf("%s%06d", prefix, d.Chunks), string(chunk), clientv3.WithLease(lease)); err != nil {
			return fmt.Errorf("fleet: upload chunk %d: %w", d.Chunks, err)
		}
		d.Chunks++
		if len(data) == 0 {
			break
		}
	}
	return put(ctx, c, done, d, lease)
}

// download reads an upload back into v, checking its size and digest.
func download(ctx context.Context, c *clientv3.Client, prefix string, d doneMsg, v any) error {
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return fmt.Errorf("fleet: download %s: %w", prefix, err)
	}
	if len(resp.Kvs) != d.Chunks {
		return fmt.Errorf("fleet: download %s: %d chunks, want %d", prefix, len(resp.Kvs), d.Chunks)
	}
	var data []byte
	for _, kv := range resp.Kvs {
		data = append(data, kv.Value...)
	}
	sum := sha256.Sum256(data)
	if len(data) != d.Bytes || hex.EncodeToString(sum[:]) != d.SHA256 {
		return fmt.Errorf("fleet: download %s: %d bytes with digest %x, want %d with %s", prefix, len(data), sum, d.Bytes, d.SHA256)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("fleet: download %s: %w", prefix, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("fleet: download %s: %w", prefix, err)
	}
	return json.Unmarshal(raw, v)
}
