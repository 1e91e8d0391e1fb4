package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"rpcbench/targets/greeter"
)

// greeterCmd runs `rpcbench greeter-server`: the example service external
// targets are shown with (README, specs/example-greeter.yaml,
// scripts/ghz-compare.sh), over gRPC with reflection and over HTTP/JSON.
func greeterCmd(args []string) error {
	fs := newFlagSet("greeter-server", "[--grpc ADDR] [--http ADDR] [--work DUR]")
	grpcAddr := fs.String("grpc", "127.0.0.1:50051", "gRPC address (greet.v1.Greeter with reflection); empty for none")
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP/JSON address (POST "+greeter.HTTPPath+"); empty for none")
	work := fs.Duration("work", 0, "busy-wait this long in every call, as a handler's own work would")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("greeter-server: unexpected arguments %q", fs.Args())
	}
	if *work < 0 {
		return usageError("greeter-server: --work %v is negative", *work)
	}
	s := &greeter.Service{Work: *work}
	if *grpcAddr != "" {
		ln, err := net.Listen("tcp", *grpcAddr)
		if err != nil {
			return err
		}
		defer greeter.ServeGRPC(s, ln).Stop()
		fmt.Printf("rpcbench: greeter serving grpc on %s (greet.v1.Greeter/SayHello, reflection on)\n", ln.Addr())
	}
	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return err
		}
		defer greeter.ServeHTTP(s, ln).Close()
		fmt.Printf("rpcbench: greeter serving http on http://%s%s\n", ln.Addr(), greeter.HTTPPath)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	fmt.Fprintf(os.Stderr, "rpcbench: greeter served %d calls\n", s.Calls())
	return nil
}
