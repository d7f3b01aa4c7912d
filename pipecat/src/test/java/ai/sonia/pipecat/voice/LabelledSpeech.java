package ai.sonia.pipecat.voice;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A labelled voice set made at run time: sentences a user says to an assistant, spoken by espeak-ng in several
 * voices and speeds, clean and with background noise mixed in by sox; and the word error rate of a transcript.
 * For {@code scripts/bench-voice}.
 */
public final class LabelledSpeech {

    /** What users say: commands, questions, and facts about themselves that they later ask about. */
    public static final List<String> SENTENCES = List.of(
            "my favourite colour is green", "what is the weather today", "remind me to call my sister tomorrow",
            "what is my favourite colour", "set a timer for ten minutes", "play some music in the kitchen",
            "how far is the airport from here", "turn off the lights in the bedroom",
            "what time is my meeting on monday", "add milk and eggs to the shopping list",
            "my sister lives in lisbon", "where does my sister live");

    /** espeak-ng voice and words per minute. */
    public record Voice(String name, int wordsPerMinute) {
        @Override
        public String toString() {
            return name + "@" + wordsPerMinute;
        }
    }

    public static final List<Voice> VOICES = List.of(new Voice("en-us+m3", 150), new Voice("en-us+f3", 175),
                                                     new Voice("en+m1", 130), new Voice("en-us+m7", 160));

    /** One labelled utterance: 16 kHz mono PCM16 and what was said. */
    public record Utterance(String text, Voice voice, boolean noisy, byte[] pcm) {}

    /** The first {@code sentences} sentences in the first {@code voices} voices, clean and noisy. */
    public static List<Utterance> make(int sentences, int voices, Path workDir) throws IOException {
        Files.createDirectories(workDir);
        final List<Utterance> set = new ArrayList<>();
        for (Voice voice : VOICES.subList(0, Math.min(voices, VOICES.size()))) {
            for (String text : SENTENCES.subList(0, Math.min(sentences, SENTENCES.size()))) {
                final byte[] clean = speak(text, voice);
                set.add(new Utterance(text, voice, false, clean));
                set.add(new Utterance(text, voice, true, noisy(clean, workDir)));
            }
        }
        return set;
    }

    /** PCM of {@code text} in {@code voice}, made by espeak-ng, resampled by sox. */
    public static byte[] speak(String text, Voice voice) throws IOException {
        return run(List.of("sh", "-c", "espeak-ng -v \"$1\" -s \"$2\" --stdout \"$3\" | sox -t wav - -t raw -r 16000 "
                                       + "-c 1 -b 16 -e signed-integer -L -",
                           "speak", voice.name(), String.valueOf(voice.wordsPerMinute()), text));
    }

    // Brown noise about 25 dB under the speech (a fan, a street through a window), mixed by sox.
    private static byte[] noisy(byte[] clean, Path workDir) throws IOException {
        final Path speech = Files.createTempFile(workDir, "speech-", ".raw");
        try {
            Files.write(speech, clean);
            final String raw = "-t raw -r 16000 -c 1 -b 16 -e signed-integer -L";
            final double seconds = clean.length / 2 / 16000.0;
            return run(List.of("bash", "-c", "sox -m " + raw + " \"$1\" " + raw + " <(sox -n " + raw + " - synth "
                                             + String.format(Locale.ROOT, "%.2f", seconds)
                                             + " brownnoise vol 0.03) " + raw + " -",
                               "mix", speech.toString()));
        } finally {
            Files.deleteIfExists(speech);
        }
    }

    /** Word error rate: word edits (substitutions, insertions, deletions) per reference word. */
    public static int wordErrors(String reference, String hypothesis) {
        final String[] ref = words(reference);
        final String[] hyp = words(hypothesis);
        final int[][] d = new int[ref.length + 1][hyp.length + 1];
        for (int i = 0; i <= ref.length; i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= hyp.length; j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= ref.length; i++) {
            for (int j = 1; j <= hyp.length; j++) {
                final int cost = ref[i - 1].equals(hyp[j - 1]) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
            }
        }
        return d[ref.length][hyp.length];
    }

    /**
     * Lower-case words, British spellings as the US dictionary writes them (the recognizer can only write
     * "color"; counting that as an error would measure spelling, not hearing).
     */
    public static String[] words(String text) {
        final String normal = text.toLowerCase(Locale.ROOT).replace("favourite", "favorite")
                                  .replace("colour", "color").replaceAll("[^a-z' ]", " ").strip();
        return normal.isEmpty() ? new String[0] : normal.split("\\s+");
    }

    /** Index just past the last voiced 20 ms frame: where the speech of {@code pcm} ends. */
    public static int speechEnd(byte[] pcm) {
        int end = 0;
        for (int offset = 0; offset + EnergyVad.FRAME_BYTES <= pcm.length; offset += EnergyVad.FRAME_BYTES) {
            if (EnergyVad.dbfs(Arrays.copyOfRange(pcm, offset, offset + EnergyVad.FRAME_BYTES)) > -40) {
                end = offset + EnergyVad.FRAME_BYTES;
            }
        }
        return end;
    }

    static byte[] run(List<String> command) throws IOException {
        final Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        process.getOutputStream().close();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            in.transferTo(out);
        }
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(command + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out.toByteArray();
    }

    private LabelledSpeech() {}
}
