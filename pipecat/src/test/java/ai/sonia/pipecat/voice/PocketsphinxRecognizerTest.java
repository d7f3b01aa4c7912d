package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streaming recognizer with the session's VAD in front, as the pipeline uses them: speech fed in 20 ms
 * frames as it is spoken, a transcript per utterance at the VAD's stop, one process for the session.
 */
class PocketsphinxRecognizerTest {

    @BeforeEach
    void needsTheEngines() {
        assumeFalse("1".equals(System.getenv("SONIA_TESTS_WITHOUT_VOICE")),
                    "voice engine off: espeak-ng, sox or pocketsphinx is not installed and the test command could "
                    + "not install it (sudo apt-get install espeak-ng sox pocketsphinx pocketsphinx-en-us)");
    }

    @Test
    void eachUtteranceOfASessionIsRecognizedByOneLongLivedProcess() throws Exception {
        final LabelledSpeech.Voice voice = new LabelledSpeech.Voice("en-us+m3", 150);
        final List<LabelledSpeech.Utterance> said = new ArrayList<>();
        for (String text : List.of("what is the weather today", "play some music in the kitchen",
                                   "what is the weather today")) {
            said.add(new LabelledSpeech.Utterance(text, voice, false, LabelledSpeech.speak(text, voice)));
        }
        final List<String> heard = RecognitionBench.streaming(said, PocketsphinxRecognizer.DEFAULT_OPTIONS);
        System.out.println("streaming recognizer: heard " + heard);
        // One transcript per utterance, in order. espeak-ng's voice is far from the model's speakers, so the
        // words are not all right (scripts/bench-voice measures how many), least of all in the first utterance,
        // before the normalization has settled on the speaker: by the third, the content word comes through.
        assertThat(heard).hasSize(3).allSatisfy(text -> assertThat(text).isNotBlank());
        assertThat(heard.get(2)).contains("weather");
    }
}
