package ai.sonia.memory;

import ai.sonia.runtime.SoniaMain;

/** Runs the memory service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new MemoryModule());
    }

    private Main() {}
}
