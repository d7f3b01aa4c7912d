package ai.sonia.gateway;

import java.util.Map;

import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.StackConfig;

/** Gateways for the console's tests (the package's helpers are package-private). */
public final class ConsoleStacks {

    /** A gateway home whose downstreams are nowhere (accounts need none). */
    public static StackConfig gatewayHome(String name) {
        return GatewayHomes.gateway(name, "{}", AccountsTest.NOWHERE);
    }

    /** A started gateway. */
    public static SoniaServer gateway(StackConfig config) {
        return new GatewayModule().newServer(config).start();
    }

    private ConsoleStacks() {}
}
