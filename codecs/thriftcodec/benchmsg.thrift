// The benchmark message set (codecs/benchmsg/benchmsg.proto) as a Thrift
// IDL: the same fields with the same numbers, so the same values travel.
// The codec in this directory converts between these structs and the
// protobuf-generated benchmsg types.
//
// Every field a benchmsg value always has is required: Thrift writes such
// fields whatever their value, so requiredness costs no bytes, and a
// decoder then refuses a struct that lacks one, or carries it with the
// wrong type (which Thrift would otherwise skip, leaving a zero in its
// place). Medium.owner may be absent, as in protobuf.
namespace go benchthrift

struct Small {
  1: required string name
  2: required i64 birthday
  3: required string phone
  4: required i32 siblings
  5: required bool spouse
  6: required double money
}

struct Medium {
  1: required i64 id
  2: required string title
  3: optional Small owner
  4: required list<Small> members
  5: required list<string> tags
  6: required list<i64> scores
  7: required map<string, i64> counters
  8: required double ratio
  9: required bool active
}

struct Record {
  1: required i64 id
  // benchmsg's uint32 bit for bit: Thrift has no unsigned types.
  2: required i32 kind
  3: required string key
  4: required string value
  5: required i64 created
  6: required double amount
  7: required list<i32> flags
  8: required bool deleted
}

struct Large {
  1: required string source
  2: required i64 generated
  3: required list<Record> records
}

struct Blob {
  1: required binary data
}

// Message is what travels: exactly one of the messages, named by its
// field ID, as a Thrift service's argument struct names its argument. It
// is how a decoder tells a Small from a Blob, whose first fields share a
// wire type.
union Message {
  1: Small small
  2: Medium medium
  3: Large large
  4: Blob blob
}
