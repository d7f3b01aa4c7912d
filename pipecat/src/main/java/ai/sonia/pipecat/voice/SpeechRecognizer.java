package ai.sonia.pipecat.voice;

import java.io.IOException;

/** Turns an utterance (16 kHz mono PCM16) into text. Pluggable: pocketsphinx is the local default. */
public interface SpeechRecognizer {

    /** What was said; empty when nothing was recognized. */
    String recognize(byte[] pcm) throws IOException;
}
