package ai.sonia.memory.domain;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.domain.MemoryStore.NewMemory;
import ai.sonia.memory.store.SqliteMemoryStore;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryKind;

/**
 * The child process of the durability soak: writes memories from four threads through the group-commit
 * writer and prints {@code ACK <name>} for each write once it is acknowledged, until it is killed.
 */
public final class SoakWriter {

    public static void main(String[] args) {
        final MemoryStore store = SqliteMemoryStore.open(Path.of(args[0]), 1, true);
        final PrintStream out = System.out;
        final AtomicLong counter = new AtomicLong(Long.parseLong(args[1]));
        final float[] vector = new float[384];
        vector[0] = 1;
        for (int t = 0; t < 4; t++) {
            new Thread(() -> {
                while (true) {
                    final String text = "soak write " + counter.incrementAndGet();
                    final NewMemory memory = new NewMemory(
                            Memory.newBuilder().setText(text).setKind(MemoryKind.MEMORY_KIND_NOTE)
                                  .setScope(Scope.newBuilder().setTenant("soak")).build(),
                            ContentHash.of(text), vector, "none", null, "");
                    final String name = store.store(memory, new Actor("soak", "soak"), System.currentTimeMillis())
                                             .row().memory().getName();
                    synchronized (out) {
                        out.println("ACK " + name + ' ' + text);
                        out.flush();
                    }
                }
            }).start();
        }
    }

    private SoakWriter() {}
}
