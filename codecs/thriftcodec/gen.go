package thriftcodec

// The generated code in benchthrift is committed so building needs no code
// generator. Regenerating needs the thrift compiler (Debian:
// thrift-compiler; the committed code is from 0.17.0). Its Go output is
// not gofmt-clean, hence gofmt.
//go:generate sh -c "thrift --gen go:package_prefix=rpcbench/codecs/thriftcodec/,skip_remote -out . benchmsg.thrift && gofmt -w benchthrift"
