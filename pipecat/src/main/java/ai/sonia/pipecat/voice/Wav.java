package ai.sonia.pipecat.voice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Just enough WAV: read the PCM and rate out of a PCM16 mono file. */
final class Wav {

    /** The PCM16 mono samples and rate of a WAV file; a streamed file may carry a bogus data size. */
    static Pcm read(byte[] wav) {
        final ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        if (wav.length < 12 || !"RIFF".equals(ascii(wav, 0)) || !"WAVE".equals(ascii(wav, 8))) {
            throw new IllegalArgumentException("not a WAV file");
        }
        int offset = 12;
        int rate = 0;
        while (offset + 8 <= wav.length) {
            final String id = ascii(wav, offset);
            final int size = b.getInt(offset + 4);
            if ("fmt ".equals(id)) {
                final int channels = b.getShort(offset + 10);
                rate = b.getInt(offset + 12);
                final int bits = b.getShort(offset + 22);
                if (channels != 1 || bits != 16) {
                    throw new IllegalArgumentException("expected mono PCM16, got " + channels + " ch " + bits + " bit");
                }
            } else if ("data".equals(id)) {
                final int start = offset + 8;
                final int length = size <= 0 || start + size > wav.length ? wav.length - start : size;
                final byte[] pcm = new byte[length & ~1];
                System.arraycopy(wav, start, pcm, 0, pcm.length);
                return new Pcm(pcm, rate);
            }
            offset += 8 + size;
        }
        throw new IllegalArgumentException("WAV file without data");
    }

    private static String ascii(byte[] bytes, int offset) {
        return new String(bytes, offset, 4, StandardCharsets.US_ASCII);
    }

    /** PCM16 mono samples at a rate. */
    record Pcm(byte[] samples, int sampleRate) {}

    private Wav() {}
}
