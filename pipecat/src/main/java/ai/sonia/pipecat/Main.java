package ai.sonia.pipecat;

import ai.sonia.runtime.SoniaMain;

/** Runs the pipecat service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new PipecatModule());
    }

    private Main() {}
}
