package ai.sonia.pipecat.ws;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The event frames a socket sends never have a 16-bit length whose low byte has its high bit set (Armeria 1.36's
 * decoder, in the gateway's relay, reads such a length wrongly when its two bytes arrive apart), and stay the same
 * JSON.
 */
class SocketLinkTest {

    @ParameterizedTest
    @ValueSource(ints = {16, 125, 126, 127, 128, 200, 255, 256, 383, 384, 640, 1000, 65_407, 65_408, 65_535, 70_000})
    void eventFramesAvoidLengthsArmeriasDecoderMisreads(int size) {
        // Two-byte characters too: the frame length counts UTF-8 bytes.
        final String text = "é".repeat(size / 4) + "x".repeat(size - 2 * (size / 4) - 8);
        final String json = "{\"t\":\"" + text + "\"}";
        assertThat(json.getBytes(StandardCharsets.UTF_8)).hasSize(size);
        final String padded = SocketLink.padded(json);
        final int length = padded.getBytes(StandardCharsets.UTF_8).length;
        if (length >= 126 && length <= 0xFFFF) {
            assertThat(length & 0x80).as("low byte of " + length).isZero();
        }
        assertThat(padded.strip()).isEqualTo(json);
        assertThat(length - size).isBetween(0, 128);
    }
}
