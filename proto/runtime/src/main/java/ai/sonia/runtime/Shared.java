package ai.sonia.runtime;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * One instance per JVM of things that are costly to make (an ONNX embedding model, say), shared by every
 * service of the process: the first {@link #get} of a key makes it, later ones (from any thread, any
 * service) get the same object. Keys name the thing, not its user: the embedding model is
 * {@code "embedding/bge-small-en-v1.5-q"} for memory and router alike.
 */
public final class Shared {

    private static final ConcurrentMap<String, Slot> slots = new ConcurrentHashMap<>();

    /**
     * The instance of {@code key}, made by {@code make} on the first call. Concurrent first calls make it
     * once (the others wait); a {@code make} that throws leaves nothing behind, so the next call tries again.
     * Makers of different keys run in parallel and may themselves call {@code get}.
     */
    @SuppressWarnings("unchecked")
    public static <T> T get(String key, Supplier<T> make) {
        requireNonNull(make, "make");
        return (T) slots.computeIfAbsent(requireNonNull(key, "key"), k -> new Slot()).get(key, make);
    }

    private static final class Slot {
        private volatile Object value;

        Object get(String key, Supplier<?> make) {
            Object v = value;
            if (v != null) {
                return v;
            }
            synchronized (this) {
                if (value == null) {
                    value = requireNonNull(make.get(), () -> "the maker of " + key + " returned null");
                }
                return value;
            }
        }
    }

    private Shared() {}
}
