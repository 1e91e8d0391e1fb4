package targets

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func identity(dst, b []byte) ([]byte, error) { return append(dst, b...), nil }

func TestDataFilesCycleAndTemplatesRender(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "lines.json")
	os.WriteFile(lines, []byte("{\"a\":1}\n\n  {\"a\":2}\n"), 0o644)
	arr := filepath.Join(dir, "arr.json")
	os.WriteFile(arr, []byte(`[{"a":1}, {"a":2}, {"a":3}]`), 0o644)
	for _, c := range []struct {
		data string
		want []string
	}{
		{"@" + lines, []string{`{"a":1}`, `{"a":2}`, `{"a":1}`}},
		{"@" + arr, []string{`{"a":1}`, `{"a":2}`, `{"a":3}`, `{"a":1}`}},
		{`{"x":"y"}`, []string{`{"x":"y"}`, `{"x":"y"}`}},
	} {
		d, err := ParseData(c.data)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRequests(d, identity)
		if err != nil {
			t.Fatal(err)
		}
		cur := r.Cursor(0)
		for i, w := range c.want {
			if b, _ := cur.Next(); string(b) != w {
				t.Fatalf("%s call %d: %s, want %s", c.data, i, b, w)
			}
		}
	}
	d, err := ParseData(`{"n":{{.RequestNumber}},"w":{{.WorkerID}},"t":{{.TimestampUnix}},"s":"{{randomString 5}}","i":{{randomInt 3 5}}}`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRequests(d, identity)
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := r.Cursor(0), r.Cursor(1)
	for i := 0; i < 4; i++ {
		cur, w := c0, 0
		if i%2 == 1 {
			cur, w = c1, 1
		}
		b, err := cur.Next()
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.HasPrefix(s, `{"n":`+strconv.Itoa(i)+`,"w":`+strconv.Itoa(w)+`,"t":1`) || !strings.Contains(s, `"i":3}`) && !strings.Contains(s, `"i":4}`) {
			t.Fatalf("call %d rendered %s", i, s)
		}
		if j := strings.Index(s, `"s":"`); s[j+10] != '"' {
			t.Fatalf("randomString 5 in %s", s)
		}
	}
}

func TestBadData(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"@/nonexistent.json", "no such file"},
		{`{"a":{{.Nope}}}`, "Nope"},
		{`{"a":{{randomInt 5 1}}}`, "want min < max"},
		{`{"a":{{`, "unclosed action"},
	} {
		d, err := ParseData(c.data)
		if err == nil {
			_, err = NewRequests(d, identity)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.data, err, c.want)
		}
	}
}

// FuzzData: any data file parses or fails cleanly, and a cursor over it
// never panics.
func FuzzData(f *testing.F) {
	f.Add([]byte(`[{"a":1},{"b":"{{randomString 3}}"}]`))
	f.Add([]byte("{\"a\":1}\n{\"a\":{{.WorkerID}}}\n"))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "d.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Skip()
		}
		d, err := ParseData("@" + p)
		if err != nil {
			return
		}
		r, err := NewRequests(d, identity)
		if err != nil {
			return
		}
		cur := r.Cursor(3)
		for i := 0; i < 3; i++ {
			cur.Next()
		}
	})
}
