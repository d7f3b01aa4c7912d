package ai.sonia.pipecat.domain;

import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;

/**
 * Carries each stored event to the other replicas of the service that hold the same session (a client attached
 * to replica A gets the events of a message sent through replica B). Only a notice: the store stays the one
 * log. A replica delivers events strictly by sequence number and reads any it missed (a message lost with a
 * dropped subscription, a Redis restart, messages crossing) from the store, so nothing is lost or doubled.
 * Every method returns at once, without throwing: a fan-out that cannot reach its engine catches up later.
 */
public interface EventFanout extends AutoCloseable {

    /** One replica: nothing to carry. */
    EventFanout LOCAL = new EventFanout() {
        @Override
        public void start(Listener listener) {}

        @Override
        public void follow(String sessionId) {}

        @Override
        public void unfollow(String sessionId) {}

        @Override
        public void publish(Session snapshot, SessionEvent event) {}

        @Override
        public void deleted(String sessionId) {}
    };

    /** Starts receiving, for the sessions followed, what other replicas publish. */
    void start(Listener listener);

    /** This replica holds the session now: it wants its events. */
    void follow(String sessionId);

    /** This replica let the session go. */
    void unfollow(String sessionId);

    /** Tells the other replicas that {@code event} was stored, with the session as it was stored with it. */
    void publish(Session snapshot, SessionEvent event);

    /** Tells the other replicas that the session was deleted. */
    void deleted(String sessionId);

    @Override
    default void close() {}

    /** What a replica does with what the others publish; called on the fan-out's own thread. */
    interface Listener {

        /** Another replica stored {@code event}; {@code snapshot} is the session as stored with it. */
        void received(Session snapshot, SessionEvent event);

        /** Another replica deleted the session. */
        void deleted(String sessionId);

        /** Messages about the session may have been missed (the subscription was (re)made): read the store. */
        void resync(String sessionId);
    }
}
