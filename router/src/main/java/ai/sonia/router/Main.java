package ai.sonia.router;

import ai.sonia.runtime.SoniaMain;

/** Runs the router service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new RouterModule());
    }

    private Main() {}
}
