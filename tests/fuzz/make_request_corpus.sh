#!/usr/bin/env bash
# make_request_corpus.sh: writes the seed corpus of request_fuzz from text
# requests, with protoc --encode. Run it from anywhere; it rewrites
# corpus/request/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out="$here/corpus/request"
mkdir -p "$out"
n=0
enc() {
	n=$((n + 1))
	printf '%s\n' "$1" | protoc --proto_path="$proto" rill/v1/rill.proto \
		--encode=rill.v1.Request >"$out/$(printf '%02d' $n)-$2.bin"
}
enc 'request_id: 1 client_id: 7 put { key: "k" value: "v" }' put
enc 'request_id: 2 client_id: 7 attempt: 1 put { key: "k" value: "v" }' put-retry
enc 'request_id: 3 get { key: "k" }' get
enc 'request_id: 4 delete { key: "k" }' delete
enc 'request_id: 5 client_id: 7 write { batch { ops { key: "a" value: "1" } ops { type: DELETE key: "b" } } }' write
enc 'request_id: 6 scan { start: "a" end: "z" limit: 2 }' scan
enc 'request_id: 7 scan { prefix: "k" reverse: true }' scan-prefix-reverse
enc 'request_id: 8 scan { start: "k" start_after: true max_bytes: 1 }' scan-after
enc 'request_id: 9 status { }' status
enc 'request_id: 10' no-body
enc 'request_id: 11 put { key: "" value: "v" }' empty-key
enc 'request_id: 12 scan { start: "z" end: "a" }' scan-inverted
enc 'request_id: 13 write { }' empty-write
enc 'request_id: 14 write { batch { ops { type: 7 key: "x" } } }' bad-op-type
printf '\x08\x0f\x9a\x06\x02hi' >"$out/15-unknown-rpc.bin"
printf 'not a protobuf \xff\xff\xff' >"$out/16-garbage.bin"
: >"$out/17-empty.bin"
