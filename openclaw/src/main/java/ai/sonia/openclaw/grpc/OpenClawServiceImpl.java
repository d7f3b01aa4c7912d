package ai.sonia.openclaw.grpc;

import ai.sonia.openclaw.v1.OpenClawServiceGrpc;

/**
 * The openclaw gRPC API. Its methods are built by the openclaw issue; until then every method answers
 * UNIMPLEMENTED (HTTP 501 at the REST edge), honestly.
 */
public final class OpenClawServiceImpl extends OpenClawServiceGrpc.OpenClawServiceImplBase {
}
