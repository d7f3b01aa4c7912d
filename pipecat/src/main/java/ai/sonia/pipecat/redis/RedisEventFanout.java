package ai.sonia.pipecat.redis;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.DependencyStatus;
import ai.sonia.pipecat.domain.EventFanout;
import ai.sonia.pipecat.v1.Session;
import ai.sonia.pipecat.v1.SessionEvent;
import ai.sonia.runtime.Threads;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BinaryJedisPubSub;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The {@link EventFanout} of replicas on Redis ({@code shared.engine: redis}): Redis pub/sub, one channel per
 * session ({@code sonia:pipecat:events:<session id>}), each message the stored event with the session's snapshot.
 *
 * <p><b>Why pub/sub and not a Stream per session.</b> The session store already is the durable, gapless log of
 * every session (sequence numbers from 1, what replays read); a Redis Stream would be a second copy to trim and
 * expire, and lost anyway when a Redis without persistence restarts. Pub/sub pushes a message to every replica
 * that follows the session as soon as it is published (no polling, no blocked XREAD to re-issue whenever the set
 * of sessions changes), and the replica fills any gap from the store by sequence number: when a message arrives
 * ahead of its predecessors, and for every followed session each time the subscription is (re)made, once Redis
 * confirms it (so an event published while the subscription was down is read from the store, not lost). A message
 * that could not be published is kept (the newest per session) and published again when Redis is back: a replica
 * that stayed subscribed learns of the gap from it.
 *
 * <p>Two threads: one publishes (in order; {@link #publish} only queues, it never blocks a session), one holds the
 * subscription and hands what arrives to the listener. Messages a replica published itself are skipped. Every
 * 5 s each followed session is resynced too: a replica that stored an event and died before publishing it leaves
 * no other trace, so that event reaches the other replicas' clients within 5 s instead of with the next one.
 */
public final class RedisEventFanout implements EventFanout {

    private static final Logger logger = LoggerFactory.getLogger(RedisEventFanout.class);

    /** Each session's channel is this and its id. */
    public static final String CHANNEL_PREFIX = "sonia:pipecat:events:";
    // Always subscribed, so the subscription lives while no session is followed.
    private static final byte[] CONTROL = bytes("sonia:pipecat:replicas");
    private static final int EVENT = 1;
    private static final int DELETED = 2;
    private static final int OUTBOX = 10_000;
    private static final int BATCH = 256;
    private static final long MAX_BACKOFF_MS = 1_000;
    private static final Duration RESYNC_PERIOD = Duration.ofSeconds(5);

    private final UnifiedJedis redis;
    private final String replica = UUID.randomUUID().toString();
    private final Set<String> followed = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<Outgoing> outbox = new ArrayBlockingQueue<>(OUTBOX);
    // Not published (Redis was away, or the outbox full): the newest message per session, to publish again.
    private final Map<String, Outgoing> unsent = new LinkedHashMap<>();
    private final Thread publisher;
    private final Thread subscriber;
    private final Duration resyncPeriod;
    private final ScheduledExecutorService resyncer =
            Executors.newSingleThreadScheduledExecutor(Threads.factory("pipecat-fanout-resync"));
    private volatile Listener listener;
    private volatile Subscription subscription;
    private volatile boolean closed;
    private volatile String lastError = "";

    /** A fan-out over {@code redis} (the JVM's shared client; not closed here). */
    public RedisEventFanout(UnifiedJedis redis) {
        this(redis, RESYNC_PERIOD);
    }

    RedisEventFanout(UnifiedJedis redis, Duration resyncPeriod) {
        this.redis = redis;
        this.resyncPeriod = resyncPeriod;
        publisher = Threads.factory("pipecat-fanout-publish").newThread(this::publishLoop);
        subscriber = Threads.factory("pipecat-fanout-subscribe").newThread(this::subscribeLoop);
        publisher.setDaemon(true);
        subscriber.setDaemon(true);
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
        publisher.start();
        subscriber.start();
        // A replica that stored an event and died before publishing it tells nobody: read the store now and then.
        resyncer.scheduleWithFixedDelay(this::resyncAll, resyncPeriod.toMillis(), resyncPeriod.toMillis(),
                                        TimeUnit.MILLISECONDS);
    }

    @Override
    public void follow(String sessionId) {
        followed.add(sessionId);
        // Subscribed already: add this channel. Otherwise the subscription, once made, adds every followed one.
        tell(true, sessionId);
    }

    @Override
    public void unfollow(String sessionId) {
        followed.remove(sessionId);
        tell(false, sessionId);
    }

    private void tell(boolean follow, String sessionId) {
        final Subscription current = subscription;
        if (current != null && current.ready) {
            current.send(follow, channel(sessionId));
        }
    }

    @Override
    public void publish(Session snapshot, SessionEvent event) {
        queue(new Outgoing(snapshot.getSessionId(), encode(EVENT, snapshot, event)));
    }

    @Override
    public void deleted(String sessionId) {
        queue(new Outgoing(sessionId, encode(DELETED, null, null)));
    }

    private void queue(Outgoing message) {
        if (!outbox.offer(message)) {
            synchronized (unsent) {
                unsent.put(message.sessionId(), message);
            }
        }
    }

    /** Whether the subscription is up and nothing waits to be published again; for {@code /status}. */
    public DependencyStatus status() {
        final Subscription current = subscription;
        final List<String> problems = new ArrayList<>();
        if (current == null || !current.ready) {
            problems.add("not subscribed" + (lastError.isEmpty() ? "" : ": " + lastError));
        }
        final int waiting;
        synchronized (unsent) {
            waiting = unsent.size();
        }
        if (waiting > 0) {
            problems.add(waiting + " sessions' events not yet published");
        }
        return DependencyStatus.newBuilder().setName("redis").setTarget("event fan-out")
                               .setOk(problems.isEmpty()).setError(String.join("; ", problems))
                               .setCheckTime(Timestamps.fromMillis(Instant.now().toEpochMilli())).build();
    }

    @Override
    public void close() {
        // What this replica stored last reaches the others before it goes (a second at most).
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            while (!outbox.isEmpty() && subscription != null && subscription.ready && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        final Subscription current = subscription;
        if (current != null && current.isSubscribed()) {
            try {
                current.unsubscribe(); // ends the subscribe call, which gives its connection back to the pool
            } catch (JedisException e) {
                // Redis is gone: the loop ends at its next attempt.
            }
        }
        resyncer.shutdownNow();
        publisher.interrupt();
        subscriber.interrupt();
        try {
            publisher.join(2_000);
            subscriber.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void resyncAll() {
        for (String sessionId : followed) {
            try {
                listener.resync(sessionId);
            } catch (RuntimeException e) {
                logger.atWarn().addKeyValue("session_id", sessionId).setCause(e).log("Cannot resync a session");
            }
        }
    }

    // Publishes in order; what fails waits in `unsent` and goes out again first, once Redis answers.
    private void publishLoop() {
        long backoff = 0;
        while (!closed) {
            try {
                if (backoff > 0) {
                    Thread.sleep(backoff);
                }
                if (!publishUnsent()) {
                    backoff = nextBackoff(backoff);
                    continue;
                }
                final Outgoing first = outbox.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                // What queued meanwhile goes in the same round trip (one pipeline), in order.
                final List<Outgoing> batch = new ArrayList<>();
                batch.add(first);
                outbox.drainTo(batch, BATCH - 1);
                try {
                    send(batch);
                    backoff = 0;
                } catch (JedisException e) {
                    failed("publish", e);
                    synchronized (unsent) {
                        batch.forEach(message -> unsent.put(message.sessionId(), message));
                        // What waited behind them goes the same way, in order, so a newer one is never lost.
                        for (Outgoing queued; (queued = outbox.poll()) != null; ) {
                            unsent.put(queued.sessionId(), queued);
                        }
                    }
                    backoff = nextBackoff(backoff);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void send(List<Outgoing> batch) {
        if (batch.size() == 1) {
            redis.publish(channel(batch.get(0).sessionId()), batch.get(0).payload());
            return;
        }
        try (AbstractPipeline pipeline = redis.pipelined()) {
            batch.forEach(message -> pipeline.publish(channel(message.sessionId()), message.payload()));
            pipeline.sync();
        }
    }

    // True when nothing waits to be published again (any that did is out now).
    private boolean publishUnsent() {
        while (true) {
            final Outgoing next;
            synchronized (unsent) {
                final Iterator<Outgoing> first = unsent.values().iterator();
                if (!first.hasNext()) {
                    return true;
                }
                next = first.next();
            }
            try {
                redis.publish(channel(next.sessionId()), next.payload());
            } catch (JedisException e) {
                failed("publish", e);
                return false;
            }
            synchronized (unsent) {
                unsent.remove(next.sessionId(), next);
            }
        }
    }

    // Holds the subscription; made again after Redis drops it (a restart, a killed connection).
    private void subscribeLoop() {
        long backoff = 0;
        while (!closed) {
            final Subscription current = new Subscription();
            subscription = current;
            try {
                redis.subscribe(current, CONTROL); // returns when unsubscribed, throws when the connection fails
            } catch (JedisException e) {
                failed("subscribe", e);
            } catch (RuntimeException e) {
                // Anything else that ends the subscribe call must not end the fan-out: log it and subscribe again.
                logger.warn("Event fan-out subscription failed", e);
            }
            current.ready = false;
            backoff = current.everReady ? 0 : nextBackoff(backoff);
            if (closed) {
                return;
            }
            try {
                Thread.sleep(Math.max(backoff, 20));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void failed(String what, JedisException e) {
        final String error = what + ": " + e.getMessage();
        if (!error.equals(lastError)) {
            logger.atWarn().addKeyValue("engine", "redis").log("Event fan-out cannot {}, will retry: {}", what,
                                                               e.getMessage());
        }
        lastError = error;
    }

    private static long nextBackoff(long backoff) {
        return Math.min(MAX_BACKOFF_MS, Math.max(50, backoff * 2));
    }

    /** One subscription (one connection); a new one after each failure. */
    private final class Subscription extends BinaryJedisPubSub {
        volatile boolean ready;
        boolean everReady;

        @Override
        public void onSubscribe(byte[] channel, int subscribedChannels) {
            if (java.util.Arrays.equals(channel, CONTROL)) {
                if (!lastError.isEmpty()) {
                    logger.atInfo().addKeyValue("engine", "redis").log("Event fan-out subscribed again");
                    lastError = "";
                }
                ready = true;
                everReady = true;
                final List<byte[]> channels = new ArrayList<>();
                followed.forEach(id -> channels.add(channel(id)));
                if (!channels.isEmpty()) {
                    synchronized (this) {
                        subscribe(channels.toArray(byte[][]::new));
                    }
                }
                return;
            }
            // Listening to this session now: whatever was published before is in the store.
            final String sessionId = sessionId(channel);
            safely(sessionId, () -> listener.resync(sessionId));
        }

        // A listener's failure (the store unreadable for a moment, say) stays in the callback: out of it, it would end
        // the subscription, and making it again resyncs every session this replica follows, for one message. That
        // session catches up at the periodic resync instead.
        private void safely(String sessionId, Runnable call) {
            try {
                call.run();
            } catch (RuntimeException e) {
                logger.atWarn().addKeyValue("session_id", sessionId)
                      .log("A fan-out message could not be applied now; the session catches up at its next resync: {}",
                           e.toString());
            }
        }

        @Override
        public void onMessage(byte[] channel, byte[] message) {
            final String sessionId = sessionId(channel);
            try {
                final CodedInputStream in = CodedInputStream.newInstance(message);
                final int kind = in.readUInt32();
                if (in.readString().equals(replica)) {
                    return; // this replica's own
                }
                if (kind == EVENT) {
                    final Session snapshot = Session.parseFrom(in.readBytes());
                    final SessionEvent event = SessionEvent.parseFrom(in.readBytes());
                    if (event.getSessionId().equals(sessionId)) {
                        safely(sessionId, () -> listener.received(snapshot, event));
                    }
                } else if (kind == DELETED) {
                    safely(sessionId, () -> listener.deleted(sessionId));
                }
            } catch (IOException e) {
                // Not one of ours: the store has the truth, read it.
                logger.atWarn().addKeyValue("session_id", sessionId).log("Unreadable fan-out message, resyncing");
                safely(sessionId, () -> listener.resync(sessionId));
            }
        }

        // (Un)subscribes one channel from another thread; the connection's writes are one at a time.
        synchronized void send(boolean add, byte[] channel) {
            try {
                if (add) {
                    subscribe(channel);
                } else {
                    unsubscribe(channel);
                }
            } catch (JedisException | IllegalStateException e) {
                // The subscription is failing: the next one subscribes every followed session again.
            }
        }
    }

    private record Outgoing(String sessionId, byte[] payload) {}

    private byte[] encode(int kind, Session snapshot, SessionEvent event) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        final CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeUInt32NoTag(kind);
            out.writeStringNoTag(replica);
            if (kind == EVENT) {
                out.writeBytesNoTag(snapshot.toByteString());
                out.writeBytesNoTag(event.toByteString());
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] channel(String sessionId) {
        return bytes(CHANNEL_PREFIX + sessionId);
    }

    private static String sessionId(byte[] channel) {
        return new String(channel, StandardCharsets.UTF_8).substring(CHANNEL_PREFIX.length());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
