package kubernetes_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The image the manifests run is the one the Dockerfile at the root
// builds: the Go release of go.mod, rpcbench as the entrypoint (the
// manifests give only its arguments) and the user the pods run as.
func TestDockerfileMatchesManifests(t *testing.T) {
	b := load(t)
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	instr := func(name string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^`+name+` +(.+)$`).FindAllStringSubmatch(string(dockerfile), -1) {
			out = append(out, strings.TrimSpace(m[1]))
		}
		return out
	}

	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))
	if m == nil {
		t.Fatal("go.mod names no go version")
	}
	if from := instr("FROM"); len(from) == 0 || !strings.HasPrefix(from[0], "golang:"+m[1]+" ") {
		t.Errorf("Dockerfile builds FROM %q; go.mod says go %s: build FROM golang:%s", from, m[1], m[1])
	}

	var entrypoint []string
	if e := instr("ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0]), &entrypoint) != nil || len(entrypoint) != 1 || !strings.HasSuffix(entrypoint[0], "/rpcbench") {
		t.Errorf("Dockerfile ENTRYPOINT %q: the manifests give rpcbench's arguments only, so it must be [\".../rpcbench\"]", e)
	}

	users := instr("USER")
	if len(users) != 1 {
		t.Fatalf("Dockerfile USER %q: want one", users)
	}
	uid, _, _ := strings.Cut(users[0], ":")
	for _, r := range b.rpcbenchCommands() {
		sc := r.w.pod.SecurityContext
		if sc == nil || sc.RunAsUser == nil || strconv.FormatInt(*sc.RunAsUser, 10) != uid {
			t.Errorf("%s: pods that run rpcbench run as the image's user %s (runAsUser)", r, uid)
		}
	}
}
