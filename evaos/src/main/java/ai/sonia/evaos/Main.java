package ai.sonia.evaos;

import ai.sonia.runtime.SoniaMain;

/** Runs the evaos service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new EvaOsModule());
    }

    private Main() {}
}
