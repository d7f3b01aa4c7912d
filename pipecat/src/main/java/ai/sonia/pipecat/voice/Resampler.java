package ai.sonia.pipecat.voice;

/** Converts PCM16 mono between rates by linear interpolation (speech synthesis output to 16 kHz). */
final class Resampler {

    static byte[] resample(byte[] pcm, int fromRate, int toRate) {
        if (fromRate == toRate) {
            return pcm;
        }
        final int inSamples = pcm.length / 2;
        final int outSamples = (int) ((long) inSamples * toRate / fromRate);
        final byte[] out = new byte[outSamples * 2];
        final double step = (double) fromRate / toRate;
        for (int i = 0; i < outSamples; i++) {
            final double position = i * step;
            final int left = (int) position;
            final int right = Math.min(left + 1, inSamples - 1);
            final double fraction = position - left;
            final int value = (int) Math.round(sample(pcm, left) * (1 - fraction) + sample(pcm, right) * fraction);
            out[2 * i] = (byte) value;
            out[2 * i + 1] = (byte) (value >> 8);
        }
        return out;
    }

    private static int sample(byte[] pcm, int index) {
        return (short) ((pcm[2 * index] & 0xff) | (pcm[2 * index + 1] << 8));
    }

    private Resampler() {}
}
