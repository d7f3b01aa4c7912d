package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import ai.sonia.runtime.OwnerOnlyFiles;

/**
 * Debian's pocketsphinx ({@code pocketsphinx_continuous} with {@code pocketsphinx-en-us}): the utterance,
 * padded with silence so the recognizer's normalization settles, is written to a WAV file and decoded
 * by one process.
 */
public final class PocketsphinxRecognizer implements SpeechRecognizer {

    static final String BINARY = "pocketsphinx_continuous";
    static final Path MODEL = Path.of("/usr/share/pocketsphinx/model/en-us");

    private final Path workDir;

    public PocketsphinxRecognizer(Path workDir) {
        this.workDir = workDir;
    }

    /** Whether the binary and the US English model are installed. */
    static boolean installed() {
        return Processes.onPath(BINARY) && Files.isDirectory(MODEL.resolve("en-us"));
    }

    @Override
    public String recognize(byte[] pcm) throws IOException {
        OwnerOnlyFiles.directory(workDir);
        final Path wav = Files.createTempFile(workDir, "utterance-", ".wav");
        try {
            final byte[] silence = new byte[EnergyVad.SAMPLE_RATE / 2 * 2];
            final byte[] padded = new byte[pcm.length + 2 * silence.length];
            System.arraycopy(pcm, 0, padded, silence.length, pcm.length);
            Files.write(wav, Wav.of(padded, EnergyVad.SAMPLE_RATE));
            final byte[] out = Processes.run(List.of(BINARY, "-infile", wav.toString(), "-logfn", "/dev/null",
                                                     "-hmm", MODEL.resolve("en-us").toString(),
                                                     "-lm", MODEL.resolve("en-us.lm.bin").toString(),
                                                     "-dict", MODEL.resolve("cmudict-en-us.dict").toString()),
                                             new byte[0], 60);
            return String.join(" ", new String(out, StandardCharsets.UTF_8).strip().split("\\s+")).strip();
        } finally {
            Files.deleteIfExists(wav);
        }
    }
}
