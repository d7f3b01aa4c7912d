package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Turns a session's speech (16 kHz mono PCM16) into text as it is spoken. Pluggable: a streaming
 * pocketsphinx process per session is the local default; a stronger engine implements the same two calls.
 */
public interface SpeechRecognizer {

    /** A recognizer for one session's utterances, kept until the session's connection closes. */
    Listening listen() throws IOException;

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

        /** The utterance is over: its final transcript, empty when nothing was recognized. Does not block. */
        CompletableFuture<String> end();

        @Override
        void close();
    }
}
