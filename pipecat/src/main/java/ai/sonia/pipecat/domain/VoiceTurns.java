package ai.sonia.pipecat.domain;

/** The voice pipeline of one connection: audio in, events and synthesized audio out. */
public interface VoiceTurns extends AutoCloseable {

    /** Takes a frame of 16 kHz mono PCM16 little-endian audio. */
    void accept(byte[] pcm);

    /** Answers a typed message aloud; the future ends when the answer has been spoken. */
    java.util.concurrent.CompletableFuture<Void> answer(String userText);

    /** Stops any synthesis in progress. */
    @Override
    void close();
}
