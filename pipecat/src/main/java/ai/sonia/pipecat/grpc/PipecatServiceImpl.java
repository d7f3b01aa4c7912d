package ai.sonia.pipecat.grpc;

import ai.sonia.pipecat.v1.PipecatServiceGrpc;

/**
 * The pipecat gRPC API. Its methods are built by the pipecat issue; until then every method answers
 * UNIMPLEMENTED (HTTP 501 at the REST edge), honestly.
 */
public final class PipecatServiceImpl extends PipecatServiceGrpc.PipecatServiceImplBase {
}
