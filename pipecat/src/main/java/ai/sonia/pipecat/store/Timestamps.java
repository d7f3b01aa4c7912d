package ai.sonia.pipecat.store;

import java.time.Instant;

import com.google.protobuf.Timestamp;

/** Conversions between protobuf timestamps and instants. */
public final class Timestamps {

    /** The timestamp of an instant. */
    public static Timestamp of(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    /** Milliseconds since the epoch. */
    public static long toMillis(Timestamp timestamp) {
        return timestamp.getSeconds() * 1000 + timestamp.getNanos() / 1_000_000;
    }

    private Timestamps() {}
}
