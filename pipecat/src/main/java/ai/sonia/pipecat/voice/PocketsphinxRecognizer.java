package ai.sonia.pipecat.voice;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.sonia.runtime.Threads;

/**
 * Debian's pocketsphinx ({@code pocketsphinx_continuous} 0.8+5prealpha with {@code pocketsphinx-en-us}) as
 * one long-lived process per session, fed raw PCM on stdin as the user speaks ({@code -infile /dev/stdin}).
 * The process decodes while the user talks, so the words are ready when speech ends, and its cepstral
 * normalization adapts to the speaker across the session instead of starting cold on every utterance (the
 * main cause of the first words being lost). This version prints no partial hypotheses, only each segment's
 * words once its own endpointer closes it ({@code -time yes} prints the segment's words with times on the
 * stream's clock, ending with {@code </s>}).
 *
 * <p>A segment can end before the utterance does (a pause mid-sentence): segments are joined until one ends
 * at or after the utterance's last voiced frame. When the session's VAD says speech stopped before the
 * process's endpointer did, a second of quiet is fed at once (decoded faster than real time) to close it.
 */
public final class PocketsphinxRecognizer implements SpeechRecognizer {

    static final String BINARY = "pocketsphinx_continuous";
    static final Path MODEL = Path.of("/usr/share/pocketsphinx/model/en-us");
    /** The endpointer's silence, in 10 ms frames: short, since the session's VAD decides when a turn ends. */
    static final List<String> DEFAULT_OPTIONS = List.of("-vad_postspeech", "25");

    private static final Pattern WORD_TIME = Pattern.compile("^(\\S+) (\\d+\\.\\d+) (\\d+\\.\\d+) (-?\\d+\\.\\d+)$");
    private static final int RATE = EnergyVad.SAMPLE_RATE;
    // A segment ending this close before the last voiced frame still ends the utterance: the two endpointers
    // disagree by a few frames about where speech stopped; a pause that splits a sentence ends far earlier.
    private static final long TOLERANCE_SAMPLES = RATE / 10;
    private static final long RESULT_TIMEOUT_MILLIS = 2000;

    private final List<String> options;
    private final long resultTimeoutMillis;

    public PocketsphinxRecognizer() {
        this(DEFAULT_OPTIONS, RESULT_TIMEOUT_MILLIS);
    }

    /**
     * With pocketsphinx options of its own ({@code -lm} replaces the model) and a longer wait for a result:
     * benchmarks compare configurations' words, and on a loaded machine the decoder lags.
     */
    public PocketsphinxRecognizer(List<String> options, long resultTimeoutMillis) {
        this.options = List.copyOf(options);
        this.resultTimeoutMillis = resultTimeoutMillis;
    }

    /** The words of the pronunciation dictionary (read once, on first use). */
    static java.util.Set<String> dictionary() {
        return Dictionary.WORDS;
    }

    private static final class Dictionary {
        static final java.util.Set<String> WORDS = read();

        private static java.util.Set<String> read() {
            try (java.util.stream.Stream<String> lines = Files.lines(MODEL.resolve("cmudict-en-us.dict"))) {
                return lines.map(line -> line.substring(0, Math.max(0, line.indexOf(' '))))
                            .filter(word -> !word.contains("(")).collect(java.util.stream.Collectors.toSet());
            } catch (IOException e) {
                return java.util.Set.of();
            }
        }
    }

    /** Whether the binary and the US English model are installed. */
    static boolean installed() {
        return Processes.onPath(BINARY) && Files.isDirectory(MODEL.resolve("en-us"));
    }

    @Override
    public Listening listen() throws IOException {
        final List<String> command = new ArrayList<>(List.of(
                BINARY, "-infile", "/dev/stdin", "-logfn", "/dev/null", "-time", "yes",
                "-hmm", MODEL.resolve("en-us").toString(), "-dict", MODEL.resolve("cmudict-en-us.dict").toString()));
        if (!options.contains("-lm")) {
            command.addAll(List.of("-lm", MODEL.resolve("en-us.lm.bin").toString()));
        }
        command.addAll(options);
        return new Stream(command, resultTimeoutMillis);
    }

    /** One process and what it has been fed. */
    static final class Stream implements Listening {
        private final List<String> command;
        private final long resultTimeoutMillis;
        private Process process;
        private OutputStream stdin;
        // On the stream's clock (samples fed): where the last voiced frame of the current utterance ends.
        private long fed;
        private long lastVoiced;
        private boolean speaking;
        // Guarded by this: segments heard since the last result, the utterances waiting for theirs.
        private final StringBuilder heard = new StringBuilder();
        private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
        private long lastSegmentEnd = -1;

        Stream(List<String> command, long resultTimeoutMillis) throws IOException {
            this.command = command;
            this.resultTimeoutMillis = resultTimeoutMillis;
            start();
        }

        private void start() throws IOException {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            stdin = process.getOutputStream();
            fed = 0;
            lastSegmentEnd = -1;
            final Process mine = process;
            Threads.factory("pocketsphinx").newThread(() -> read(mine)).start();
        }

        @Override
        public void speech(byte[] pcm) {
            if (!speaking) {
                speaking = true;
                if (!process.isAlive()) {
                    try {
                        start();
                    } catch (IOException e) {
                        return; // end() reports it
                    }
                }
            }
            for (int offset = 0; offset + EnergyVad.FRAME_BYTES <= pcm.length; offset += EnergyVad.FRAME_BYTES) {
                final byte[] frame = java.util.Arrays.copyOfRange(pcm, offset, offset + EnergyVad.FRAME_BYTES);
                if (EnergyVad.dbfs(frame) > -40) {
                    lastVoiced = fed + (offset + EnergyVad.FRAME_BYTES) / 2;
                }
            }
            write(pcm);
        }

        // Half a second of quiet closes the process's segment at once (its endpointer needs 250 ms).
        @Override
        public void pause() {
            write(quiet(RATE / 2));
        }

        @Override
        public synchronized boolean phraseComplete() {
            return waiting.isEmpty() && lastSegmentEnd >= lastVoiced - TOLERANCE_SAMPLES && heard.length() > 0
                   && Phrases.complete(heard);
        }

        @Override
        public CompletableFuture<String> end() {
            speaking = false;
            final Waiting result = new Waiting(lastVoiced);
            final boolean ready;
            synchronized (this) {
                ready = waiting.isEmpty() && lastSegmentEnd >= lastVoiced - TOLERANCE_SAMPLES;
                if (ready) {
                    result.future.complete(take());
                } else {
                    waiting.addLast(result);
                }
            }
            if (!ready) {
                write(quiet(RATE)); // closes the process's segment at once
            }
            // No closing segment (the endpointer never heard speech in it): what was heard, if anything.
            return result.future.orTimeout(resultTimeoutMillis, TimeUnit.MILLISECONDS)
                                .exceptionallyCompose(e -> {
                                    if (!(e instanceof TimeoutException) || !process.isAlive()) {
                                        return CompletableFuture.failedFuture(new IOException(
                                                BINARY + " gave no result: " + e.getMessage(), e));
                                    }
                                    synchronized (this) {
                                        waiting.remove(result);
                                        return CompletableFuture.completedFuture(take());
                                    }
                                });
        }

        @Override
        public void close() {
            try {
                stdin.close();
            } catch (IOException ignored) {
                // The process is going anyway.
            }
            process.destroy();
        }

        private void write(byte[] pcm) {
            try {
                stdin.write(pcm);
                stdin.flush();
                fed += pcm.length / 2;
            } catch (IOException e) {
                process.destroy(); // the waiting utterance fails; the next one starts a new process
            }
        }

        private void read(Process mine) {
            final StringBuilder segment = new StringBuilder();
            String hypothesis = "";
            try (BufferedReader out = new BufferedReader(new InputStreamReader(mine.getInputStream(),
                                                                               StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    final Matcher word = WORD_TIME.matcher(line);
                    if (!word.matches()) {
                        hypothesis = line.strip();
                        continue;
                    }
                    if (word.group(1).equals("</s>")) {
                        segment(hypothesis, (long) (Double.parseDouble(word.group(3)) * RATE));
                        hypothesis = "";
                    }
                }
            } catch (IOException e) {
                // The process ended.
            }
            synchronized (this) {
                waiting.forEach(w -> w.future.completeExceptionally(new IOException(BINARY + " ended")));
                waiting.clear();
            }
        }

        private synchronized void segment(String words, long endSample) {
            if (!words.isEmpty()) {
                heard.append(heard.length() == 0 ? "" : " ").append(words);
            }
            lastSegmentEnd = endSample;
            final Waiting first = waiting.peekFirst();
            if (first != null && endSample >= first.lastVoiced - TOLERANCE_SAMPLES) {
                waiting.removeFirst().future.complete(take());
            }
        }

        private String take() {
            final String text = heard.toString();
            heard.setLength(0);
            return text;
        }

        // Near-silence (a little noise: an all-zero signal upsets the process's energy normalization).
        private static byte[] quiet(int samples) {
            final byte[] pcm = new byte[samples * 2];
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < samples; i++) {
                final int value = random.nextInt(-3, 4);
                pcm[2 * i] = (byte) value;
                pcm[2 * i + 1] = (byte) (value >> 8);
            }
            return pcm;
        }
    }

    /** An utterance waiting for the segment that ends at or after its last voiced sample. */
    private static final class Waiting {
        final long lastVoiced;
        final CompletableFuture<String> future = new CompletableFuture<>();

        Waiting(long lastVoiced) {
            this.lastVoiced = lastVoiced;
        }
    }
}
