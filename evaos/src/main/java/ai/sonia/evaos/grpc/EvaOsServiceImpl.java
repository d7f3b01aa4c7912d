package ai.sonia.evaos.grpc;

import ai.sonia.evaos.v1.EvaOsServiceGrpc;

/**
 * The evaos gRPC API. Its methods are built by the evaos issue; until then every method answers
 * UNIMPLEMENTED (HTTP 501 at the REST edge), honestly.
 */
public final class EvaOsServiceImpl extends EvaOsServiceGrpc.EvaOsServiceImplBase {
}
