# The rpcbench binary in a minimal image, for deploy/kubernetes:
#   docker build -t rpcbench:dev --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
# Static: no cgo, so the binary needs nothing from the image but itself.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      -o /out/rpcbench ./cmd/rpcbench

# distroless/static: CA certificates, /etc/passwd with the nonroot user
# (65532) the manifests run as, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rpcbench /usr/local/bin/rpcbench
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/rpcbench"]
