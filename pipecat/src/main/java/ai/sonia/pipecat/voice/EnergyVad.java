package ai.sonia.pipecat.voice;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;

/**
 * Energy-based voice activity detection on 16 kHz PCM16 frames of 20 ms: speech starts after
 * {@code startFrames} loud frames in a row and stops after a hangover of quiet frames, so the short pauses
 * between words do not cut an utterance. The hangover adapts: after {@code phraseFrames} of quiet the listener
 * is asked whether what was said so far is a complete phrase (the recognizer's words); when it is, speech
 * stops there, otherwise only after {@code hangoverFrames} (mid-sentence). Equal counts give a fixed hangover.
 * A little audio before the start is kept, so the first phoneme reaches the recognizer; the utterance is
 * handed on frame by frame as it is spoken.
 */
final class EnergyVad {

    static final int SAMPLE_RATE = 16_000;
    static final int FRAME_BYTES = SAMPLE_RATE / 50 * 2;
    static final int FRAME_MILLIS = 20;

    private final double thresholdDbfs;
    private final int startFrames;
    private final int phraseFrames;
    private final int hangoverFrames;
    private final int prerollFrames;
    private final ArrayDeque<byte[]> preroll = new ArrayDeque<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean speaking;
    private int loud;
    private int quiet;
    private int stoppedAfter;

    EnergyVad(double thresholdDbfs, int startFrames, int phraseFrames, int hangoverFrames, int prerollFrames) {
        this.thresholdDbfs = thresholdDbfs;
        this.startFrames = startFrames;
        this.phraseFrames = Math.min(phraseFrames, hangoverFrames);
        this.hangoverFrames = hangoverFrames;
        this.prerollFrames = prerollFrames;
    }

    /** -40 dBFS, 60 ms to start, 200 ms pre-roll; the two hangovers in milliseconds. */
    static EnergyVad of(long phraseHangoverMillis, long hangoverMillis) {
        return new EnergyVad(-40, 3, (int) (phraseHangoverMillis / FRAME_MILLIS), (int) (hangoverMillis / FRAME_MILLIS),
                             10);
    }

    /** A fixed 400 ms hangover (the default before adaptive endpointing). */
    static EnergyVad defaults() {
        return of(400, 400);
    }

    /** The hangover that ended the last utterance: the delay VAD added before it said speech stopped. */
    int hangoverMillis() {
        return stoppedAfter * FRAME_MILLIS;
    }

    /** Feeds audio of any length; {@code listener} hears each start, the speech's frames and each stop, in order. */
    void accept(byte[] pcm, Listener listener) {
        pending.write(pcm, 0, pcm.length);
        final byte[] buffered = pending.toByteArray();
        int offset = 0;
        while (buffered.length - offset >= FRAME_BYTES) {
            final byte[] frame = new byte[FRAME_BYTES];
            System.arraycopy(buffered, offset, frame, 0, FRAME_BYTES);
            offset += FRAME_BYTES;
            frame(frame, listener);
        }
        pending.reset();
        pending.write(buffered, offset, buffered.length - offset);
    }

    private void frame(byte[] frame, Listener listener) {
        final boolean voiced = dbfs(frame) > thresholdDbfs;
        if (!speaking) {
            preroll.addLast(frame);
            if (preroll.size() > prerollFrames) {
                preroll.removeFirst();
            }
            loud = voiced ? loud + 1 : 0;
            if (loud >= startFrames) {
                speaking = true;
                quiet = 0;
                final ByteArrayOutputStream start = new ByteArrayOutputStream();
                preroll.forEach(f -> start.write(f, 0, f.length));
                preroll.clear();
                listener.onStart(start.toByteArray());
            }
            return;
        }
        listener.onSpeech(frame);
        quiet = voiced ? 0 : quiet + 1;
        if (quiet == phraseFrames && phraseFrames < hangoverFrames) {
            listener.onPause();
        }
        if (quiet >= hangoverFrames || quiet >= phraseFrames && phraseFrames < hangoverFrames
                                                        && listener.phraseComplete()) {
            speaking = false;
            loud = 0;
            stoppedAfter = quiet;
            listener.onStop();
        }
    }

    static double dbfs(byte[] frame) {
        double sum = 0;
        for (int i = 0; i + 1 < frame.length; i += 2) {
            final int sample = (short) ((frame[i] & 0xff) | (frame[i + 1] << 8));
            sum += (double) sample * sample;
        }
        final double rms = Math.sqrt(sum / (frame.length / 2.0));
        return rms == 0 ? -120 : 20 * Math.log10(rms / 32768.0);
    }

    /** Hears speech start and stop. */
    interface Listener {
        /** Speech started; {@code preroll} is the audio just before and including its first frames. */
        void onStart(byte[] preroll);

        void onSpeech(byte[] frame);

        /** The speaker paused for the phrase hangover: a chance to finish recognizing what was said. */
        default void onPause() {}

        /** Whether what was said up to the pause is a complete phrase, so the pause may end the utterance. */
        default boolean phraseComplete() {
            return false;
        }

        void onStop();
    }

    /** A listener that feeds the speech to a recognizer and lets it judge pauses; start and stop are the caller's. */
    abstract static class Feeding implements Listener {
        private final SpeechRecognizer.Listening listening;

        Feeding(SpeechRecognizer.Listening listening) {
            this.listening = listening;
        }

        @Override
        public void onSpeech(byte[] frame) {
            listening.speech(frame);
        }

        @Override
        public void onPause() {
            listening.pause();
        }

        @Override
        public boolean phraseComplete() {
            return listening.phraseComplete();
        }
    }
}
