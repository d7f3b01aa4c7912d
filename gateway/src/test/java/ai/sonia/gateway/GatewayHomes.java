package ai.sonia.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.testing.SoniaServiceExtension;
import ai.sonia.runtime.testing.TestHomes;

/**
 * Homes for the gateway's tests: one pair of signing keys shared by the gateway and its fake downstreams
 * (as one stack's services share theirs), and a config file with a low bcrypt cost, so tests stay fast.
 */
final class GatewayHomes {

    /** The stack's signing keys, given to every service of a test through the environment. */
    static final Map<String, String> SECRETS = Map.of("SONIA_JWT_SECRET", key(), "SONIA_SERVICE_SECRET", key());

    /** A home for a downstream fake listening on a free port. */
    static StackConfig downstream(String name, String service) {
        return TestHomes.config(name, service).withEnv(SECRETS);
    }

    /** A gateway home with {@code gatewaySection} as {@code services.gateway} (bcryptCost 4 unless set). */
    static StackConfig gateway(String name, String gatewaySection, Map<String, String> env) {
        return gateway(name, gatewaySection, "", env);
    }

    /** The same with other top-level sections, e.g. {@code "store":{...},} (with its trailing comma). */
    static StackConfig gateway(String name, String gatewaySection, String topLevel, Map<String, String> env) {
        final Path home = TestHomes.create(name);
        try {
            Files.createDirectories(home.resolve("config"));
            Files.writeString(home.resolve("config/sonia.json"),
                              "{" + topLevel + "\"services\":{\"gateway\":" + lowBcrypt(gatewaySection) + "}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final Map<String, String> all = new HashMap<>(TestHomes.env(home));
        all.putAll(env);
        all.putAll(SECRETS);
        return StackConfig.load(all).withPorts(Map.of("gateway", 0));
    }

    /**
     * A gateway alone, through the runtime's test seam: {@code gatewaySection} as {@code services.gateway}
     * (bcryptCost 4 unless set), and every downstream's target on a closed port (the accounts and the edge
     * need none).
     */
    static SoniaServiceExtension alone(String gatewaySection) {
        return alone(gatewaySection, "");
    }

    /** The same with other top-level sections, e.g. {@code "shared":{...},} (with its trailing comma). */
    static SoniaServiceExtension alone(String gatewaySection, String topLevel) {
        final StringBuilder json = new StringBuilder("{").append(topLevel).append("\"services\":{\"gateway\":")
                                                         .append(lowBcrypt(gatewaySection));
        for (String service : List.of("router", "memory", "pipecat", "openclaw", "evaos")) {
            json.append(",\"").append(service).append("\":{\"target\":\"127.0.0.1:1\"}");
        }
        return SoniaServiceExtension.of(new GatewayModule()).stackConfig(json.append("}}").toString());
    }

    private static String lowBcrypt(String gatewaySection) {
        return gatewaySection.contains("bcryptCost") ? gatewaySection
               : gatewaySection.replaceFirst("\\{", "{\"auth\":{\"bcryptCost\":4},").replace(",}", "}");
    }

    private static String key() {
        final byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private GatewayHomes() {}
}
