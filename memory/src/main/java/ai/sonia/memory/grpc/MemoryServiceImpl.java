package ai.sonia.memory.grpc;

import ai.sonia.memory.v1.MemoryServiceGrpc;

/**
 * The memory gRPC API. Its methods are built by the memory issue; until then every method answers
 * UNIMPLEMENTED (HTTP 501 at the REST edge), honestly.
 */
public final class MemoryServiceImpl extends MemoryServiceGrpc.MemoryServiceImplBase {
}
