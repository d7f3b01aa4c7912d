package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Turns a session's speech (16 kHz mono PCM16) into text as it is spoken. Pluggable: libpocketsphinx in
 * process (with partial results) or a pocketsphinx process per session; a stronger engine implements the same
 * calls.
 */
public interface SpeechRecognizer {

    /** A recognizer for one session's utterances, kept until the session's connection closes. */
    Listening listen() throws IOException;

    /**
     * As {@link #listen()}, and the words recognized so far of the utterance being spoken go to {@code partials}
     * each time they change, before its final transcript (called from the recognizer's own thread; must not
     * block). A recognizer without partial results never calls it.
     */
    default Listening listen(java.util.function.Consumer<String> partials) throws IOException {
        return listen();
    }

    /** One session's recognizer. Calls come in order from one thread at a time. */
    interface Listening extends AutoCloseable {

        /** Audio of the utterance being spoken, as it arrives (the first call after an end starts one). */
        void speech(byte[] pcm);

        /**
         * The speaker paused: recognize what was said so far now, so {@link #phraseComplete()} can tell. The
         * utterance may go on after it.
         */
        default void pause() {}

        /** Whether the words recognized up to the pause make a complete phrase (false when not known yet). */
        default boolean phraseComplete() {
            return false;
        }

        /**
         * What the session has said and been told lately (its recent turns, the replies that carry the user's
         * memories): a recognizer that can bias its vocabulary toward it does so from the next utterance on, and
         * one that cannot ignores it. An empty list removes the bias.
         */
        default void context(java.util.List<String> sentences) {}

        /** The utterance is over: its final transcript, empty when nothing was recognized. Does not block. */
        CompletableFuture<String> end();

        @Override
        void close();
    }
}
