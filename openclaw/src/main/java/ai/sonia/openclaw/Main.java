package ai.sonia.openclaw;

import ai.sonia.runtime.SoniaMain;

/** Runs the openclaw service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new OpenClawModule());
    }

    private Main() {}
}
