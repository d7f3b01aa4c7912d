package ai.sonia.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import com.google.protobuf.util.JsonFormat;

import ai.sonia.gateway.v1.GetLimitationsResponse;

/** The known limitations of this build, kept as data in {@code limitations.json} beside this class. */
final class Limitations {

    static GetLimitationsResponse load() {
        try (InputStream in = Limitations.class.getResourceAsStream("limitations.json")) {
            if (in == null) {
                throw new IllegalStateException("limitations.json is missing from the gateway jar");
            }
            final GetLimitationsResponse.Builder builder = GetLimitationsResponse.newBuilder();
            JsonFormat.parser().merge(new String(in.readAllBytes(), StandardCharsets.UTF_8), builder);
            return builder.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Limitations() {}
}
