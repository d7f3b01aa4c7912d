package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * libpocketsphinx in process: partial transcripts while the utterance is fed, the final one at its end, and
 * decoders freed (or kept idle, up to the limit) when sessions close, over many sessions.
 */
class PocketsphinxLibraryRecognizerTest {

    @BeforeEach
    void needsTheEngines() {
        assumeFalse("1".equals(System.getenv("SONIA_TESTS_WITHOUT_VOICE")),
                    "voice engine off: espeak-ng, sox or pocketsphinx is not installed and the test command could "
                    + "not install it (sudo apt-get install espeak-ng sox pocketsphinx pocketsphinx-en-us)");
        assertThat(PocketsphinxLibraryRecognizer.missing()).isEmpty();
    }

    @Test
    void partialTranscriptsComeWhileSpeechIsFedAndTheFinalOneAtItsEnd() throws Exception {
        final byte[] pcm = LabelledSpeech.speak("what is the weather today", new LabelledSpeech.Voice("en-us+m3", 150));
        final List<String> partials = new CopyOnWriteArrayList<>();
        final SpeechRecognizer recognizer = new PocketsphinxLibraryRecognizer(List.of(), 60_000, 0);
        try (SpeechRecognizer.Listening listening = recognizer.listen(partials::add)) {
            feed(listening, pcm);
            final String heard = listening.end().get(60, TimeUnit.SECONDS);
            System.out.println("library recognizer: partials " + partials + ", final '" + heard + "'");
            // A partial is handed on only when the best hypothesis changed; the decoder may come back to an
            // earlier one ("a b" → "a c" → "a b"), so only back-to-back repeats would be wrong.
            assertThat(partials).isNotEmpty();
            for (int i = 1; i < partials.size(); i++) {
                assertThat(partials.get(i)).as("partial %d repeats the one before it", i).isNotEqualTo(partials.get(i - 1));
            }
            assertThat(heard).isNotBlank();
            // A second utterance on the same decoder: its partials are its own.
            partials.clear();
            feed(listening, pcm);
            assertThat(listening.end().get(60, TimeUnit.SECONDS)).contains("weather");
            assertThat(partials).isNotEmpty();
        }
    }

    @Test
    void aSessionsContextIsHeardAndTheGeneralModelsWordsStillAre() throws Exception {
        final LabelledSpeech.Voice voice = new LabelledSpeech.Voice("en-us+m3", 150);
        final String said = "my favourite colour is green";
        final byte[] fact = LabelledSpeech.speak(said, voice);
        final byte[] weather = LabelledSpeech.speak("what is the weather today", voice);
        final SpeechRecognizer recognizer = new PocketsphinxLibraryRecognizer(List.of(), 60_000, 0, 0.5);
        try (SpeechRecognizer.Listening listening = recognizer.listen()) {
            feed(listening, fact);
            // Given during an utterance, the context applies from the next one: this one is the general model's.
            listening.context(List.of("Okay, noted: your favourite colour is green.", said));
            final String general = listening.end().get(60, TimeUnit.SECONDS);
            feed(listening, fact);
            final String biased = listening.end().get(60, TimeUnit.SECONDS);
            feed(listening, weather);
            final String outside = listening.end().get(60, TimeUnit.SECONDS);
            listening.context(List.of()); // back to the general model alone
            System.out.printf("context: general '%s', biased '%s', outside the context '%s'%n", general, biased, outside);
            // Espeak-ng's voice against this acoustic model: the general model misses words of it (0.53 WER for
            // this voice on the labelled set), the context model hears them.
            assertThat(LabelledSpeech.wordErrors(said, biased)).isLessThan(LabelledSpeech.wordErrors(said, general));
            assertThat(biased).contains("green");
            assertThat(outside).contains("weather");
        }
    }

    @Test
    void aContextWithASixWordGeneralModelDecodesAtOnce() throws Exception {
        // The context's words mostly missing from the decoder's model and dictionary: the interpolated search
        // still ends the utterance with the general model's words (a 60 s wait was once seen here, never again).
        final SpeechRecognizer recognizer = new PocketsphinxLibraryRecognizer(smallModel(), 60_000, 0, 0.5);
        final byte[] pcm = LabelledSpeech.speak("what is the weather today", new LabelledSpeech.Voice("en-us+m3", 150));
        try (SpeechRecognizer.Listening listening = recognizer.listen()) {
            listening.context(List.of("Okay, noted: your favourite colour is green.", "what is the weather today"));
            feed(listening, pcm);
            assertThat(listening.end().get(60, TimeUnit.SECONDS)).contains("weather");
        }
    }

    @Test
    void decodersAreFreedWhenSessionsCloseOrKeptIdleUpToTheLimit() throws Exception {
        final List<String> small = smallModel();
        final byte[] pcm = Arrays.copyOf(LabelledSpeech.speak("what is the weather today",
                                                              new LabelledSpeech.Voice("en-us+m3", 150)), 16_000);
        // Decoders of sessions before this test (another class's, in this JVM) are freed or idle first, so that
        // none is freed while this test counts.
        await().atMost(Duration.ofSeconds(60)).until(() -> PocketsphinxLibraryRecognizer.decoders()
                                                           == PocketsphinxLibraryRecognizer.idleDecoders());
        final int before = PocketsphinxLibraryRecognizer.LIVE.get();
        final long threadsBefore = decoderThreads();
        final SpeechRecognizer freed = new PocketsphinxLibraryRecognizer(small, 60_000, 0);
        for (int i = 0; i < 12; i++) {
            try (SpeechRecognizer.Listening listening = freed.listen()) {
                feed(listening, pcm); // closed mid-utterance: the decoder ends it before it is freed
                if (i % 4 == 0) {
                    listening.end().get(60, TimeUnit.SECONDS);
                }
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> PocketsphinxLibraryRecognizer.LIVE.get() == before
                                                           && decoderThreads() <= threadsBefore);
        // Kept idle (one at most): every session after the first reuses the same decoder.
        final List<String> other = new java.util.ArrayList<>(small);
        other.addAll(List.of("-beam", "1e-48")); // its own idle set
        final SpeechRecognizer pooled = new PocketsphinxLibraryRecognizer(other, 60_000, 1);
        final int idleBefore = PocketsphinxLibraryRecognizer.idleDecoders();
        for (int i = 0; i < 6; i++) {
            try (SpeechRecognizer.Listening listening = pooled.listen()) {
                feed(listening, pcm);
                assertThat(listening.end().get(60, TimeUnit.SECONDS)).isNotNull();
            }
            // Back in the idle set once its thread has ended the session's use of it.
            await().atMost(Duration.ofSeconds(60)).until(() -> PocketsphinxLibraryRecognizer.idleDecoders() > idleBefore);
            assertThat(PocketsphinxLibraryRecognizer.LIVE.get()).isEqualTo(before + 1);
        }
    }

    @Test
    void aDecoderThatCannotStartFailsTheUtteranceAndFreesItsThread() throws Exception {
        final long threadsBefore = decoderThreads();
        final SpeechRecognizer broken = new PocketsphinxLibraryRecognizer(List.of("-no_such_option", "1"), 10_000, 2);
        try (SpeechRecognizer.Listening listening = broken.listen()) {
            listening.speech(new byte[640]);
            assertThat(listening.end()).failsWithin(Duration.ofSeconds(60))
                                       .withThrowableThat().withMessageContaining("could not start a decoder");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> decoderThreads() <= threadsBefore);
    }

    // A model and a dictionary of six words, so that a decoder starts fast.
    private static List<String> smallModel() throws java.io.IOException {
        final Path dir = Files.createDirectories(Path.of("target/voice"));
        final Path lm = dir.resolve("cycles.arpa");
        final List<String> words = List.of("what", "is", "the", "weather", "today", "stop");
        Files.writeString(lm, ContextLanguageModel.arpa(List.of("what is the weather today", "stop"), words::contains));
        final Path dict = dir.resolve("cycles.dict");
        try (java.util.stream.Stream<String> lines = Files.lines(PocketsphinxRecognizer.MODEL.resolve("cmudict-en-us.dict"))) {
            Files.write(dict, lines.filter(line -> words.contains(line.split(" ")[0])).toList());
        }
        return List.of("-lm", lm.toString(), "-dict", dict.toString());
    }

    private static void feed(SpeechRecognizer.Listening listening, byte[] pcm) {
        for (int offset = 0; offset + EnergyVad.FRAME_BYTES <= pcm.length; offset += EnergyVad.FRAME_BYTES) {
            listening.speech(Arrays.copyOfRange(pcm, offset, offset + EnergyVad.FRAME_BYTES));
        }
    }

    private static long decoderThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("pocketsphinx-decoder-")
                                                                        && t.isAlive()).count();
    }
}
