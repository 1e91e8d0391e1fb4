package flatbuf

// The generated code in benchfb is committed so building needs no code
// generator. Regenerating needs flatc (Debian: flatbuffers-compiler; the
// committed code is from 2.0.8, whose one-file mode needs --go-namespace
// to name the package). Its Go output is not gofmt-clean, hence gofmt.
//go:generate sh -c "flatc --go --gen-onefile --go-namespace benchfb -o benchfb benchmsg.fbs && gofmt -w benchfb"
