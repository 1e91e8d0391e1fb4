package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"rpcbench/harness/results"
)

// TestResultsMatchSchema validates results.json files against the
// published schema with a JSON Schema validator: the committed runs, and
// one this test makes with the binary.
func TestResultsMatchSchema(t *testing.T) {
	sch := resultsSchema(t)
	files := committedResults(t)
	if len(files) < 2 {
		t.Fatalf("committed runs: %v, want at least 2", files)
	}
	fresh := filepath.Join(t.TempDir(), "run")
	if out, errOut, code := runBinary(t, "bench", "--duration", "200ms", "--warmup", "50ms", "--concurrency", "2", "--out", fresh, "--progress", "never"); code != 0 {
		t.Fatalf("bench: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, path := range append(files, filepath.Join(fresh, "results.json")) {
		checkSchema(t, sch, path)
	}
	// The schema is no rubber stamp: a field it does not know is refused.
	bad := map[string]any{"schema": "rpcbench.results", "schema_version": 1, "surprise": true}
	if err := sch.Validate(bad); err == nil {
		t.Error("the schema accepted an object with an unknown field and missing ones")
	}
}

// resultsSchema compiles the published schema of results.json.
func resultsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", results.SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	const id = "https://rpcbench.invalid/results/schema.json"
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// checkSchema validates the results.json at path.
func checkSchema(t *testing.T, sch *jsonschema.Schema, path string) {
	t.Helper()
	b, err := results.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not match %s:\n%v", path, results.SchemaFile, err)
	}
}
