package ai.sonia.runtime;

/**
 * One service of the stack, as the launcher sees it: its contract and how to build its server.
 * Each service module registers its implementation in
 * {@code META-INF/services/ai.sonia.runtime.ServiceModule}, so the one-JVM launcher finds all six.
 */
public interface ServiceModule {

    /** The service's contract (name, port, methods). */
    ServiceSpec spec();

    /**
     * The keys of the service's section of the config ({@code services.<name>}), checked at load: a key not
     * declared here refuses start-up. {@code port}, {@code target} and {@code faults} are added for every
     * service. It is {@code ConfigSchema.of(TheConfigRecord.class)}: the record the section is bound to
     * ({@link StackConfig#service(String, Class)}), each key declared once as one of its components.
     */
    ConfigSchema configSchema();

    /** Builds the service's server (not started) from the stack configuration. */
    SoniaServer newServer(StackConfig config) throws Exception;
}
