package ai.sonia.gateway;

import ai.sonia.runtime.SoniaMain;

/** Runs the gateway service alone in this process. */
public final class Main {

    public static void main(String[] args) {
        SoniaMain.run(new GatewayModule());
    }

    private Main() {}
}
