package ai.sonia.memory.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.solr.client.solrj.SolrQuery;
import org.apache.solr.client.solrj.request.CollectionAdminRequest;
import org.apache.solr.client.solrj.request.LukeRequest;
import org.apache.solr.client.solrj.response.LukeResponse;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.memory.MemoryConfig;

/**
 * One real SolrCloud per test JVM: Solr's {@link MiniSolrCloudCluster} (one node, in this JVM, with its embedded
 * ZooKeeper), started at first use and stopped when the JVM exits, holding the configset {@code sonia-memory}
 * from this module's resources. Each test class takes its own collection.
 */
public final class SolrTestCloud {

    private static final Logger logger = LoggerFactory.getLogger(SolrTestCloud.class);
    private static final String CONFIGSET = "sonia-memory";
    private static SolrTestCloud instance;

    private final MiniSolrCloudCluster cluster;
    private final AtomicInteger collections = new AtomicInteger();

    private SolrTestCloud(MiniSolrCloudCluster cluster) {
        this.cluster = cluster;
    }

    /** The JVM's cluster, started on first use (about 5 s here). */
    public static synchronized SolrTestCloud get() {
        if (instance == null) {
            final long start = System.nanoTime();
            try {
                // Under the JVM's temp dir (target/ in tests and benchmarks); the configset as the jar ships it.
                final Path base = Files.createTempDirectory(
                        Files.createDirectories(Paths.get(System.getProperty("java.io.tmpdir"), "solr")), "cloud");
                final Path configset = Paths.get(SolrTestCloud.class.getResource("/solr/sonia-memory/conf").toURI());
                final MiniSolrCloudCluster cluster =
                        new MiniSolrCloudCluster.Builder(1, base).addConfig(CONFIGSET, configset).build();
                instance = new SolrTestCloud(cluster);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        cluster.shutdown();
                    } catch (Exception e) {
                        logger.warn("Stopping the test SolrCloud failed", e);
                    }
                }));
            } catch (Exception e) {
                throw new IllegalStateException("the test SolrCloud did not start", e);
            }
            logger.info("Test SolrCloud up in {} ms", (System.nanoTime() - start) / 1_000_000);
        }
        return instance;
    }

    /** ZooKeeper's address with Solr's chroot, as {@code services.memory.search.solr.zkHost} takes it. */
    public String zkHost() {
        return cluster.getZkServer().getZkAddress();
    }

    /** A new, empty collection made from the configset (one shard, one replica); its name. */
    public String newCollection(String prefix) {
        final String name = prefix + '-' + collections.incrementAndGet();
        final long start = System.nanoTime();
        try {
            CollectionAdminRequest.createCollection(name, CONFIGSET, 1, 1).process(cluster.getSolrClient());
            cluster.waitForActiveCollection(name, 1, 1);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the collection " + name, e);
        }
        logger.info("Test collection {} made in {} ms", name, (System.nanoTime() - start) / 1_000_000);
        return name;
    }

    /** How many segments the collection's index has (each one an HNSW graph that a vector query searches), -1 if unknown. */
    public int segments(String collection) {
        try {
            final LukeRequest request = new LukeRequest();
            request.setNumTerms(0);
            final LukeResponse luke = request.process(cluster.getSolrClient(), collection);
            return ((Number) luke.getIndexInfo().get("segmentCount")).intValue();
        } catch (Exception e) {
            logger.warn("Cannot read the index of {}", collection, e);
            return -1;
        }
    }

    /** Merges the collection's index into one segment (Solr's optimize), waiting for it. */
    public void optimize(String collection) {
        try {
            cluster.getSolrClient().optimize(collection, true, true, 1);
        } catch (Exception e) {
            throw new IllegalStateException("cannot optimize " + collection, e);
        }
    }

    /**
     * Makes the collection refuse every write ({@code readOnly}, Solr's Collections API) or take them again: a
     * SolrCloud that answers searches but not updates, without disturbing the other collections.
     */
    public void readOnly(String collection, boolean readOnly) {
        try {
            CollectionAdminRequest.modifyCollection(collection, Map.of("readOnly", readOnly ? "true" : ""))
                                  .process(cluster.getSolrClient());
        } catch (Exception e) {
            throw new IllegalStateException("cannot change " + collection, e);
        }
    }

    /** How many documents of {@code tenant} the collection holds (committed). */
    public long count(String collection, String tenant) {
        try {
            return cluster.getSolrClient().query(collection, new SolrQuery("*:*").addFilterQuery("tenant:" + tenant)
                                                                                 .setRows(0))
                          .getResults().getNumFound();
        } catch (Exception e) {
            throw new IllegalStateException("cannot count in " + collection, e);
        }
    }

    /** The memory config's Solr section for {@code collection}: writes searchable at once. */
    public MemoryConfig.Solr config(String collection) {
        return new MemoryConfig.Solr(zkHost(), collection, 0, 5_000);
    }

    /** The {@code services.memory} JSON section that puts a memory service on {@code collection}. */
    public String memorySection(String collection) {
        return "{\"search\":{\"engine\":\"solr\",\"solr\":{\"zkHost\":\"" + zkHost() + "\",\"collection\":\""
               + collection + "\",\"commitWithinMs\":0}}}";
    }
}
