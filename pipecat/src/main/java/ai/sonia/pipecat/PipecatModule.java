package ai.sonia.pipecat;

import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.linecorp.armeria.common.CommonPools;
import com.linecorp.armeria.server.ServerListener;
import com.linecorp.armeria.server.websocket.WebSocketService;

import ai.sonia.pipecat.client.GatewayChatClient;
import ai.sonia.pipecat.domain.ConnectionLimiter;
import ai.sonia.pipecat.domain.Conversations;
import ai.sonia.pipecat.domain.EventFanout;
import ai.sonia.pipecat.domain.EventPublisher;
import ai.sonia.pipecat.domain.SessionStore;
import ai.sonia.pipecat.domain.Sessions;
import ai.sonia.pipecat.grpc.PipecatServiceImpl;
import ai.sonia.pipecat.kafka.KafkaEventPublisher;
import ai.sonia.pipecat.redis.RedisEventFanout;
import ai.sonia.pipecat.store.PostgresSessionStore;
import ai.sonia.pipecat.store.SqliteSessionStore;
import ai.sonia.pipecat.voice.LocalVoice;
import ai.sonia.pipecat.voice.VoiceMetrics;
import ai.sonia.pipecat.ws.ConversationSocket;
import ai.sonia.runtime.ConfigSchema;
import ai.sonia.runtime.ServiceModule;
import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.SoniaServer;
import ai.sonia.runtime.Stack;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.Threads;
import ai.sonia.runtime.auth.ForwardedClient;
import ai.sonia.runtime.client.SoniaChannels;
import ai.sonia.runtime.cluster.SharedEngine;
import ai.sonia.runtime.edge.OriginPolicy;
import ai.sonia.runtime.edge.WebSocketLengthGuard;
import ai.sonia.runtime.limits.RateLimiter;
import ai.sonia.runtime.store.Postgres;
import io.grpc.ManagedChannel;

/** Wires the pipecat service: sessions, event streams and voice. */
public final class PipecatModule implements ServiceModule {

    private static final Logger logger = LoggerFactory.getLogger(PipecatModule.class);

    @Override
    public ConfigSchema configSchema() {
        return ConfigSchema.of(PipecatConfig.class);
    }

    @Override
    public ServiceSpec spec() {
        return Stack.PIPECAT;
    }

    @Override
    public SoniaServer newServer(StackConfig config) {
        final PipecatConfig pipecat = config.service(spec().name(), PipecatConfig.class);
        // store.engine: the SQLite file of this machine, or the PostgreSQL every replica shares (fails closed).
        final Postgres.Settings postgres = Postgres.from(config);
        final SessionStore store = postgres == null ? SqliteSessionStore.open(config.dataDir(spec().name()))
                                                    : PostgresSessionStore.open(postgres);
        final KafkaEventPublisher kafka = pipecat.kafka().enabled()
                                          ? new KafkaEventPublisher(pipecat.kafka(), "sonia-pipecat") : null;
        // With shared.engine redis, replicas hear each other's events of the sessions they hold.
        final EventFanout fanout = SharedEngine.redis(config).<EventFanout>map(RedisEventFanout::new)
                                               .orElse(EventFanout.LOCAL);
        // Each session's event budget: one across the replicas with shared.engine redis (a client may send through any).
        final Sessions sessions = new Sessions(store, kafka != null ? kafka : EventPublisher.NONE, fanout,
                                               Clock.systemUTC(),
                                               new SessionStore.Limits(pipecat.maxLiveSessions(),
                                                                       pipecat.maxLiveSessionsPerUser(),
                                                                       pipecat.maxSessionsPerUser(),
                                                                       pipecat.maxHistoryPerSession()),
                                               pipecat.replayEvents(), RateLimiter.of(config, spec().name()),
                                               pipecat.eventsPerMinute(),
                                               pipecat.maxWaitingTurns(), pipecat.sessionTtl());
        // Storage, engine processes and replies run on Armeria's bounded blocking pool, never on an event loop.
        final Executor workers = CommonPools.blockingTaskExecutor();
        final ScheduledExecutorService sweeper =
                Executors.newSingleThreadScheduledExecutor(Threads.factory("pipecat-ttl"));
        final long sweepMillis = Math.max(1000, Math.min(30_000, pipecat.sessionTtl().toMillis() / 4));
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                sessions.expireIdle();
            } catch (RuntimeException e) {
                logger.warn("Failed to expire idle sessions", e);
            }
        }, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);

        // Chat turns run outside any request: signed as pipecat, acting for the session's owner.
        final ManagedChannel gateway = SoniaChannels.forService(config, spec(), Stack.GATEWAY);
        final VoiceMetrics voiceMetrics = new VoiceMetrics();
        final LocalVoice voice = LocalVoice.defaults(pipecat.asrEngine(), pipecat.asrContextWeight(), voiceMetrics, pipecat.ttsRealtime(), new LocalVoice.Endpointing(
                pipecat.vadPhraseHangoverMillis(), pipecat.vadHangoverMillis()));
        if (!voice.available()) {
            logger.warn("Voice engines incomplete, text sessions only: {}", voice.describe());
        }
        final Conversations conversations = new Conversations(
                sessions, new GatewayChatClient(gateway),
                new ConnectionLimiter(pipecat.maxConnectionsPerIp()), voice, workers);
        final WebSocketService socket = WebSocketService.builder(new ConversationSocket(
                                                                conversations, new ConversationSocket.SocketSettings(
                                                                        pipecat.sendQueue(), pipecat.pingInterval(),
                                                                        pipecat.closeTimeout()),
                                                                ForwardedClient.of(config)))
                                                        .allowedOrigins("*")
                                                        .aggregateContinuation(true)
                                                        .maxFramePayloadLength(1024 * 1024)
                                                        .build();
        final SoniaServer.Builder server = SoniaServer.builder(spec(), config);
        server.configSummary("kafka_events", kafka != null ? pipecat.kafka().bootstrapServers() + "/"
                                                             + pipecat.kafka().topic() : "off");
        if (kafka != null) {
            kafka.bind(server.meterRegistry());
            server.externalDependency(kafka::status);
        }
        server.configSummary("event_fanout", fanout instanceof RedisEventFanout ? "redis" : "local");
        if (fanout instanceof RedisEventFanout redis) {
            server.externalDependency(redis::status);
        }
        // Session series on /metrics: sessions open in memory now.
        io.micrometer.core.instrument.Gauge.builder("sonia.pipecat.sessions.live", sessions, Sessions::liveCount)
                                           .description("Sessions open in memory").register(server.meterRegistry());
        return server
                          .addService(new PipecatServiceImpl(sessions, conversations,
                                                             pipecat.sendQueue() + ConversationSocket.WRITER_WINDOW))
                          .useBlockingTaskExecutor(true)
                          .dependency(Stack.GATEWAY)
                          .configSummary("store", postgres == null ? "sqlite" : postgres.toString())
                          .configSummary("session_ttl_seconds", pipecat.sessionTtl().toSeconds())
                          .configSummary("max_live_sessions", pipecat.maxLiveSessions())
                          .configSummary("max_live_sessions_per_user", pipecat.maxLiveSessionsPerUser())
                          .configSummary("max_sessions_per_user", pipecat.maxSessionsPerUser())
                          .configSummary("max_history_per_session", pipecat.maxHistoryPerSession())
                          .configSummary("max_connections_per_ip", pipecat.maxConnectionsPerIp())
                          .configSummary("events_per_minute", pipecat.eventsPerMinute())
                          .configSummary("max_waiting_turns", pipecat.maxWaitingTurns())
                          .configSummary("ws_send_queue", pipecat.sendQueue())
                          .configSummary("ws_ping_interval_ms", pipecat.pingInterval().toMillis())
                          .configSummary("allowed_origins", String.join(",", pipecat.allowedOrigins()))
                          .configSummary("voice", voice.describe())
                          .configure(sb -> {
                              sb.service("/ws/{session_id}",
                                         socket.decorate(new WebSocketLengthGuard())
                                               .decorate(new OriginPolicy(pipecat.allowedOrigins())));
                              sb.serverListener(ServerListener.builder()
                                                              .whenStarting(s -> voiceMetrics.bind(s.meterRegistry()))
                                                              .build());
                          })
                          .closeOnStop(sweeper::shutdownNow)
                          .closeOnStop(() -> SoniaChannels.close(gateway))
                          .closeOnStop(fanout)
                          .closeOnStop(store)
                          .closeOnStop(kafka != null ? kafka : EventPublisher.NONE)
                          .build();
    }
}
