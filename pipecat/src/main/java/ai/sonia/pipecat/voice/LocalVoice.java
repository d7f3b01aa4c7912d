package ai.sonia.pipecat.voice;

import java.util.List;
import java.util.concurrent.Executor;

import ai.sonia.pipecat.domain.ChatClient;
import ai.sonia.pipecat.domain.LiveSession;
import ai.sonia.pipecat.domain.VoiceSupport;
import ai.sonia.pipecat.domain.VoiceTurns;

/**
 * The voice pipeline with pluggable engines; by default the local ones (libpocketsphinx, espeak-ng).
 * Availability is read at start (the file system, and whether libpocketsphinx loads; no process is spawned).
 */
public final class LocalVoice implements VoiceSupport {

    private final SpeechRecognizer recognizer;
    private final SpeechSynthesizer synthesizer;
    private final boolean available;
    private final String description;
    private final VoiceMetrics metrics;
    private final boolean realtime;
    private final Endpointing endpointing;

    /**
     * When an utterance ends: after {@code phraseHangoverMillis} of silence following a complete phrase, else
     * after {@code hangoverMillis}.
     */
    public record Endpointing(long phraseHangoverMillis, long hangoverMillis) {
        /** A fixed 400 ms hangover. */
        public static final Endpointing FIXED = new Endpointing(400, 400);
    }

    public LocalVoice(SpeechRecognizer recognizer, SpeechSynthesizer synthesizer, boolean available,
                      String description, VoiceMetrics metrics, boolean realtime, Endpointing endpointing) {
        this.recognizer = recognizer;
        this.synthesizer = synthesizer;
        this.available = available;
        this.description = description;
        this.metrics = metrics;
        this.realtime = realtime;
        this.endpointing = endpointing;
    }

    /**
     * pocketsphinx for recognition, in process ({@code "library"}) or as a process per session
     * ({@code "process"}), and espeak-ng for synthesis, when installed. A missing engine turns voice off. The library
     * recognizer is biased toward each session's context with {@code contextWeight} (0: not at all).
     */
    public static LocalVoice defaults(String asrEngine, double contextWeight, VoiceMetrics metrics, boolean realtime,
                                      Endpointing endpointing) {
        final boolean library = asrEngine.equals("library");
        final java.util.Optional<String> asrMissing = library
                ? PocketsphinxLibraryRecognizer.missing().map(why -> why + "; apt-get install libpocketsphinx3 "
                                                                     + "pocketsphinx-en-us")
                : PocketsphinxRecognizer.installed() ? java.util.Optional.empty()
                                                     : java.util.Optional.of("apt-get install pocketsphinx "
                                                                             + "pocketsphinx-en-us");
        final boolean tts = EspeakSynthesizer.installed();
        final String description = "asr=" + (library ? "pocketsphinx-library" : "pocketsphinx-process") + ":"
                                   + asrMissing.map(why -> "missing (" + why + ")").orElse("available")
                                   + " tts=espeak-ng:" + (tts ? "available" : "missing (apt-get install espeak-ng)");
        final SpeechRecognizer recognizer = library
                ? new PocketsphinxLibraryRecognizer(List.of(), PocketsphinxLibraryRecognizer.RESULT_TIMEOUT_MILLIS,
                                                    PocketsphinxLibraryRecognizer.DEFAULT_MAX_IDLE, contextWeight)
                : new PocketsphinxRecognizer();
        return new LocalVoice(recognizer, new EspeakSynthesizer("en-us"), asrMissing.isEmpty() && tts, description,
                              metrics, realtime, endpointing);
    }

    @Override
    public boolean available() {
        return available;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public VoiceTurns newTurns(LiveSession session, ChatClient chat, Executor executor, String correlationId) {
        return new VoicePipeline(session, chat, recognizer, synthesizer, executor, metrics, correlationId, realtime,
                                 EnergyVad.of(endpointing.phraseHangoverMillis(), endpointing.hangoverMillis()));
    }
}
