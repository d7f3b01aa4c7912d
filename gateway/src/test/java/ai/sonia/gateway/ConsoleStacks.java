package ai.sonia.gateway;

import java.util.Map;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;

/** Gateways for the console's tests (the package's helpers are package-private). */
public final class ConsoleStacks {

    /** Downstreams that are nowhere (accounts need none). */
    public static final Map<String, String> NOWHERE = AccountsTest.NOWHERE;

    /** A gateway home with this environment (NOWHERE, say). */
    public static StackConfig gatewayHome(String name, Map<String, String> env) {
        return GatewayHomes.gateway(name, "{}", env);
    }

    /** A started gateway. */
    public static SoniaServer gateway(StackConfig config) {
        return new GatewayModule().newServer(config).start();
    }

    private ConsoleStacks() {}
}
