package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// ErrNoBrowser means no headless Chromium was found.
var ErrNoBrowser = errors.New("report: no chromium or chrome in PATH (Debian: apt-get install chromium)")

// Browsers are the names RenderCheck looks for.
var Browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

var chartsAttr = regexp.MustCompile(`data-charts-(expected|rendered)="(\d+)"`)

// RenderCheck opens an HTML report in headless Chromium and returns how
// many charts the page expects and how many rendered (the page's inline
// script counts SVG charts with a non-empty box and data marks).
func RenderCheck(ctx context.Context, path string) (expected, rendered int, err error) {
	out, err := RenderDOM(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	expected, rendered = -1, -1
	for _, m := range chartsAttr.FindAllSubmatch(out, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		if string(m[1]) == "expected" {
			expected = n
		} else {
			rendered = n
		}
	}
	if expected < 0 || rendered < 0 {
		return 0, 0, fmt.Errorf("report: %s printed no chart counts (is this a report.html?)", path)
	}
	return expected, rendered, nil
}

// RenderDOM opens an HTML page in headless Chromium, lets its scripts
// run, and returns the document as the browser then holds it.
func RenderDOM(ctx context.Context, path string) ([]byte, error) {
	var bin string
	for _, b := range Browsers {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, ErrNoBrowser
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "rpcbench-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+profile,
		"--virtual-time-budget=5000", "--dump-dom", "file://"+abs)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		msg := ""
		if errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		return nil, fmt.Errorf("report: %s: %v %s", bin, err, msg)
	}
	return out, nil
}
