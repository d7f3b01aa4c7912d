package ai.sonia.pipecat;

import ai.sonia.runtime.StackConfig;

/**
 * A stand-in gateway for {@code scripts/bench-pipecat}: the gateway's contract behind the runtime's front
 * door, answering each chat with an echo after a fixed delay, as a model would after thinking.
 * {@code java ... ai.sonia.pipecat.BenchGateway <delay_ms>} prints {@code LISTENING <host:port>}.
 */
final class BenchGateway {

    public static void main(String[] args) throws Exception {
        final long delayMillis = args.length > 0 ? Long.parseLong(args[0]) : 200;
        final TestGateway gateway = new TestGateway(StackConfig.load(System.getenv()));
        gateway.replyWith(text -> {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "echo: " + text;
        });
        System.out.println("LISTENING " + gateway.target());
        Thread.currentThread().join();
    }

    private BenchGateway() {}
}
