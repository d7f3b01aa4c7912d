package ai.sonia.pipecat.voice;

import java.io.IOException;

/** Turns text into speech (16 kHz mono PCM16). Pluggable: espeak-ng is the local default. */
public interface SpeechSynthesizer {

    /** The audio of {@code text}. */
    byte[] synthesize(String text) throws IOException;
}
