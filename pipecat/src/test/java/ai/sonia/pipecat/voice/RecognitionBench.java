package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Word error rate of recognizer configurations on a labelled set, for {@code scripts/bench-voice}: the
 * previous way (one process per utterance on a WAV file padded with silence) and the streaming recognizer
 * (one process per speaker, fed through the session's VAD frame by frame), with its options varied.
 */
public final class RecognitionBench {

    /** Prints one line per configuration: WER overall, clean, noisy, and per voice. */
    public static void run(List<LabelledSpeech.Utterance> set, Path workDir, boolean verbose) throws Exception {
        final Map<String, Recognize> configurations = new LinkedHashMap<>();
        configurations.put("per-utterance process (before)", utterances -> perUtterance(utterances, workDir));
        configurations.put("streaming, default options (after)",
                           utterances -> streaming(utterances, PocketsphinxRecognizer.DEFAULT_OPTIONS));
        final List<String> wide = new ArrayList<>(PocketsphinxRecognizer.DEFAULT_OPTIONS);
        wide.addAll(List.of("-beam", "1e-80", "-wbeam", "1e-60", "-pbeam", "1e-80"));
        configurations.put("streaming, wider beams", utterances -> streaming(utterances, wide));
        configurations.put("streaming, endpointer 150 ms",
                           utterances -> streaming(utterances, List.of("-vad_postspeech", "15")));
        for (Map.Entry<String, Recognize> configuration : configurations.entrySet()) {
            final Map<String, int[]> errors = new LinkedHashMap<>();
            // One speaker's utterances go to one recognizer in a row, as one session's would.
            for (LabelledSpeech.Voice voice : LabelledSpeech.VOICES) {
                final List<LabelledSpeech.Utterance> spoken = set.stream().filter(u -> u.voice().equals(voice))
                                                                 .toList();
                if (spoken.isEmpty()) {
                    continue;
                }
                final List<String> heard = configuration.getValue().apply(spoken);
                for (int i = 0; i < spoken.size(); i++) {
                    final LabelledSpeech.Utterance u = spoken.get(i);
                    final int wrong = LabelledSpeech.wordErrors(u.text(), heard.get(i));
                    final int words = LabelledSpeech.words(u.text()).length;
                    for (String key : List.of("all", u.noisy() ? "noisy" : "clean", voice.toString())) {
                        final int[] sum = errors.computeIfAbsent(key, k -> new int[2]);
                        sum[0] += wrong;
                        sum[1] += words;
                    }
                    if (verbose) {
                        System.out.printf("   %-12s %-5s said '%s' heard '%s'%n", voice, u.noisy() ? "noisy" : "clean",
                                          u.text(), heard.get(i));
                    }
                }
            }
            final StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "WER %-36s", configuration.getKey()));
            errors.forEach((key, sum) -> line.append(String.format(Locale.ROOT, " %s=%.2f", key,
                                                                   (double) sum[0] / sum[1])));
            System.out.println(line);
        }
    }

    interface Recognize {
        List<String> apply(List<LabelledSpeech.Utterance> utterances) throws Exception;
    }

    // Fed through the VAD as a session's audio is, a little faster than real time (the decoder keeps up).
    static List<String> streaming(List<LabelledSpeech.Utterance> utterances, List<String> options) throws Exception {
        final List<String> heard = new ArrayList<>();
        try (SpeechRecognizer.Listening listening = new PocketsphinxRecognizer(options).listen()) {
            final EnergyVad vad = EnergyVad.defaults();
            for (LabelledSpeech.Utterance u : utterances) {
                final byte[] audio = new byte[u.pcm().length + 2 * EnergyVad.SAMPLE_RATE * 2];
                System.arraycopy(u.pcm(), 0, audio, EnergyVad.SAMPLE_RATE / 2 * 2, u.pcm().length);
                final List<String> said = new ArrayList<>();
                for (int offset = 0; offset + EnergyVad.FRAME_BYTES <= audio.length; offset += EnergyVad.FRAME_BYTES) {
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
                                       said.add(listening.end().orTimeout(10, TimeUnit.SECONDS).join());
                                   }
                               });
                    Thread.sleep(5);
                }
                heard.add(String.join(" ", said));
            }
        }
        return heard;
    }

    // The previous recognizer: each utterance padded with half a second of silence, one process per WAV file.
    static List<String> perUtterance(List<LabelledSpeech.Utterance> utterances, Path workDir) throws IOException {
        final List<String> heard = new ArrayList<>();
        final Path model = PocketsphinxRecognizer.MODEL;
        for (LabelledSpeech.Utterance u : utterances) {
            final Path raw = Files.createTempFile(workDir, "utterance-", ".raw");
            final Path wav = workDir.resolve(raw.getFileName() + ".wav");
            try {
                Files.write(raw, u.pcm());
                LabelledSpeech.run(List.of("sox", "-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e",
                                           "signed-integer", "-L", raw.toString(), wav.toString(), "pad", "0.5", "0.5"));
                final byte[] out = LabelledSpeech.run(List.of(
                        PocketsphinxRecognizer.BINARY, "-infile", wav.toString(), "-logfn", "/dev/null",
                        "-hmm", model.resolve("en-us").toString(), "-lm", model.resolve("en-us.lm.bin").toString(),
                        "-dict", model.resolve("cmudict-en-us.dict").toString()));
                heard.add(String.join(" ", new String(out, java.nio.charset.StandardCharsets.UTF_8).strip()
                                                                                                 .split("\\s+")).strip());
            } finally {
                Files.deleteIfExists(raw);
                Files.deleteIfExists(wav);
            }
        }
        return heard;
    }

    private RecognitionBench() {}
}
