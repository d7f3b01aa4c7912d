package ai.sonia.pipecat.domain;

import ai.sonia.pipecat.v1.SessionEvent;

/** Where a connection receives its session's events; called in sequence order, must not block. */
public interface EventSink {

    /** Delivers one event. */
    void deliver(SessionEvent event);

    /** The session was deleted: nothing more will come. */
    default void sessionDeleted() {}
}
