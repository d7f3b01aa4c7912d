package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Adaptive endpointing: a short hangover after a complete phrase, the long one mid-sentence. No engines. */
class EndpointingTest {

    private static final byte[] LOUD = tone();
    private static final byte[] QUIET = new byte[EnergyVad.FRAME_BYTES];

    @Test
    void aCompletePhraseEndsAfterTheShortHangoverAndAnUnfinishedOneOnlyAfterTheLongOne() {
        assertThat(quietFramesBeforeStop(true)).isEqualTo(10);  // 200 ms
        assertThat(quietFramesBeforeStop(false)).isEqualTo(35); // 700 ms
    }

    @Test
    void equalHangoversAreAFixedOneThatNeverAsks() {
        final List<String> calls = new ArrayList<>();
        final EnergyVad vad = EnergyVad.of(400, 400);
        assertThat(quietFramesBeforeStop(vad, true, calls)).isEqualTo(20);
        assertThat(calls).doesNotContain("pause");
        assertThat(vad.hangoverMillis()).isEqualTo(400);
    }

    @Test
    void aPhraseEndingInAWordThatNeedsAnotherIsNotComplete() {
        assertThat(Phrases.complete("set a timer for ten minutes")).isTrue();
        assertThat(Phrases.complete("what is my favourite colour")).isTrue();
        assertThat(Phrases.complete("remind me to call my")).isFalse();
        assertThat(Phrases.complete("set a timer for")).isFalse();
        assertThat(Phrases.complete("add milk and")).isFalse();
        assertThat(Phrases.complete("")).isFalse();
    }

    private static int quietFramesBeforeStop(boolean complete) {
        final List<String> calls = new ArrayList<>();
        final EnergyVad vad = EnergyVad.of(200, 700);
        final int quiet = quietFramesBeforeStop(vad, complete, calls);
        assertThat(calls).containsSubsequence("start", "pause", "stop");
        assertThat(vad.hangoverMillis()).isEqualTo(quiet * 20);
        return quiet;
    }

    // Half a second of speech, then quiet frames until the VAD says speech stopped: how many it took.
    private static int quietFramesBeforeStop(EnergyVad vad, boolean complete, List<String> calls) {
        final EnergyVad.Listener listener = listener(calls, complete);
        feed(vad, LOUD, 25, listener);
        int quiet = 0;
        while (!calls.contains("stop")) {
            feed(vad, QUIET, 1, listener);
            quiet++;
        }
        return quiet;
    }

    private static void feed(EnergyVad vad, byte[] frame, int count, EnergyVad.Listener listener) {
        for (int i = 0; i < count; i++) {
            vad.accept(frame, listener);
        }
    }

    private static EnergyVad.Listener listener(List<String> calls, boolean complete) {
        return new EnergyVad.Listener() {
            @Override
            public void onStart(byte[] preroll) {
                calls.add("start");
            }

            @Override
            public void onSpeech(byte[] frame) {}

            @Override
            public void onPause() {
                calls.add("pause");
            }

            @Override
            public boolean phraseComplete() {
                return complete;
            }

            @Override
            public void onStop() {
                calls.add("stop");
            }
        };
    }

    private static byte[] tone() {
        final byte[] pcm = new byte[EnergyVad.FRAME_BYTES];
        for (int i = 0; i < pcm.length / 2; i++) {
            final int sample = (int) (8000 * Math.sin(i * 2 * Math.PI * 440 / EnergyVad.SAMPLE_RATE));
            pcm[2 * i] = (byte) sample;
            pcm[2 * i + 1] = (byte) (sample >> 8);
        }
        return pcm;
    }
}
