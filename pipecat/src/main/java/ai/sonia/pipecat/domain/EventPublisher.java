package ai.sonia.pipecat.domain;

import ai.sonia.pipecat.v1.SessionEvent;

/**
 * Where every event of every session goes besides the store and the attached connections (Kafka, when
 * configured). Called in sequence order per session, under the session's monitor: it must neither block nor
 * throw, and a publisher that cannot keep up says so in its own metrics and status, never in the session.
 */
public interface EventPublisher extends AutoCloseable {

    /** Publishes nothing: events go to the store and the connections only. */
    EventPublisher NONE = event -> {};

    /** Hands one stored event over for publishing; returns at once. */
    void publish(SessionEvent event);

    @Override
    default void close() {}
}
