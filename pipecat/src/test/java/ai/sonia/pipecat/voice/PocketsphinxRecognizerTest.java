package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streaming recognizer with the session's VAD in front, as the pipeline uses them: speech fed in 20 ms
 * frames as it is spoken, a transcript per utterance soon after the VAD's stop, one process for the session.
 */
class PocketsphinxRecognizerTest {

    @BeforeEach
    void needsTheEngines() {
        assumeFalse("1".equals(System.getenv("SONIA_TESTS_WITHOUT_VOICE")),
                    "voice engine off: espeak-ng, sox or pocketsphinx is not installed and the test command could "
                    + "not install it (sudo apt-get install espeak-ng sox pocketsphinx pocketsphinx-en-us)");
    }

    @Test
    void eachUtteranceOfASessionIsRecognizedByOneLongLivedProcess() throws Exception {
        final List<String> said = List.of("what is the weather today", "play some music in the kitchen",
                                          "what is the weather today");
        final List<String> heard = new ArrayList<>();
        final List<Double> latencies = new ArrayList<>();
        try (SpeechRecognizer.Listening listening = new PocketsphinxRecognizer().listen()) {
            final EnergyVad vad = EnergyVad.defaults();
            for (String text : said) {
                final byte[] audio = padded(speech(text));
                for (int offset = 0; offset < audio.length; offset += EnergyVad.FRAME_BYTES) {
                    vad.accept(Arrays.copyOfRange(audio, offset, offset + EnergyVad.FRAME_BYTES),
                               new EnergyVad.Listener() {
                                   @Override
                                   public void onStart(byte[] preroll) {
                                       listening.speech(preroll);
                                   }

                                   @Override
                                   public void onSpeech(byte[] frame) {
                                       listening.speech(frame);
                                   }

                                   @Override
                                   public void onStop() {
                                       final long stop = System.nanoTime();
                                       heard.add(listening.end().orTimeout(10, TimeUnit.SECONDS).join());
                                       latencies.add((System.nanoTime() - stop) / 1e6);
                                   }
                               });
                    Thread.sleep(5); // faster than real time, slow enough for the decoder to keep up
                }
            }
        }
        System.out.println("streaming recognizer: heard " + heard + ", ms after the VAD stop " + latencies);
        // One transcript per utterance, in order. espeak-ng's voice is far from the model's speakers, so the
        // words are not all right (scripts/bench-voice measures how many): the content word comes through.
        assertThat(heard).hasSize(3);
        assertThat(heard.get(0)).contains("weather");
        assertThat(heard.get(2)).contains("weather");
    }

    private static byte[] padded(byte[] pcm) {
        final byte[] out = new byte[pcm.length + 2 * EnergyVad.SAMPLE_RATE * 2];
        System.arraycopy(pcm, 0, out, EnergyVad.SAMPLE_RATE / 2 * 2, pcm.length);
        return out;
    }

    /** 16 kHz mono PCM16 of {@code text}, made by espeak-ng and sox. */
    static byte[] speech(String text) throws Exception {
        final Process process = new ProcessBuilder(
                "sh", "-c", "espeak-ng -v en-us+m3 -s 150 --stdout \"$1\" | sox -t wav - -t raw -r 16000 -c 1 -b 16"
                            + " -e signed-integer -L -", "speech", text).start();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            in.transferTo(out);
        }
        assertThat(process.waitFor()).as("espeak-ng and sox must be installed").isZero();
        return out.toByteArray();
    }
}
