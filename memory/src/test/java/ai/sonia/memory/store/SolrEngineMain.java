package ai.sonia.memory.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import org.apache.solr.client.solrj.request.CollectionAdminRequest;
import org.apache.solr.cloud.MiniSolrCloudCluster;

/**
 * The local SolrCloud of {@code scripts/sonia up --engines ...,solr}: solr-test-framework's
 * {@link MiniSolrCloudCluster} (one node, its embedded ZooKeeper, both on free loopback ports) in this JVM, its
 * data under {@code args[0]} (owner-only, made fresh at each start: the memory replicas index the ledger again
 * into the empty collection), the collection {@code args[1]} made from the configset memory ships. Writes
 * ZooKeeper's address (with Solr's chroot) to {@code <dir>/zkhost} once the collection is active, then runs until
 * it is stopped (SIGTERM: the cluster shuts down). A development engine, on the test class path: an operator's
 * cluster runs its own SolrCloud.
 */
public final class SolrEngineMain {

    public static void main(String[] args) throws Exception {
        final Path dir = Paths.get(args[0]).toAbsolutePath();
        final String collection = args.length > 1 ? args[1] : "sonia-memory";
        final Path cloud = dir.resolve("cloud");
        if (Files.exists(cloud)) {
            try (Stream<Path> old = Files.walk(cloud)) {
                old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(dir.resolve("zkhost"));
        final Path configset = Paths.get(SolrEngineMain.class.getResource("/solr/sonia-memory/conf").toURI());
        final MiniSolrCloudCluster cluster =
                new MiniSolrCloudCluster.Builder(1, cloud).addConfig("sonia-memory", configset).build();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                cluster.shutdown();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        CollectionAdminRequest.createCollection(collection, "sonia-memory", 1, 1).process(cluster.getSolrClient());
        cluster.waitForActiveCollection(collection, 1, 1);
        final Path zkhost = dir.resolve("zkhost.tmp");
        Files.writeString(zkhost, cluster.getZkServer().getZkAddress() + '\n');
        Files.setPosixFilePermissions(zkhost, PosixFilePermissions.fromString("rw-------"));
        Files.move(zkhost, dir.resolve("zkhost"));
        System.out.println("SolrCloud up: zkHost " + cluster.getZkServer().getZkAddress() + ", collection "
                           + collection);
        stopped.await();
    }

    private SolrEngineMain() {}
}
