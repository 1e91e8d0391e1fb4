// Package rabbitmq runs a throwaway RabbitMQ node for tests and for the
// benchmark runner's amqp cells: its own node name, free ports for AMQP
// and Erlang distribution, a data directory of its own, no plugins. It
// starts in about 6 s on an idle machine. Stop kills it, and it dies
// with the process that started it; the Erlang port mapper (epmd) that
// the node started is shared by every Erlang node on the machine and is
// left running.
//
// CPUTime reads the node's CPU time from /proc, so that a benchmark can
// count the broker's work as part of what a brokered call costs.
package rabbitmq

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sys/unix"
)

// Hint says how to install RabbitMQ.
const Hint = "apt-get install rabbitmq-server (scripts/setup.sh does)"

// server is the start script that runs the node as the calling user;
// Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user.
var server = sync.OnceValues(func() (string, error) {
	const debian = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	p, err := exec.LookPath("rabbitmq-server")
	if err != nil {
		return "", fmt.Errorf("rabbitmq-server not found: %s", Hint)
	}
	return p, nil
})

// Available reports whether RabbitMQ is installed.
func Available() error {
	_, err := server()
	return err
}

// Node is a running throwaway RabbitMQ node.
type Node struct {
	dir            string
	name           string
	amqpPort, dist int
	ownDir         bool

	mu  sync.Mutex
	cmd *exec.Cmd
	// userBefore and sysBefore are the CPU times of the node's earlier
	// processes (Relaunch).
	userBefore, sysBefore time.Duration
}

// StartTimeout bounds how long Start waits for the node to accept AMQP
// connections.
const StartTimeout = 60 * time.Second

// Start starts a node with its data under dir (a temporary directory of
// its own, removed by Stop, if dir is empty).
func Start(dir string) (*Node, error) {
	n := &Node{dir: dir}
	if dir == "" {
		d, err := os.MkdirTemp("", "rpcbench-rabbitmq-")
		if err != nil {
			return nil, err
		}
		n.dir, n.ownDir = d, true
	}
	var err error
	if n.amqpPort, err = freePort(); err == nil {
		n.dist, err = freePort()
	}
	if err != nil {
		n.cleanup()
		return nil, err
	}
	n.name = fmt.Sprintf("rpcbench-%d-%d@localhost", os.Getpid(), n.amqpPort)
	if err := n.start(); err != nil {
		n.cleanup()
		return nil, err
	}
	return n, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (n *Node) start() error {
	bin, err := server()
	if err != nil {
		return err
	}
	for _, d := range []string{"mnesia", "log"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			return err
		}
	}
	plugins := filepath.Join(n.dir, "enabled_plugins")
	if err := os.WriteFile(plugins, []byte("[].\n"), 0o644); err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(n.dir, "log", "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(bin)
	cmd.Dir = n.dir
	cmd.Env = append(os.Environ(),
		"HOME="+n.dir, // the Erlang cookie goes there
		"RABBITMQ_NODENAME="+n.name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(n.amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(n.dist),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(n.dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(n.dir, "log"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+plugins,
		"RABBITMQ_CONFIG_FILE="+filepath.Join(n.dir, "rabbitmq"), // none: defaults
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(n.dir, "advanced.config"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(n.dir, "rabbitmq-env.conf"),
		"RABBITMQ_PID_FILE="+filepath.Join(n.dir, "pid"),
		// The start script then execs the Erlang VM instead of waiting for
		// it as a child: the VM is the process Pdeathsig reaches. Input
		// stays off all the same.
		"RABBITMQ_ALLOW_INPUT=true",
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-noinput",
	)
	cmd.Stdout, cmd.Stderr = out, out
	// Stop kills the group. The node also dies with this process, even
	// one killed before it could stop it (a test binary's timeout):
	// Pdeathsig fires when the thread that started the node exits, so
	// that thread stays locked to the goroutine waiting for the node.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the node
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	n.mu.Lock()
	n.cmd = cmd
	n.mu.Unlock()
	deadline := time.Now().Add(StartTimeout)
	for {
		c, err := amqp.DialConfig(n.URL(), amqp.Config{Dial: amqp.DefaultDial(time.Second)})
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("rabbitmq node exited before it accepted connections (%v)%s", werr, n.logTail())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.kill()
			return fmt.Errorf("rabbitmq node not accepting connections after %v: %v%s", StartTimeout, err, n.logTail())
		}
	}
}

func (n *Node) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "log", "console.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return ""
	}
	return "; its output ends:\n" + string(b)
}

// URL is the node's AMQP URL, with the default guest account (which
// RabbitMQ accepts from loopback only).
func (n *Node) URL() string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", n.amqpPort)
}

// Relaunch starts a node that Kill stopped again, on the same ports and
// data: a broker that crashed and came back (for tests).
func (n *Node) Relaunch() error { return n.start() }

// Kill kills the node at once, leaving its data for Relaunch.
func (n *Node) Kill() {
	if user, sys, err := n.CPUTime(); err == nil {
		n.mu.Lock()
		n.userBefore, n.sysBefore = user, sys
		n.mu.Unlock()
	}
	n.kill()
}

func (n *Node) kill() {
	n.mu.Lock()
	cmd := n.cmd
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	// The group is gone once its leader's /proc entry is: wait for it, so
	// that the ports are free for a restart.
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", cmd.Process.Pid)); errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the node and removes its data directory if Start made it.
func (n *Node) Stop() error {
	n.kill()
	n.cleanup()
	return nil
}

func (n *Node) cleanup() {
	if n.ownDir {
		os.RemoveAll(n.dir)
	}
}

// CPUTime is the user and system CPU time the node's processes have used
// (the Erlang VM and its helpers, and those it waited for), read from
// /proc.
func (n *Node) CPUTime() (user, sys time.Duration, err error) {
	n.mu.Lock()
	cmd, user, sys := n.cmd, n.userBefore, n.sysBefore
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return user, sys, nil
	}
	err = eachInGroup(cmd.Process.Pid, func(pid int, stat []string) {
		// utime stime cutime cstime, in clock ticks.
		t := make([]int64, 4)
		for i := range t {
			t[i], _ = strconv.ParseInt(stat[11+i], 10, 64)
		}
		user += ticks(t[0] + t[2])
		sys += ticks(t[1] + t[3])
	})
	return user, sys, err
}

// ticks converts /proc's clock ticks (USER_HZ: 100 on every Linux
// architecture Go supports) to a duration.
func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / 100 }

// Pin restricts every thread of the node's processes to cpus, as the
// runner pins its server processes: the broker is part of the server
// side.
func (n *Node) Pin(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return errors.New("rabbitmq: node not running")
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	var first error
	err := eachInGroup(cmd.Process.Pid, func(pid int, _ []string) {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH && first == nil {
				first = fmt.Errorf("rabbitmq: pinning thread %d to CPUs %v: %w", tid, cpus, err)
			}
		}
	})
	return cmp.Or(first, err)
}

// eachInGroup calls fn with each process of process group pgid and the
// fields of its /proc/PID/stat after the command name (state is [0]).
func eachInGroup(pgid int, fn func(pid int, stat []string)) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		// The command name is in parentheses and may hold spaces; after
		// it: state ppid pgrp ... utime(11) stime cutime cstime.
		s := string(b)
		stat := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(stat) < 15 {
			continue
		}
		if g, _ := strconv.Atoi(stat[2]); g != pgid {
			continue
		}
		found = true
		fn(pid, stat)
	}
	if !found {
		return fmt.Errorf("rabbitmq: no process of group %d in /proc", pgid)
	}
	return nil
}

// Wait blocks until ctx ends or the node accepts an AMQP connection.
func (n *Node) Wait(ctx context.Context) error {
	for {
		c, err := amqp.DialConfig(n.URL(), amqp.Config{Dial: amqp.DefaultDial(time.Second)})
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
