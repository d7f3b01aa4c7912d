# Rejected Converse streams as Python grpcio sees them: each must end with its real status (from the trailers),
# not CANCELLED (what grpcio reports when a reset overtakes the trailers). Raw bytes, no generated stubs.
#   python3 converse-codes.py <port> <token-file> [tries]     (Debian: apt-get install python3-grpcio)
import collections
import json
import sys
import time

import grpc

port, token = sys.argv[1], open(sys.argv[2]).read().strip()
def s(field, b):  # a length-delimited field (short payloads)
    return bytes([(field << 3) | 2, len(b)]) + b
ch = grpc.insecure_channel('127.0.0.1:' + port)
call = ch.stream_stream('/sonia.pipecat.v1.PipecatService/Converse', request_serializer=lambda x: x, response_deserializer=lambda x: x)
cases = {
  'unknown session': ([s(1, s(1, b'no-such-session'))], [('authorization', 'Bearer ' + token)]),
  'no token': ([s(1, s(1, b'no-such-session'))], []),
  'event before attach': ([s(2, bytes([8, 1]))], [('authorization', 'Bearer ' + token)]),
}
for name, (msgs, md) in cases.items():
    counts = collections.Counter()
    for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 10):
        def gen():
            for m in msgs:
                yield m
            time.sleep(2)  # keep the client's side open, as a live conversation does
        try:
            for r in call(gen(), metadata=md, timeout=10):
                pass
            counts['OK'] += 1
        except grpc.RpcError as e:
            counts[e.code().name] += 1
    print('{"case": "%s", "codes": %s}' % (name, json.dumps(dict(counts))), flush=True)
