package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import ai.sonia.pipecat.domain.ChatClient;
import ai.sonia.pipecat.domain.LiveSession;
import ai.sonia.pipecat.domain.Replies;
import ai.sonia.pipecat.domain.VoiceTurns;
import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.pipecat.v1.TurnMetrics;
import ai.sonia.runtime.errors.DomainException;

/**
 * One connection's voice turns: audio → VAD → recognition (PARTIAL_TRANSCRIPT events while the user speaks,
 * when the recognizer has them, then the TRANSCRIPT) → chat → synthesis streamed back as TTS_AUDIO
 * events, sentence by sentence, paced at real time. Speech while the assistant talks (barge-in) stops
 * the synthesis, emits INTERRUPTED, and the history keeps only the words already played.
 */
final class VoicePipeline implements VoiceTurns {

    private static final Logger logger = LoggerFactory.getLogger(VoicePipeline.class);
    private static final int CHUNK_BYTES = EnergyVad.SAMPLE_RATE / 10 * 2; // 100 ms
    /** Sentences of the conversation the recognizer is biased toward. */
    static final int CONTEXT_SENTENCES = 40;

    private final LiveSession session;
    private final ChatClient chat;
    private final SpeechRecognizer recognizer;
    private final SpeechSynthesizer synthesizer;
    private final Executor executor;
    private final VoiceMetrics metrics;
    private final String correlationId;
    private final boolean realtime;
    private final EnergyVad vad;
    private final Object playback = new Object();
    private Speech speaking;
    private SpeechRecognizer.Listening listening;
    private volatile boolean ended;
    // The session's recent sentences, newest last: what the recognizer is biased toward.
    private final ArrayDeque<String> context = new ArrayDeque<>();

    VoicePipeline(LiveSession session, ChatClient chat, SpeechRecognizer recognizer, SpeechSynthesizer synthesizer,
                  Executor executor, VoiceMetrics metrics, String correlationId, boolean realtime, EnergyVad vad) {
        this.session = session;
        this.vad = vad;
        this.chat = chat;
        this.recognizer = recognizer;
        this.synthesizer = synthesizer;
        this.executor = executor;
        this.metrics = metrics;
        this.correlationId = correlationId;
        this.realtime = realtime;
    }

    @Override
    public synchronized void accept(byte[] pcm) {
        final long receivedNanos = System.nanoTime();
        if (listening == null && !listen()) {
            return;
        }
        vad.accept(pcm, new EnergyVad.Feeding(listening) {
            @Override
            public void onStart(byte[] preroll) {
                emit(EventType.EVENT_TYPE_VAD_START, "");
                bargeIn();
                listening.speech(preroll);
            }

            @Override
            public void onStop() {
                final long stopNanos = System.nanoTime();
                emit(EventType.EVENT_TYPE_VAD_STOP, "");
                final Turn turn = new Turn(stopNanos);
                turn.stage("vad_ms", vad.hangoverMillis() + (stopNanos - receivedNanos) / 1e6);
                listening.end().whenCompleteAsync((text, error) -> recognized(text, error, turn), executor);
            }
        });
    }

    // The session's recognizer starts with its first audio, so it is ready when the user speaks.
    private boolean listen() {
        try {
            listening = recognizer.listen(this::partial);
            return true;
        } catch (IOException e) {
            logger.atWarn().addKeyValue("session_id", session.id()).setCause(e).log("Recognizer did not start");
            emitError("UNAVAILABLE", "speech recognition failed: " + e.getMessage());
            return false;
        }
    }

    // The words so far of the utterance being spoken, from the recognizer's thread, before its TRANSCRIPT.
    private void partial(String words) {
        if (!ended && !closed()) {
            session.append(base(EventType.EVENT_TYPE_PARTIAL_TRANSCRIPT).setRole("user").setText(words));
        }
    }

    @Override
    public CompletableFuture<Void> answer(String userText) {
        final Turn turn = new Turn(System.nanoTime());
        return CompletableFuture.runAsync(() -> reply(userText, turn), executor);
    }

    @Override
    public void close() {
        synchronized (this) {
            ended = true;
            if (listening != null) {
                listening.close();
            }
        }
        synchronized (playback) {
            if (speaking != null) {
                speaking.cancelled = true;
                playback.notifyAll();
            }
        }
    }

    private void recognized(String text, Throwable error, Turn turn) {
        if (error != null) {
            if (ended) {
                return; // the connection went; its recognizer with it
            }
            logger.atWarn().addKeyValue("session_id", session.id()).setCause(error).log("Recognition failed");
            emitError("UNAVAILABLE", "speech recognition failed: " + error.getMessage());
            return;
        }
        turn.stage("asr_ms", (System.nanoTime() - turn.startNanos) / 1e6);
        if (text.isEmpty() || closed()) {
            return;
        }
        try {
            session.checkHistoryRoom();
        } catch (DomainException e) {
            // As for a typed message: this utterance is refused, the session and its connection go on.
            emitError("RATE_LIMITED", e.getMessage());
            return;
        }
        final SessionEvent transcript = session.append(base(EventType.EVENT_TYPE_TRANSCRIPT).setRole("user")
                                                                                         .setText(text));
        session.remember("user", text, transcript.getMessageId(), false);
        reply(text, turn);
    }

    private void reply(String userText, Turn turn) {
        final long start = System.nanoTime();
        final String reply;
        try {
            reply = chat.reply(session.owner(), session.id(), userText, correlationId).join();
        } catch (RuntimeException e) {
            Replies.failed(session, e, correlationId);
            return;
        }
        turn.stage("first_token_ms", (System.nanoTime() - start) / 1e6);
        if (!closed()) {
            speak(reply, turn);
            // After the reply is out, so that rebuilding the recognizer's model does not delay its first audio.
            remember(userText, reply);
        }
    }

    /**
     * Adds a turn to the session's context, the last {@link #CONTEXT_SENTENCES} sentences of what the user said
     * and the assistant replied (replies carry the user's memories), and hands it to the recognizer.
     */
    private void remember(String userText, String reply) {
        final List<String> sentences;
        synchronized (context) {
            context.addAll(SpokenReply.sentences(userText));
            for (String line : reply.split("\\R")) {
                context.addAll(SpokenReply.sentences(SpokenReply.clean(line)));
            }
            while (context.size() > CONTEXT_SENTENCES) {
                context.removeFirst();
            }
            sentences = List.copyOf(context);
        }
        final SpeechRecognizer.Listening recognizing;
        synchronized (this) {
            recognizing = ended ? null : listening;
        }
        if (recognizing != null) {
            recognizing.context(sentences);
        }
    }

    private void speak(String reply, Turn turn) {
        final Speech speech = new Speech();
        synchronized (playback) {
            if (speaking != null) {
                speaking.cancelled = true;
                playback.notifyAll();
            }
            speaking = speech;
        }
        final SessionEvent message = session.append(base(EventType.EVENT_TYPE_MESSAGE).setRole("assistant")
                                                                                   .setText(reply));
        // What is said: the reply without ids, markup or sources, and a long one as its first sentences.
        final List<String> sentences = SpokenReply.of(reply);
        session.append(base(EventType.EVENT_TYPE_TTS_START).setRole("assistant")
                                                           .setText(String.join(" ", sentences)));
        final StringBuilder spoken = new StringBuilder();
        boolean interrupted = false;
        try {
            // The next sentence is synthesized while the one before it plays.
            CompletableFuture<byte[]> next = sentences.isEmpty() ? null : synthesize(sentences.get(0), turn);
            for (int i = 0; i < sentences.size(); i++) {
                final byte[] audio = next.join();
                next = i + 1 < sentences.size() ? synthesize(sentences.get(i + 1), turn) : null;
                final double played = play(audio, speech, turn);
                if (played < 1) {
                    appendWords(spoken, sentences.get(i), played);
                    interrupted = true;
                    break;
                }
                appendWords(spoken, sentences.get(i), 1);
            }
        } catch (Exception e) {
            final Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            logger.atWarn().addKeyValue("session_id", session.id()).setCause(cause).log("Synthesis failed");
            emitError("UNAVAILABLE", "speech synthesis failed: " + cause.getMessage());
        }
        synchronized (playback) {
            if (speaking == speech) {
                speaking = null;
            }
        }
        if (interrupted) {
            session.append(base(EventType.EVENT_TYPE_INTERRUPTED).setRole("assistant")
                                                                 .setText(spoken.toString()));
        }
        session.append(base(EventType.EVENT_TYPE_TTS_STOP).setRole("assistant"));
        // History keeps the answer; cut short by the user, only the words they heard.
        session.remember("assistant", interrupted ? spoken.toString() : reply, message.getMessageId(), interrupted);
        session.append(base(EventType.EVENT_TYPE_TURN).setRole("system").setText(interrupted ? "interrupted" : ""));
        final SessionEvent.Builder figures = base(EventType.EVENT_TYPE_METRICS).setRole("system")
                                                                             .putAllMetrics(turn.stages)
                                                                             .setTurnMetrics(turn.toProto());
        session.append(figures);
        metrics.record(turn.stages);
    }

    private CompletableFuture<byte[]> synthesize(String sentence, Turn turn) {
        return CompletableFuture.supplyAsync(() -> {
            final long start = System.nanoTime();
            try {
                final byte[] audio = synthesizer.synthesize(sentence);
                turn.stageOnce("tts_ms", (System.nanoTime() - start) / 1e6);
                return audio;
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    /** Streams audio in 100 ms chunks; the fraction of it played before a barge-in (1 when all). */
    private double play(byte[] audio, Speech speech, Turn turn) throws InterruptedException {
        for (int offset = 0; offset < audio.length; offset += CHUNK_BYTES) {
            final int end = Math.min(audio.length, offset + CHUNK_BYTES);
            if (speech.cancelled || closed()) {
                return (double) offset / audio.length;
            }
            session.append(base(EventType.EVENT_TYPE_TTS_AUDIO).setRole("assistant")
                                   .setAudio(ByteString.copyFrom(Arrays.copyOfRange(audio, offset, end))));
            turn.firstAudio();
            if (realtime) {
                final long chunkMillis = (end - offset) / 2 * 1000L / EnergyVad.SAMPLE_RATE;
                final long deadline = System.nanoTime() + chunkMillis * 1_000_000;
                synchronized (playback) {
                    long left;
                    while (!speech.cancelled && (left = deadline - System.nanoTime()) > 0) {
                        playback.wait(Math.max(1, left / 1_000_000));
                    }
                }
                if (speech.cancelled) {
                    final double heard = 1 - (double) Math.max(0, deadline - System.nanoTime()) / 1e6 / chunkMillis;
                    return (offset + heard * (end - offset)) / audio.length;
                }
            }
        }
        return 1;
    }

    private void bargeIn() {
        synchronized (playback) {
            if (speaking != null) {
                speaking.cancelled = true;
                playback.notifyAll();
            }
        }
    }

    private boolean closed() {
        return session.state() == SessionState.SESSION_STATE_CLOSED;
    }

    private SessionEvent emit(EventType type, String text) {
        return session.append(base(type).setRole("user").setText(text));
    }

    private void emitError(String code, String text) {
        session.append(base(EventType.EVENT_TYPE_ERROR).setRole("system").setErrorCode(code).setText(text));
    }

    private SessionEvent.Builder base(EventType type) {
        return SessionEvent.newBuilder().setType(type).setCorrelationId(correlationId);
    }

    /** Adds the first {@code fraction} of a sentence's words (all words when 1). */
    static void appendWords(StringBuilder spoken, String sentence, double fraction) {
        final String[] words = sentence.trim().split("\\s+");
        final int count = fraction >= 1 ? words.length : (int) Math.floor(words.length * fraction);
        for (int i = 0; i < count; i++) {
            if (spoken.length() > 0) {
                spoken.append(' ');
            }
            spoken.append(words[i]);
        }
    }

    /** A playback that a barge-in cancels. */
    private static final class Speech {
        volatile boolean cancelled;
    }

    /** The stages of one turn, in milliseconds. */
    private static final class Turn {
        final long startNanos;
        final java.util.Map<String, Double> stages = new java.util.concurrent.ConcurrentHashMap<>();

        Turn(long startNanos) {
            this.startNanos = startNanos;
        }

        void stage(String name, double millis) {
            stages.put(name, millis);
        }

        boolean stageOnce(String name, double millis) {
            return stages.putIfAbsent(name, millis) == null;
        }

        /** The first audio is out: the stages that end there (TurnMetrics in the contract says each one). */
        void firstAudio() {
            if (!stageOnce("first_audio_ms", (System.nanoTime() - startNanos) / 1e6)) {
                return;
            }
            final double firstAudio = stages.get("first_audio_ms");
            stages.put("pipeline_ms", Math.max(0, firstAudio - stages.getOrDefault("asr_ms", 0.0)
                                                  - stages.getOrDefault("first_token_ms", 0.0)
                                                  - stages.getOrDefault("tts_ms", 0.0)));
            stages.put("end_of_speech_to_first_audio_ms", stages.getOrDefault("vad_ms", 0.0) + firstAudio);
        }

        TurnMetrics toProto() {
            return TurnMetrics.newBuilder().setVadMs(stages.getOrDefault("vad_ms", 0.0))
                              .setAsrMs(stages.getOrDefault("asr_ms", 0.0))
                              .setFirstTokenMs(stages.getOrDefault("first_token_ms", 0.0))
                              .setTtsMs(stages.getOrDefault("tts_ms", 0.0))
                              .setFirstAudioMs(stages.getOrDefault("first_audio_ms", 0.0))
                              .setPipelineMs(stages.getOrDefault("pipeline_ms", 0.0))
                              .setEndOfSpeechToFirstAudioMs(stages.getOrDefault("end_of_speech_to_first_audio_ms",
                                                                                0.0))
                              .build();
        }
    }
}
