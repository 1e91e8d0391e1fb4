// Package greeter is the example service external targets are tested and
// demonstrated with: greet.v1.Greeter/SayHello (greetpb/greet.proto) served
// over gRPC, with the reflection service, and over HTTP/JSON at
// POST /v1/hello (the request and reply in protobuf's JSON mapping), so
// that one service can be measured through both.
package greeter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"rpcbench/targets/greeter/greetpb"
)

// HTTPPath is where the HTTP/JSON form of SayHello is served.
const HTTPPath = "/v1/hello"

// Service implements SayHello. It is safe for concurrent use.
type Service struct {
	greetpb.UnimplementedGreeterServer
	// Record keeps every request's name and metadata (tests check what
	// arrived); off, the service only counts.
	Record bool
	// Work is a busy-wait per call, a stand-in for a handler's own work:
	// with it the server, not the load generator, limits the throughput
	// (scripts/ghz-compare.sh compares two generators that way too).
	Work time.Duration

	calls atomic.Int64
	mu    sync.Mutex
	names map[string]int
	md    []metadata.MD
}

// SayHello greets the request's name Times times (at least once). An
// empty name is invalid.
func (s *Service) SayHello(ctx context.Context, r *greetpb.HelloRequest) (*greetpb.HelloReply, error) {
	s.calls.Add(1)
	if s.Record {
		md, _ := metadata.FromIncomingContext(ctx)
		s.mu.Lock()
		if s.names == nil {
			s.names = map[string]int{}
		}
		s.names[r.GetName()]++
		s.md = append(s.md, md)
		s.mu.Unlock()
	}
	if r.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "greeter: name is empty")
	}
	for start := time.Now(); time.Since(start) < s.Work; {
	}
	return &greetpb.HelloReply{
		Message: strings.Repeat("Hello, "+r.GetName()+"! ", max(int(r.GetTimes()), 1)),
		Tags:    int32(len(r.GetTags())),
	}, nil
}

// Calls is the number of SayHello calls served.
func (s *Service) Calls() int64 { return s.calls.Load() }

// Names returns how often each name arrived (with Record).
func (s *Service) Names() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.names))
	for k, v := range s.names {
		out[k] = v
	}
	return out
}

// Metadata returns the incoming metadata of the calls recorded so far.
func (s *Service) Metadata() []metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]metadata.MD(nil), s.md...)
}

// ServeGRPC serves s on ln with the reflection service, until the
// returned server is stopped.
func ServeGRPC(s *Service, ln net.Listener, opts ...grpc.ServerOption) *grpc.Server {
	gs := grpc.NewServer(opts...)
	greetpb.RegisterGreeterServer(gs, s)
	reflection.Register(gs)
	go gs.Serve(ln)
	return gs
}

// HTTPHandler serves SayHello as POST HTTPPath with a JSON body. Errors
// map to HTTP statuses: invalid requests 400, other paths 404, other
// methods 405.
func HTTPHandler(s *Service) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(HTTPPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "greeter: POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req greetpb.HelloRequest
		if err := protojson.Unmarshal(body, &req); err != nil {
			http.Error(w, "greeter: "+err.Error(), http.StatusBadRequest)
			return
		}
		ctx := metadata.NewIncomingContext(r.Context(), headerMetadata(r.Header))
		resp, err := s.SayHello(ctx, &req)
		if err != nil {
			code := http.StatusInternalServerError
			if status.Code(err) == codes.InvalidArgument {
				code = http.StatusBadRequest
			}
			http.Error(w, err.Error(), code)
			return
		}
		out, err := protojson.Marshal(resp)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
	return mux
}

// headerMetadata carries HTTP headers as metadata, lower-cased as gRPC's.
func headerMetadata(h http.Header) metadata.MD {
	md := metadata.MD{}
	for k, v := range h {
		md[strings.ToLower(k)] = v
	}
	return md
}

// ServeHTTP serves HTTPHandler(s) on ln until the returned server is
// closed.
func ServeHTTP(s *Service, ln net.Listener) *http.Server {
	hs := &http.Server{Handler: HTTPHandler(s)}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return hs
}
