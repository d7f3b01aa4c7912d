package ai.sonia.runtime.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import ai.sonia.runtime.Shared;

/** The bundled model: one instance per JVM, whoever asks first and with whatever thread count. */
class BgeSmallEncoderTest {

    @Test
    void oneInstancePerJvmUnderOneKey() {
        final BgeSmallEncoder encoder = BgeSmallEncoder.shared(1);
        assertThat(BgeSmallEncoder.shared(0)).isSameAs(encoder);
        assertThat(Shared.<Object>get("embedding/bge-small-en-v1.5-q", () -> {
            throw new AssertionError("not shared");
        })).isSameAs(encoder);
    }

    @Test
    void aLongTextIsTheAverageOfItsWindowsAndALoneTextIsTheSamePaddedOrNot() {
        final BgeSmallEncoder encoder = BgeSmallEncoder.shared(0);
        final String longText = "lorem ipsum dolor sit amet ".repeat(150); // > 510 tokens: two windows
        final List<float[]> alone = encoder.embed(List.of("hello", longText), false);
        assertThat(alone).hasSize(2).allSatisfy(vector -> assertThat(vector).hasSize(384));
        assertThat(encoder.embed(List.of("hello"), true).get(0)).containsExactly(alone.get(0));
        assertThatThrownBy(() -> encoder.embed(List.of(" "), false)).isInstanceOf(IllegalArgumentException.class);
    }
}
