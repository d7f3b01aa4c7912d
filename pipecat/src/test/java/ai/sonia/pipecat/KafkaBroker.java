package ai.sonia.pipecat;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import ai.sonia.runtime.testing.FreePorts;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * One real Kafka node in this JVM, broker and controller in KRaft mode, on free loopback ports and a log
 * directory under {@code target/}: formatted when made, then started, stopped and started again on the same
 * ports and directory as often as a test likes.
 */
final class KafkaBroker implements AutoCloseable {

    private final KafkaConfig config;
    private final int port;
    private KafkaRaftServer server;

    KafkaBroker(Path dir) throws Exception {
        Files.createDirectories(dir);
        final Path logs = Files.createTempDirectory(dir, "kafka-");
        // Picked below the ephemeral range (FreePorts): the service is told the broker's address before the broker
        // binds it, and the broker comes back on the same ports after a stop.
        port = FreePorts.pick();
        final int controllerPort = FreePorts.pick();
        final Properties props = new Properties();
        props.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", "1"),
                Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("log.dirs", logs.toString()),
                // One node: every internal topic has one replica, or consumers and producers wait for ever.
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("num.partitions", "2")));
        config = KafkaConfig.fromProps(props, false);
        new Formatter().setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
                       .setNodeId(1).setClusterId(Uuid.randomUuid().toString())
                       .setControllerListenerName("CONTROLLER").setMetadataLogDirectory(logs.toString())
                       .setDirectories(List.of(logs.toString()))
                       .setReleaseVersion(MetadataVersion.latestProduction()).run();
    }

    /** host:port of the broker's listener. */
    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Starts the node (again), on the same ports and log directory. */
    synchronized void start() {
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
    }

    /** Stops the node; its log directory stays. */
    synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
