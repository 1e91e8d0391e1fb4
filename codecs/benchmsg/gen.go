package benchmsg

// The generated files are committed so building needs no code generator.
// Regenerating needs protoc (Debian: protobuf-compiler); both plugins are
// pinned as tools in go.mod and run through `go tool`.
//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-vtproto=$(go tool -n protoc-gen-go-vtproto) --go_out=. --go_opt=paths=source_relative --go-vtproto_out=. --go-vtproto_opt=paths=source_relative,features=marshal+unmarshal+size benchmsg.proto"
