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
 * previous way (one process per utterance on a WAV file padded with silence), the streaming recognizer (one
 * process per speaker, fed through the session's VAD frame by frame) with its options varied, and libpocketsphinx
 * in process (one decoder per speaker, fed the same way).
 */
public final class RecognitionBench {

    private static final Map<String, List<String>> CONTEXT = new java.util.HashMap<>();

    /** Prints one line per configuration: WER overall, clean, noisy, and per voice. */
    public static void run(List<LabelledSpeech.Utterance> set, Path workDir, boolean verbose) throws Exception {
        final Map<String, Recognize> configurations = new LinkedHashMap<>();
        configurations.put("per-utterance process (before)", utterances -> perUtterance(utterances, workDir));
        configurations.put("streaming, default options (after)",
                           utterances -> streaming(utterances, PocketsphinxRecognizer.DEFAULT_OPTIONS));
        // libpocketsphinx in process: a new decoder per speaker (none kept idle), as the process is new per session.
        configurations.put("library, in process",
                           utterances -> streaming(utterances, new PocketsphinxLibraryRecognizer(List.of(), 30_000, 0),
                                                   EnergyVad.defaults(), null, 5));
        configurations.put("library, first pass only",
                           utterances -> streaming(utterances, new PocketsphinxLibraryRecognizer(
                                   List.of("-fwdflat", "no", "-bestpath", "no"), 30_000, 0), EnergyVad.defaults(), null, 5));
        final List<String> wide = new ArrayList<>(PocketsphinxRecognizer.DEFAULT_OPTIONS);
        wide.addAll(List.of("-beam", "1e-80", "-wbeam", "1e-60", "-pbeam", "1e-80"));
        configurations.put("streaming, wider beams", utterances -> streaming(utterances, wide));
        configurations.put("streaming, endpointer 150 ms",
                           utterances -> streaming(utterances, List.of("-vad_postspeech", "15")));
        // Vocabulary biased toward the conversation: a language model of what was said in it. "whole" knows
        // every sentence of the set (a user repeating or asking about what is in memory), "half" only every
        // other one, so the rest shows what the bias costs on words the context does not hold.
        for (String part : List.of("whole", "half")) {
            final List<String> sentences = new ArrayList<>();
            for (int i = 0; i < LabelledSpeech.SENTENCES.size(); i += part.equals("whole") ? 1 : 2) {
                sentences.add(LabelledSpeech.SENTENCES.get(i));
            }
            final Path lm = workDir.resolve("context-" + part + ".arpa");
            Files.writeString(lm, ContextLanguageModel.arpa(sentences, PocketsphinxRecognizer.dictionary()::contains));
            final List<String> options = new ArrayList<>(PocketsphinxRecognizer.DEFAULT_OPTIONS);
            options.addAll(List.of("-lm", lm.toString()));
            configurations.put("context LM (" + part + " conversation)", utterances -> streaming(utterances, options));
            CONTEXT.put("context LM (" + part + " conversation)", sentences);
            // The library with the session's context interpolated with the general model (what a session does).
            for (String weight : System.getenv().getOrDefault("CONTEXT_WEIGHTS", "0.5").split(",")) {
                final String name = "library, context " + weight.strip() + " (" + part + ")";
                final double w = Double.parseDouble(weight.strip());
                configurations.put(name, utterances -> streaming(
                        utterances, withContext(new PocketsphinxLibraryRecognizer(List.of(), 30_000, 0, w), sentences),
                        EnergyVad.defaults(), null, 5));
                CONTEXT.put(name, sentences);
            }
        }
        final String only = System.getenv("WER_CONFIGS"); // a comma-separated subset, by name prefix
        if (only != null && !only.isBlank()) {
            configurations.keySet().removeIf(name -> java.util.Arrays.stream(only.split(","))
                                                                      .noneMatch(p -> name.startsWith(p.strip())));
        }
        final com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (Map.Entry<String, Recognize> configuration : configurations.entrySet()) {
            final Map<String, int[]> errors = new LinkedHashMap<>();
            // CPU of this JVM (the in-process decoders, the VAD, the feeding) over the configuration's audio.
            final long cpuBefore = os.getProcessCpuTime();
            double audioSeconds = 0;
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
                    audioSeconds += u.pcm().length / 2.0 / EnergyVad.SAMPLE_RATE;
                    final int wrong = LabelledSpeech.wordErrors(u.text(), heard.get(i));
                    final int words = LabelledSpeech.words(u.text()).length;
                    final List<String> keys = new ArrayList<>(List.of("all", u.noisy() ? "noisy" : "clean",
                                                                      voice.toString()));
                    final List<String> context = CONTEXT.get(configuration.getKey());
                    if (context != null) {
                        keys.add(context.contains(u.text()) ? "in-context" : "out-of-context");
                    }
                    for (String key : keys) {
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
            // Only in-process recognizers count here (a process's CPU is its own).
            line.append(String.format(Locale.ROOT, " jvm_cpu_per_audio_second=%.2f",
                                      (os.getProcessCpuTime() - cpuBefore) / 1e9 / audioSeconds));
            System.out.println(line);
        }
    }

    // Each session's recognizer is told the context before its first utterance.
    private static SpeechRecognizer withContext(SpeechRecognizer recognizer, List<String> sentences) {
        return () -> {
            final SpeechRecognizer.Listening listening = recognizer.listen();
            listening.context(sentences);
            return listening;
        };
    }

    interface Recognize {
        List<String> apply(List<LabelledSpeech.Utterance> utterances) throws Exception;
    }

    // Fed through the VAD as a session's audio is, a little faster than real time (the decoder keeps up).
    static List<String> streaming(List<LabelledSpeech.Utterance> utterances, List<String> options) throws Exception {
        return streaming(utterances, new PocketsphinxRecognizer(options, 10_000), EnergyVad.defaults(), null, 5);
    }

    /**
     * Also counts, in {@code cuts}, the utterances the VAD ended more than once (cut mid-sentence); each 20 ms
     * frame is followed by a sleep of {@code frameSleepMillis} (20: real time, as endpointing needs).
     */
    static List<String> streaming(List<LabelledSpeech.Utterance> utterances, SpeechRecognizer recognizer, EnergyVad vad,
                                  int[] cuts, long frameSleepMillis) throws Exception {
        final List<String> heard = new ArrayList<>();
        try (SpeechRecognizer.Listening listening = recognizer.listen()) {
            for (LabelledSpeech.Utterance u : utterances) {
                final byte[] audio = new byte[u.pcm().length + 2 * EnergyVad.SAMPLE_RATE * 2];
                System.arraycopy(u.pcm(), 0, audio, EnergyVad.SAMPLE_RATE / 2 * 2, u.pcm().length);
                final List<String> said = new ArrayList<>();
                for (int offset = 0; offset + EnergyVad.FRAME_BYTES <= audio.length; offset += EnergyVad.FRAME_BYTES) {
                    vad.accept(Arrays.copyOfRange(audio, offset, offset + EnergyVad.FRAME_BYTES),
                               new EnergyVad.Feeding(listening) {
                                   @Override
                                   public void onStart(byte[] preroll) {
                                       listening.speech(preroll);
                                   }

                                   @Override
                                   public void onStop() {
                                       said.add(listening.end().orTimeout(30, TimeUnit.SECONDS).join());
                                   }
                               });
                    Thread.sleep(frameSleepMillis);
                }
                if (cuts != null && said.size() > 1) {
                    cuts[0]++;
                }
                heard.add(String.join(" ", said));
            }
        }
        return heard;
    }

    /** Sentences said with a pause of {@code pauseMillis} at the bar: mid-sentence, or after a complete phrase. */
    static final List<String> PAUSED = List.of("remind me to call my | sister tomorrow", "set a timer for | ten minutes",
                                               "add milk and | eggs to the shopping list",
                                               "what time is my meeting on | monday", "turn off the lights | in the bedroom",
                                               "play some music | in the kitchen");

    /**
     * Endpointing: of utterances with a pause inside, how many the VAD cut in two, and their word error rate,
     * for a fixed hangover and the adaptive one.
     */
    public static void endpointing(int sentences, int voices, int pauseMillis, boolean verbose) throws Exception {
        final List<LabelledSpeech.Utterance> paused = new ArrayList<>();
        for (LabelledSpeech.Voice voice : LabelledSpeech.VOICES.subList(0, Math.min(voices, LabelledSpeech.VOICES.size()))) {
            for (String sentence : PAUSED.subList(0, Math.min(sentences, PAUSED.size()))) {
                final String[] parts = sentence.split(" \\| ");
                final byte[] first = LabelledSpeech.speak(parts[0], voice);
                final byte[] second = LabelledSpeech.speak(parts[1], voice);
                final int gap = (EnergyVad.SAMPLE_RATE * pauseMillis / 1000) * 2;
                final byte[] pcm = new byte[first.length + gap + second.length];
                System.arraycopy(first, 0, pcm, 0, first.length);
                System.arraycopy(second, 0, pcm, first.length + gap, second.length);
                paused.add(new LabelledSpeech.Utterance(parts[0] + " " + parts[1], voice, false, pcm));
            }
        }
        final Map<String, long[]> hangovers = new LinkedHashMap<>();
        hangovers.put("fixed 400 ms", new long[] { 400, 400 });
        hangovers.put("adaptive 200/700 ms", new long[] { 200, 700 });
        for (Map.Entry<String, long[]> h : hangovers.entrySet()) {
            final int[] cuts = new int[1];
            int wrong = 0;
            int words = 0;
            for (LabelledSpeech.Voice voice : LabelledSpeech.VOICES) {
                final List<LabelledSpeech.Utterance> spoken = paused.stream().filter(u -> u.voice().equals(voice)).toList();
                if (spoken.isEmpty()) {
                    continue;
                }
                final List<String> heard = streaming(spoken, new PocketsphinxRecognizer(PocketsphinxRecognizer.DEFAULT_OPTIONS,
                                                                                        10_000),
                                                     EnergyVad.of(h.getValue()[0], h.getValue()[1]), cuts, 20);
                for (int i = 0; i < spoken.size(); i++) {
                    wrong += LabelledSpeech.wordErrors(spoken.get(i).text(), heard.get(i));
                    words += LabelledSpeech.words(spoken.get(i).text()).length;
                    if (verbose) {
                        System.out.printf("   %-12s said '%s' heard '%s'%n", voice, spoken.get(i).text(), heard.get(i));
                    }
                }
            }
            System.out.printf(Locale.ROOT, "endpointing %-20s %d ms pause inside: %d of %d utterances cut, WER %.2f%n",
                              h.getKey(), pauseMillis, cuts[0], paused.size(), (double) wrong / words);
        }
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
