package ai.sonia.memory;

import ai.sonia.runtime.ConfigSchema;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The memory engine's knobs, from the {@code services.memory} section of the configuration file; every one
 * has a safe default. Immutable, validated once.
 *
 * @param maxTextChars longest text a memory may hold
 * @param halfLife how long until an untouched memory's decay factor is halfway to {@code decayFloor}
 * @param decayFloor the decay factor of a very old memory, so old facts fade but never vanish
 * @param defaultTopK hits when a search asks for 0
 * @param maxTopK most hits a search may ask for
 * @param candidates how deep each signal (BM25, vectors) is read before fusion
 * @param approximateAbove from how many vectors a tenant is searched by the HNSW graph, not an exact scan
 * @param rrfK the constant of reciprocal rank fusion
 * @param bm25Weight the weight of the BM25 ranking in the fusion; the vector ranking weighs 1
 * @param readers reader connections beside the one writer
 * @param fullSync whether each commit is synced to disk (survives power loss), not only to the OS
 * @param sweepInterval how often memories past their TTL are marked expired in the ledger
 * @param accessFlushInterval how often access times and counts of returned memories are written
 * @param embedderLoadTimeout how long a write or search waits for the embedding model to load
 */
public record MemoryConfig(int maxTextChars, Duration halfLife, double decayFloor, int defaultTopK, int maxTopK,
                           int candidates, int approximateAbove, int rrfK, double bm25Weight, int readers, boolean fullSync, Duration sweepInterval,
                           Duration accessFlushInterval, Duration embedderLoadTimeout) {

    public MemoryConfig {
        check(maxTextChars > 0, "maxTextChars", maxTextChars, "> 0");
        check(!halfLife.isNegative() && !halfLife.isZero(), "halfLifeHours", halfLife, "> 0");
        check(decayFloor >= 0 && decayFloor <= 1, "decayFloor", decayFloor, "0..1");
        check(maxTopK > 0, "maxTopK", maxTopK, "> 0");
        check(defaultTopK > 0 && defaultTopK <= maxTopK, "defaultTopK", defaultTopK, "1..maxTopK");
        check(candidates > 0, "candidates", candidates, "> 0");
        check(approximateAbove > 0, "approximateAbove", approximateAbove, "> 0");
        check(rrfK > 0, "rrfK", rrfK, "> 0");
        check(bm25Weight >= 0 && bm25Weight <= 10, "bm25Weight", bm25Weight, "0..10");
        check(readers > 0, "readers", readers, "> 0");
    }

    /** The keys of {@code services.memory}. */
    public static ConfigSchema schema() {
        return ConfigSchema.object("The memory engine.")
                .field("maxTextChars", ConfigSchema.integer("Longest text a memory may hold.", 16_384))
                .field("halfLifeHours", ConfigSchema.number("Decay half-life of an untouched memory.", 720))
                .field("decayFloor", ConfigSchema.number("The decay factor of a very old memory, 0..1.", 0.3))
                .field("defaultTopK", ConfigSchema.integer("Hits when a search asks for 0.", 10))
                .field("maxTopK", ConfigSchema.integer("Most hits a search may ask for.", 100))
                .field("candidates", ConfigSchema.integer("How deep each signal is read before fusion.", 50))
                .field("approximateAbove", ConfigSchema.integer("Vectors from which HNSW is used.", 20_000))
                .field("rrfK", ConfigSchema.integer("The constant of reciprocal rank fusion.", 60))
                .field("bm25Weight", ConfigSchema.number("Weight of BM25 in the fusion, 0..10.", 1.0))
                .field("readers", ConfigSchema.integer("Reader connections beside the writer.", 4))
                .field("fullSync", ConfigSchema.bool("Sync each commit to disk.", true))
                .field("sweepIntervalMs", ConfigSchema.integer("TTL sweep interval.", 5_000))
                .field("accessFlushIntervalMs", ConfigSchema.integer("Access-time flush interval.", 1_000))
                .field("embedderLoadTimeoutMs", ConfigSchema.integer("Wait for the embedding model.", 120_000))
                .field("embedding", ConfigSchema.object("The embedding model; a ledger keeps the one it was built with.")
                        .field("provider", ConfigSchema.string("bundled (offline ONNX) or ollama.", "bundled"))
                        .field("model", ConfigSchema.string("The Ollama model.", null))
                        .field("dimensions", ConfigSchema.integer("Its vector size.", null))
                        .field("baseUrl", ConfigSchema.string("Ollama's URL.", "OLLAMA_BASE_URL")));
    }

    /** Reads the section, applying defaults for what is absent. */
    public static MemoryConfig from(JsonNode section) {
        return new MemoryConfig(section.path("maxTextChars").asInt(16_384),
                                Duration.ofMinutes((long) (section.path("halfLifeHours").asDouble(24 * 30) * 60)),
                                section.path("decayFloor").asDouble(0.3),
                                section.path("defaultTopK").asInt(10),
                                section.path("maxTopK").asInt(100),
                                section.path("candidates").asInt(50),
                                section.path("approximateAbove").asInt(20_000),
                                section.path("rrfK").asInt(60),
                                section.path("bm25Weight").asDouble(1.0),
                                section.path("readers").asInt(4),
                                section.path("fullSync").asBoolean(true),
                                Duration.ofMillis(section.path("sweepIntervalMs").asLong(5_000)),
                                Duration.ofMillis(section.path("accessFlushIntervalMs").asLong(1_000)),
                                Duration.ofMillis(section.path("embedderLoadTimeoutMs").asLong(120_000)));
    }

    private static void check(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("services.memory." + name + ": " + value + " (expected: " + expected
                                               + ')');
        }
    }
}
