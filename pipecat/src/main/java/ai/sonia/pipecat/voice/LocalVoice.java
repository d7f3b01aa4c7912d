package ai.sonia.pipecat.voice;

import java.util.concurrent.Executor;

import ai.sonia.pipecat.domain.ChatClient;
import ai.sonia.pipecat.domain.LiveSession;
import ai.sonia.pipecat.domain.VoiceSupport;
import ai.sonia.pipecat.domain.VoiceTurns;

/**
 * The voice pipeline with pluggable engines; by default the local ones (pocketsphinx, espeak-ng).
 * Availability is read from the file system at start (no process is spawned), so start-up stays fast.
 */
public final class LocalVoice implements VoiceSupport {

    private final SpeechRecognizer recognizer;
    private final SpeechSynthesizer synthesizer;
    private final boolean available;
    private final String description;
    private final VoiceMetrics metrics;
    private final boolean realtime;

    public LocalVoice(SpeechRecognizer recognizer, SpeechSynthesizer synthesizer, boolean available,
                      String description, VoiceMetrics metrics, boolean realtime) {
        this.recognizer = recognizer;
        this.synthesizer = synthesizer;
        this.available = available;
        this.description = description;
        this.metrics = metrics;
        this.realtime = realtime;
    }

    /** pocketsphinx for recognition and espeak-ng for synthesis, when installed. */
    public static LocalVoice defaults(VoiceMetrics metrics, boolean realtime) {
        final boolean asr = PocketsphinxRecognizer.installed();
        final boolean tts = EspeakSynthesizer.installed();
        final String description = "asr=pocketsphinx:" + (asr ? "available" : "missing (apt-get install pocketsphinx"
                                                                             + " pocketsphinx-en-us)")
                                   + " tts=espeak-ng:" + (tts ? "available" : "missing (apt-get install espeak-ng)");
        return new LocalVoice(new PocketsphinxRecognizer(), new EspeakSynthesizer("en-us"), asr && tts,
                              description, metrics, realtime);
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
        return new VoicePipeline(session, chat, recognizer, synthesizer, executor, metrics, correlationId, realtime);
    }
}
