package ai.sonia.pipecat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.sonia.pipecat.v1.EventType;
import ai.sonia.pipecat.v1.GetSessionRequest;
import ai.sonia.pipecat.v1.HistoryEntry;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.pipecat.v1.StartSessionRequest;
import ai.sonia.pipecat.v1.TurnMetrics;
import ai.sonia.pipecat.voice.LabelledSpeech;
import ai.sonia.pipecat.voice.PocketsphinxLibraryRecognizer;

/**
 * Real speech made by espeak-ng, recognized by libpocketsphinx (in process, the default), answered, and spoken back by espeak-ng. Runs
 * wherever the test command could install the engines; only when it could not ({@code scripts/sonia test}
 * then sets {@code SONIA_TESTS_WITHOUT_VOICE=1} and prints the install line) is it reported as engine off.
 */
class VoiceRoundTripTest {

    private static final String SAID = "what is the weather today";
    private static PipecatHarness pipecat;

    // Replies are not paced in real time (they would take seconds to "play"), except where a test talks over one.
    @BeforeAll
    static void start() throws Exception {
        pipecat = new PipecatHarness(Map.of("SONIA_PIPECAT_TTS_REALTIME", "false"));
    }

    /** Each test, not the class, is reported skipped: surefire records a test's assumption with its message. */
    @BeforeEach
    void needsTheEngines() {
        assumeFalse("1".equals(System.getenv("SONIA_TESTS_WITHOUT_VOICE")),
                    "voice engine off: espeak-ng, sox or pocketsphinx is not installed and the test command could "
                    + "not install it (sudo apt-get install espeak-ng sox pocketsphinx pocketsphinx-en-us)");
    }

    @AfterAll
    static void stop() {
        pipecat.close();
    }

    @Test
    void speechIsRecognizedAnsweredAndSpokenBack() throws Exception {
        pipecat.gateway.replyWith(text -> "It is sunny.");
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        sendSpeech(client, speech(SAID));

        client.await(e -> e.getType() == EventType.EVENT_TYPE_VAD_START);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_VAD_STOP);
        final SessionEvent transcript = client.await(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT);
        final double wer = (double) LabelledSpeech.wordErrors(SAID, transcript.getText())
                           / LabelledSpeech.words(SAID).length;
        System.out.printf("voice round trip: said '%s', heard '%s', WER %.2f%n", SAID, transcript.getText(), wer);
        assertThat(wer).isLessThanOrEqualTo(0.6);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_START);
        final SessionEvent audio = client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_AUDIO);
        assertThat(audio.getAudio().size()).isPositive().isEven();
        client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_STOP);
        final SessionEvent metrics = client.await(e -> e.getType() == EventType.EVENT_TYPE_METRICS);
        System.out.println("voice stage latency (ms): " + metrics.getMetricsMap());
        assertThat(metrics.getMetricsMap()).containsKeys("vad_ms", "asr_ms", "first_token_ms", "tts_ms",
                                                         "first_audio_ms", "pipeline_ms",
                                                         "end_of_speech_to_first_audio_ms");
        final TurnMetrics stages = metrics.getTurnMetrics();
        assertThat(stages.getEndOfSpeechToFirstAudioMs()).isEqualTo(stages.getVadMs() + stages.getFirstAudioMs());
        assertThat(stages.getAsrMs()).isPositive();
        assertThat(stages.getTtsMs()).isPositive();
        final List<HistoryEntry> history = pipecat.blocking().getSession(
                GetSessionRequest.newBuilder().setSessionId(id).build()).getHistoryList();
        assertThat(history).extracting(HistoryEntry::getRole).containsExactly("user", "assistant");
        assertThat(history.get(1).getText()).isEqualTo("It is sunny.");
        assertThat(history.get(1).getInterrupted()).isFalse();
        client.close();
    }

    /**
     * A fact said in one turn is recalled by voice in a later one. The stand-in assistant keeps what the user
     * told it and answers a question with it, as the real one does from memory; what this test holds pipecat
     * to is that the words recognized in the first turn reach the assistant and come back, spoken, in the
     * second turn's reply (whether pocketsphinx heard "green" as "green" is the word error rate's business,
     * printed here and measured by scripts/bench-voice).
     */
    @Test
    void aFactSaidByVoiceIsRecalledByVoiceInALaterTurn() throws Exception {
        final List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        pipecat.gateway.replyWith(text -> {
            if (told.isEmpty()) {
                told.add(text);
                return "Noted (memories/01HZX3K9QW).";
            }
            return "You told me: " + told.get(0) + " (memories/01HZX3K9QW).";
        });
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        sendSpeech(client, speech("my favourite colour is green"));
        final SessionEvent fact = client.await(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_METRICS);
        sendSpeech(client, speech("what is my favourite colour"));
        await().atMost(Duration.ofSeconds(30)).until(() -> client.events.stream().filter(
                e -> e.getType() == EventType.EVENT_TYPE_METRICS).count() == 2);
        final List<SessionEvent> spoken = client.events.stream()
                                                    .filter(e -> e.getType() == EventType.EVENT_TYPE_TTS_START).toList();
        final List<SessionEvent> transcripts = client.events.stream()
                                                         .filter(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT)
                                                         .toList();
        System.out.printf("recall by voice: told '%s', asked '%s', answered '%s'%n", fact.getText(),
                          transcripts.get(1).getText(), spoken.get(1).getText());
        assertThat(fact.getText()).isNotBlank();
        assertThat(told).containsExactly(fact.getText());
        // The second turn's reply, as spoken (no memory reference), holds the fact as it was heard.
        assertThat(spoken.get(1).getText()).contains(fact.getText()).doesNotContain("memories/");
        client.close();
    }

    @Test
    void whatIsSpokenIsTheAnswerWithoutReferencesAndTheMessageKeepsItAll() throws Exception {
        final String reply = "Your favourite colour is **green** (memories/01HZX3K9QW). You told me on Monday "
                             + "[memories/a1, memories/b2]. You also said blue once. And teal. And red.\n\n"
                             + "Sources:\n- memories/01HZX3K9QW";
        pipecat.gateway.replyWith(text -> reply);
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        sendSpeech(client, speech("what is my favourite colour"));
        final SessionEvent message = client.await(e -> e.getType() == EventType.EVENT_TYPE_MESSAGE
                                                       && e.getRole().equals("assistant"));
        assertThat(message.getText()).isEqualTo(reply);
        final SessionEvent spoken = client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_START);
        assertThat(spoken.getText()).doesNotContain("memories/").doesNotContain("*").doesNotContain("Sources")
                                    .isEqualTo("Your favourite colour is green. You told me on Monday. "
                                               + "You also said blue once.");
        client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_STOP);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                pipecat.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build())
                       .getHistoryList()).extracting(HistoryEntry::getText).contains(reply));
        client.close();
    }

    @Test
    void twoSessionsTalkingAtOnceEachHaveTheirOwnRecognizerWhichEndsWithTheConnection() throws Exception {
        pipecat.gateway.replyWith(text -> "Heard: " + text);
        final List<WsClient> clients = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true)
                                                                                  .build()).getSessionId();
            final WsClient client = pipecat.ws(id, 0);
            client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
            clients.add(client);
        }
        final List<String> said = List.of(SAID, "turn off the lights in the bedroom");
        final List<java.util.concurrent.CompletableFuture<Void>> talking = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            final WsClient client = clients.get(i);
            final byte[] pcm = speech(said.get(i));
            talking.add(java.util.concurrent.CompletableFuture.runAsync(() -> sendSpeech(client, pcm)));
        }
        talking.forEach(java.util.concurrent.CompletableFuture::join);
        final List<String> heard = new java.util.ArrayList<>();
        for (WsClient client : clients) {
            heard.add(client.await(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT).getText());
            client.await(e -> e.getType() == EventType.EVENT_TYPE_METRICS);
        }
        System.out.println("two sessions at once: said " + said + ", heard " + heard);
        // Each session answers its own words: no transcript crossed over.
        assertThat(heard.get(0)).contains("weather");
        assertThat(heard.get(1)).isNotBlank().doesNotContain("weather");
        // Two decoders in use; when the connections close, each is freed or kept idle for a later session.
        assertThat(PocketsphinxLibraryRecognizer.decoders() - PocketsphinxLibraryRecognizer.idleDecoders())
                .isGreaterThanOrEqualTo(2);
        clients.forEach(WsClient::close);
        await().atMost(Duration.ofSeconds(30)).until(
                () -> PocketsphinxLibraryRecognizer.decoders() == PocketsphinxLibraryRecognizer.idleDecoders());
    }

    /**
     * While the user speaks, the words so far arrive as PARTIAL_TRANSCRIPT events, each different from the one
     * before, all before the utterance's TRANSCRIPT. Partials are read every 200 ms of audio, not of wall time, so
     * the speech is sent as fast as the connection takes it; how many come before VAD_STOP depends on the
     * machine's load and is printed, not asserted.
     */
    @Test
    void partialTranscriptsArriveWhileTheUserSpeaksBeforeTheFinalTranscript() throws Exception {
        pipecat.gateway.replyWith(text -> "Okay.");
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = pipecat.ws(id, 0);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        final byte[] said = speech("turn off the lights in the bedroom");
        sendSpeech(client, said);
        final SessionEvent transcript = client.await(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT);
        final SessionEvent stop = client.await(e -> e.getType() == EventType.EVENT_TYPE_VAD_STOP);
        final List<SessionEvent> partials = client.events.stream()
                                                      .filter(e -> e.getType() == EventType.EVENT_TYPE_PARTIAL_TRANSCRIPT)
                                                      .toList();
        System.out.printf("partial transcripts: %s; %d before VAD_STOP; final '%s'%n",
                          partials.stream().map(SessionEvent::getText).toList(),
                          partials.stream().filter(p -> p.getSequence() < stop.getSequence()).count(),
                          transcript.getText());
        assertThat(partials).isNotEmpty().allSatisfy(p -> {
            assertThat(p.getSequence()).isLessThan(transcript.getSequence());
            assertThat(p.getRole()).isEqualTo("user");
            assertThat(p.getText()).isNotBlank();
        });
        for (int i = 1; i < partials.size(); i++) {
            assertThat(partials.get(i).getText()).isNotEqualTo(partials.get(i - 1).getText());
        }
        assertThat(transcript.getText()).isNotBlank();
        client.await(e -> e.getType() == EventType.EVENT_TYPE_METRICS);
        client.close();
    }

    @Test
    void speakingOverTheAssistantInterruptsItAndHistoryKeepsWhatWasSaid() throws Exception {
        try (PipecatHarness pipecat = new PipecatHarness()) { // the reply paced in real time, to be talked over
            talkOver(pipecat);
        }
    }

    private static void talkOver(PipecatHarness pipecat) throws Exception {
        final String reply = "Here is a long answer. It has several sentences so that it takes a while to say. "
                             + "Nobody will hear the end of it. Because the user talks over it.";
        pipecat.gateway.replyWith(text -> reply);
        final String id = pipecat.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                 .getSessionId();
        final WsClient client = WsClient.connect(pipecat.port(), id + "?audio=binary", null, pipecat.token);
        client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
        sendSpeech(client, speech("tell me everything"));
        await().atMost(Duration.ofSeconds(30)).until(
                () -> client.events.stream().filter(e -> e.getType() == EventType.EVENT_TYPE_TTS_AUDIO).count() >= 12);
        // With ?audio=binary the audio arrives as binary frames, the events without it.
        assertThat(client.binaryBytes.get()).isPositive();
        assertThat(client.events).filteredOn(e -> e.getType() == EventType.EVENT_TYPE_TTS_AUDIO)
                                 .allSatisfy(e -> assertThat(e.getAudio().isEmpty()).isTrue());
        pipecat.gateway.replyWith(text -> "Okay.");
        sendSpeech(client, speech("stop"));
        final SessionEvent interrupted = client.await(e -> e.getType() == EventType.EVENT_TYPE_INTERRUPTED);
        assertThat(reply).startsWith(interrupted.getText());
        assertThat(interrupted.getText()).isNotEmpty().isNotEqualTo(reply);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            final List<HistoryEntry> history = pipecat.blocking().getSession(
                    GetSessionRequest.newBuilder().setSessionId(id).build()).getHistoryList();
            final HistoryEntry cut = history.stream().filter(h -> h.getRole().equals("assistant")).findFirst()
                                            .orElseThrow();
            assertThat(cut.getInterrupted()).isTrue();
            assertThat(cut.getText()).isEqualTo(interrupted.getText());
        });
        client.close();
    }

    /** A spoken turn is bounded by the session's history as a typed one is: refused, the connection kept. */
    @Test
    void anUtteranceToAFullHistoryIsRefusedAndNothingOfItIsStored() throws Exception {
        try (PipecatHarness small = new PipecatHarness(Map.of("SONIA_PIPECAT_TTS_REALTIME", "false",
                                                              "SONIA_PIPECAT_MAX_HISTORY_PER_SESSION", "2"))) {
            final AtomicInteger asked = new AtomicInteger();
            small.gateway.replyWith(text -> {
                asked.incrementAndGet();
                return "It is sunny.";
            });
            final String id = small.blocking().startSession(StartSessionRequest.newBuilder().setVoice(true).build())
                                   .getSessionId();
            final WsClient client = small.ws(id, 0);
            client.await(e -> e.getType() == EventType.EVENT_TYPE_SESSION_START);
            sendSpeech(client, speech(SAID));
            client.await(e -> e.getType() == EventType.EVENT_TYPE_TRANSCRIPT);
            client.await(e -> e.getType() == EventType.EVENT_TYPE_TTS_STOP);
            await().atMost(Duration.ofSeconds(10)).until(() -> history(small, id) == 2); // the utterance, the reply

            sendSpeech(client, speech(SAID));
            final SessionEvent refused = client.await(e -> e.getType() == EventType.EVENT_TYPE_ERROR);
            assertThat(refused.getErrorCode()).isEqualTo("RATE_LIMITED");
            assertThat(refused.getText()).contains("history_per_session");
            client.send("{\"type\":\"EVENT_TYPE_STATUS\",\"message_id\":\"s-1\"}");
            assertThat(client.await(e -> "s-1".equals(e.getMessageId())).getType()).isEqualTo(EventType.EVENT_TYPE_STATUS);
            assertThat(history(small, id)).isEqualTo(2);
            assertThat(asked).hasValue(1); // the refused utterance was not sent to the assistant
            client.close();
        }
    }

    private static int history(PipecatHarness harness, String id) {
        return harness.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getHistoryCount();
    }

    private static void sendSpeech(WsClient client, byte[] pcm) {
        final byte[] padded = Arrays.copyOf(pcm, pcm.length + 16_000 * 2); // one second of silence after
        for (int offset = 0; offset < padded.length; offset += 640) {
            client.sendAudio(Arrays.copyOfRange(padded, offset, Math.min(padded.length, offset + 640)));
        }
    }

    /** 16 kHz mono PCM16 of {@code text}, made by espeak-ng and sox. */
    static byte[] speech(String text) throws Exception {
        return LabelledSpeech.speak(text, new LabelledSpeech.Voice("en-us+m3", 140));
    }
}
