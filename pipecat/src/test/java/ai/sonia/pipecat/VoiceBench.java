package ai.sonia.pipecat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.TurnMetrics;
import ai.sonia.pipecat.voice.LabelledSpeech;
import ai.sonia.pipecat.voice.RecognitionBench;

/**
 * {@code scripts/bench-voice}: word error rate per recognizer configuration on a labelled espeak-ng set, end of
 * speech → first audio over a real voice session (speech streamed in real time as 20 ms frames over the
 * WebSocket, a stand-in assistant that answers at once), partial transcripts, and CPU per voice session with two
 * at a time, for each recognizer (the pocketsphinx process, libpocketsphinx in process) in the same run.
 * Arguments: sentences, voices, utterances per latency session.
 */
final class VoiceBench {

    // Word errors and words of the TRANSCRIPT events of the one-session run (the first turn left out: no context yet).
    private static final int[] TRANSCRIBED = new int[2];

    public static void main(String[] args) throws Exception {
        final int sentences = args.length > 0 ? Integer.parseInt(args[0]) : LabelledSpeech.SENTENCES.size();
        final int voices = args.length > 1 ? Integer.parseInt(args[1]) : LabelledSpeech.VOICES.size();
        final int turns = args.length > 2 ? Integer.parseInt(args[2]) : 12;
        final Path work = Path.of("pipecat/target/bench-voice");
        Files.createDirectories(work);
        final List<LabelledSpeech.Utterance> set = LabelledSpeech.make(sentences, voices, work);
        System.out.printf("== labelled set: %d utterances (%d sentences x %d voices x clean/noisy)%n", set.size(),
                          sentences, voices);
        RecognitionBench.run(set, work, "1".equals(System.getenv("VERBOSE")));

        if (turns == 0) {
            return; // word error rates only
        }
        if (!"0".equals(System.getenv("ENDPOINTING"))) {
            RecognitionBench.endpointing(sentences, voices, 500, "1".equals(System.getenv("VERBOSE")));
        }
        final List<LabelledSpeech.Utterance> clean = set.stream().filter(u -> !u.noisy()).toList();
        final List<LabelledSpeech.Utterance> spoken = new ArrayList<>();
        for (int i = 0; spoken.size() < turns; i++) {
            spoken.add(clean.get(i % clean.size()));
        }
        // Each recognizer in turn, same speech, same run: one session, then two at once with the CPU they take.
        // LATENCY_CONFIGS: engines, "library:0.3" for the library with that context weight (default: the config's).
        for (String config : System.getenv().getOrDefault("LATENCY_CONFIGS", "process,library").split(",")) {
            final String engine = config.strip().split(":")[0];
            final Map<String, String> env = new java.util.HashMap<>(Map.of("SONIA_PIPECAT_ASR_ENGINE", engine));
            if (config.contains(":")) {
                env.put("SONIA_PIPECAT_ASR_CONTEXT_WEIGHT", config.strip().split(":")[1]);
            }
            try (PipecatHarness pipecat = new PipecatHarness(env)) {
                // MEMORIES=1: each reply cites the user's memories (every sentence of the set) as its sources, as
                // the assistant's do: what the session's context model is built from. Spoken: "Okay, noted."
                pipecat.gateway.replyWith(text -> "1".equals(System.getenv("MEMORIES"))
                        ? "Okay, noted.\n\nSources:\n- " + String.join("\n- ", LabelledSpeech.SENTENCES.subList(0, sentences))
                        : "Okay, noted (memories/01HZX3K9QW).");
                TRANSCRIBED[0] = 0;
                TRANSCRIBED[1] = 0;
                System.out.printf("== end of speech -> first audio, recognizer %s: one voice session, %d turns in real "
                                  + "time%n", config, turns);
                report(talk(pipecat, spoken));
                System.out.printf(Locale.ROOT, "WER end to end (TRANSCRIPT events, every turn after the first): %.2f "
                                               + "(%d errors in %d words)%n",
                                  (double) TRANSCRIBED[0] / TRANSCRIBED[1], TRANSCRIBED[0], TRANSCRIBED[1]);

                System.out.printf("== recognizer %s: two concurrent voice sessions, %d turns each%n", config, turns);
                final long cpuBefore = cpuTicks();
                final long wallBefore = System.nanoTime();
                final ExecutorService two = Executors.newFixedThreadPool(2);
                final List<double[]> both;
                try {
                    final CompletableFuture<List<double[]>> a = CompletableFuture.supplyAsync(() -> talkUnchecked(pipecat, spoken), two);
                    final CompletableFuture<List<double[]>> b = CompletableFuture.supplyAsync(() -> talkUnchecked(pipecat, spoken), two);
                    both = new ArrayList<>(a.join());
                    both.addAll(b.join());
                } finally {
                    two.shutdownNow(); // a failed session must not keep the JVM alive
                }
                Thread.sleep(500); // the sessions' recognizer processes have exited and been reaped
                final double seconds = (System.nanoTime() - wallBefore) / 1e9;
                final double cpuSeconds = (cpuTicks() - cpuBefore) / 100.0;
                report(both);
                System.out.printf(Locale.ROOT, "CPU per voice session (%s): %.1f%% of one core (%.1f CPU s for 2 sessions "
                                               + "over %.1f s; server, recognizers, synthesizers and the bench's clients)%n",
                                  config, 100 * cpuSeconds / seconds / 2, cpuSeconds, seconds);
            }
        }
    }

    private static List<double[]> talkUnchecked(PipecatHarness pipecat, List<LabelledSpeech.Utterance> spoken) {
        try {
            return talk(pipecat, spoken);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Per turn: client-measured end of speech → first audio, and the server's end_of_speech_to_first_audio. */
    private static List<double[]> talk(PipecatHarness pipecat, List<LabelledSpeech.Utterance> spoken)
            throws Exception {
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        final List<double[]> figures = new ArrayList<>();
        final byte[] silence = new byte[EnergyFrames.BYTES];
        stream(client, new byte[EnergyFrames.BYTES * 25], -1); // half a second of room tone first
        for (LabelledSpeech.Utterance u : spoken) {
            final int metricsBefore = count(client, EventType.EVENT_TYPE_METRICS);
            final int eventsBefore = client.events.size();
            final byte[] audio = Arrays.copyOf(u.pcm(), u.pcm().length + EnergyFrames.BYTES * 50);
            final long speechEnded = stream(client, audio, LabelledSpeech.speechEnd(u.pcm()));
            // Room tone until the turn's METRICS (the reply has been spoken).
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (count(client, EventType.EVENT_TYPE_METRICS) == metricsBefore && System.nanoTime() < deadline) {
                stream(client, silence, -1);
            }
            double clientMillis = Double.NaN;
            double partials = 0;
            double firstPartialMillis = Double.NaN;
            TurnMetrics server = null;
            final StringBuilder transcript = new StringBuilder();
            for (int i = eventsBefore; i < client.events.size(); i++) {
                final SessionEvent e = client.events.get(i);
                if (e.getType() == EventType.EVENT_TYPE_TTS_AUDIO && Double.isNaN(clientMillis)) {
                    clientMillis = (client.arrivals.get(i) - speechEnded) / 1e6;
                }
                if (e.getType() == EventType.EVENT_TYPE_METRICS) {
                    server = e.getTurnMetrics();
                }
                if (e.getType() == EventType.EVENT_TYPE_TRANSCRIPT) {
                    transcript.append(' ').append(e.getText());
                }
                if (e.getType() == EventType.EVENT_TYPE_PARTIAL_TRANSCRIPT) {
                    partials++;
                    if (Double.isNaN(firstPartialMillis)) {
                        firstPartialMillis = (client.arrivals.get(i) - speechEnded) / 1e6;
                    }
                }
            }
            if (u != spoken.get(0)) {
                synchronized (TRANSCRIBED) {
                    TRANSCRIBED[0] += LabelledSpeech.wordErrors(u.text(), transcript.toString().strip());
                    TRANSCRIBED[1] += LabelledSpeech.words(u.text()).length;
                }
            }
            if (server != null && !Double.isNaN(clientMillis)) {
                figures.add(new double[] { clientMillis, server.getEndOfSpeechToFirstAudioMs(), server.getVadMs(),
                                           server.getAsrMs(), server.getFirstTokenMs(), server.getTtsMs(), partials,
                                           firstPartialMillis });
            }
        }
        client.close();
        return figures;
    }

    // Sends audio as 20 ms frames at real time; returns when the frame ending at byte `mark` was sent.
    private static long stream(WsClient client, byte[] audio, int mark) throws InterruptedException {
        long marked = System.nanoTime();
        final long start = System.nanoTime();
        for (int offset = 0, n = 0; offset < audio.length; offset += EnergyFrames.BYTES, n++) {
            final long due = start + n * 20_000_000L;
            final long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            client.sendAudio(Arrays.copyOfRange(audio, offset, Math.min(audio.length, offset + EnergyFrames.BYTES)));
            if (offset + EnergyFrames.BYTES == mark) {
                marked = System.nanoTime();
            }
        }
        return marked;
    }

    private static int count(WsClient client, EventType type) {
        return (int) client.events.stream().filter(e -> e.getType() == type).count();
    }

    private static void report(List<double[]> figures) {
        System.out.printf(Locale.ROOT, "turns answered: %d%n", figures.size());
        final String[] names = { "end of speech -> first audio (client)", "end_of_speech_to_first_audio_ms (server)",
                                 "vad_ms", "asr_ms", "first_token_ms", "tts_ms", "PARTIAL_TRANSCRIPT events per turn",
                                 "first partial, from end of speech (< 0: before)" };
        for (int k = 0; k < names.length; k++) {
            final List<Double> values = new ArrayList<>();
            for (double[] f : figures) {
                if (!Double.isNaN(f[k])) {
                    values.add(f[k]);
                }
            }
            Collections.sort(values);
            if (!values.isEmpty()) {
                System.out.printf(Locale.ROOT, "  %-48s p50 %5.0f  p95 %5.0f  max %5.0f  (ms; n=%d)%n", names[k],
                                  percentile(values, 50), percentile(values, 95), values.get(values.size() - 1),
                                  values.size());
            }
        }
    }

    private static double percentile(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    // utime + stime of this process and of its reaped children (recognizers, synthesizers), in clock ticks.
    private static long cpuTicks() throws Exception {
        final String stat = Files.readString(Path.of("/proc/self/stat"));
        final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // After the command: field 3 is the state; utime, stime, cutime, cstime are fields 14-17.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
               + Long.parseLong(fields[14]);
    }

    /** 20 ms of 16 kHz PCM16. */
    private static final class EnergyFrames {
        static final int BYTES = 640;
    }

    private VoiceBench() {}
}
