package ai.sonia.router.grpc;

import ai.sonia.router.v1.RouterServiceGrpc;

/**
 * The router gRPC API. Its methods are built by the router issue; until then every method answers
 * UNIMPLEMENTED (HTTP 501 at the REST edge), honestly.
 */
public final class RouterServiceImpl extends RouterServiceGrpc.RouterServiceImplBase {
}
