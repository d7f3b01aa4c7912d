package ai.sonia.pipecat.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.common.v1.Role;
import ai.sonia.pipecat.store.SqliteSessionStore;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionState;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;
import ai.sonia.runtime.limits.Bucket4jRateLimiter;

/**
 * How {@link Sessions} loads a session into memory: never reading the store inside the map's {@code compute} (a read
 * there would block every other session of its bin in the map for the read), and never keeping a copy read before
 * the session changed through another copy loaded and unloaded meanwhile.
 */
class SessionLoadTest {

    private static final Principal ADA = Principal.user("acme", "ada", Role.ROLE_USER);

    private final SqliteSessionStore sqlite = SqliteSessionStore.open(Path.of("target", "load-" + UUID.randomUUID()));
    // Store calls made from inside a ConcurrentHashMap compute; what to run (once) when a session's events are read.
    private final List<String> readsInsideCompute = new CopyOnWriteArrayList<>();
    private final AtomicReference<Runnable> onEventsRead = new AtomicReference<>();
    private final SessionStore store = (SessionStore) Proxy.newProxyInstance(
            SessionStore.class.getClassLoader(), new Class<?>[] { SessionStore.class }, (proxy, method, args) -> {
                if (StackWalker.getInstance().walk(frames -> frames.anyMatch(
                        f -> f.getClassName().equals("java.util.concurrent.ConcurrentHashMap")
                             && f.getMethodName().startsWith("compute")))) {
                    readsInsideCompute.add(method.getName());
                }
                if (method.getName().equals("events")) {
                    final Runnable hook = onEventsRead.getAndSet(null);
                    if (hook != null) {
                        hook.run();
                    }
                }
                try {
                    return method.invoke(sqlite, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    private final Sessions sessions = new Sessions(store, EventPublisher.NONE, EventFanout.LOCAL, Clock.systemUTC(),
                                                   new SessionStore.Limits(100, 100), 100, new Bucket4jRateLimiter(), 1000, 4,
                                                   Duration.ofMinutes(30));

    @AfterEach
    void close() {
        sqlite.close();
    }

    @Test
    void theStoreIsNeverReadInsideTheMapsCompute() {
        final String id = sessions.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        final LiveSession started = sessions.open(ADA, id);
        sessions.release(started); // unloaded: the next attach loads it again
        final EventSink sink = event -> {};
        final LiveSession attached = sessions.attach(ADA, id, sink, 0, "c");
        sessions.update(ADA, Session.newBuilder().setSessionId(id).setTitle("renamed").build(), List.of("title"), "c");
        attached.detach(sink);
        sessions.release(attached);
        sessions.stop(ADA, id, "done", "c");
        sessions.delete(ADA, id, "c");
        assertThat(readsInsideCompute).isEmpty();
    }

    @Test
    void aCopyReadBeforeTheSessionWasStoppedThroughAnotherIsNotKept() {
        final String id = sessions.start(ADA, "", Map.of(), false, "", "c").getSessionId();
        sessions.release(sessions.open(ADA, id));
        // While this attach reads the session, another request loads it, stops it and lets it go.
        onEventsRead.set(() -> sessions.stop(ADA, id, "meanwhile", "c"));
        assertThatThrownBy(() -> sessions.attach(ADA, id, event -> {}, 0, "c")).isInstanceOfSatisfying(
                DomainException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_CONFLICT));
        assertThat(sessions.get(ADA, id).getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
    }
}
