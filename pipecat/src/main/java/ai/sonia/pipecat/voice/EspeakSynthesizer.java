package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** espeak-ng: text on stdin (never on the command line), a WAV on stdout, resampled to 16 kHz. */
public final class EspeakSynthesizer implements SpeechSynthesizer {

    static final String BINARY = "espeak-ng";

    private final String voice;

    public EspeakSynthesizer(String voice) {
        this.voice = voice;
    }

    static boolean installed() {
        return Processes.onPath(BINARY);
    }

    @Override
    public byte[] synthesize(String text) throws IOException {
        final byte[] wav = Processes.run(List.of(BINARY, "-v", voice, "--stdout"),
                                         text.getBytes(StandardCharsets.UTF_8), 30);
        final Wav.Pcm pcm = Wav.read(wav);
        return Resampler.resample(pcm.samples(), pcm.sampleRate(), EnergyVad.SAMPLE_RATE);
    }
}
