package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rpcbench/harness/spec"
	"rpcbench/internal/etcdtest"
)

func TestSplit(t *testing.T) {
	w := []string{"a", "b", "c"}
	for _, tc := range []struct {
		p    spec.Cell
		want []share
	}{
		{spec.Cell{Concurrency: 64, Load: spec.Load{Kind: "closed"}}, []share{{"a", 21, 0}, {"b", 21, 0}, {"c", 22, 0}}},
		{spec.Cell{Concurrency: 2, Load: spec.Load{Kind: "closed"}}, []share{{"a", 1, 0}, {"b", 1, 0}}},
		{spec.Cell{Concurrency: 9, Load: spec.Load{Kind: "open", Rate: 3000}}, []share{{"a", 3, 1000}, {"b", 3, 1000}, {"c", 3, 1000}}},
	} {
		got := split(tc.p, w)
		if len(got) != len(tc.want) {
			t.Fatalf("%+v: %+v, want %+v", tc.p, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: %+v, want %+v", tc.p, got, tc.want)
			}
		}
	}
}

// TestUploadChunks sends an upload larger than etcd's request limit and
// reads it back; a damaged chunk is refused.
func TestUploadChunks(t *testing.T) {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdtest.Start(t)}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raw := make([]byte, 1700<<10) // random: gzip cannot shrink it under the limit
	rand.Read(raw)
	in := base64.StdEncoding.EncodeToString(raw)
	if err := upload(ctx, c, "/t/up/", "/t/done", in, 0); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(ctx, "/t/done")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("done: %v %v", resp, err)
	}
	var d doneMsg
	if err := json.Unmarshal(resp.Kvs[0].Value, &d); err != nil || d.Chunks < 4 || d.Bytes <= 1500<<10 {
		t.Fatalf("done %+v: want 4 or more chunks of an upload over 1.5 MiB (%v)", d, err)
	}
	var out string
	if err := download(ctx, c, "/t/up/", d, &out); err != nil || out != in {
		t.Fatalf("download: %v (equal %v)", err, out == in)
	}
	if _, err := c.Put(ctx, "/t/up/000001", string(bytes.Repeat([]byte{'x'}, ChunkSize))); err != nil {
		t.Fatal(err)
	}
	if err := download(ctx, c, "/t/up/", d, &out); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("a damaged chunk: %v", err)
	}
}
